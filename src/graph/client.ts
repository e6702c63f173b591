/**
 * The Graph calls API as typed functions over an HttpAdapter. Each function
 * knows its path, its retry mode, and the schema of its answer; transport
 * concerns (tokens, retries, timeouts) stay in the adapter.
 */
import type { Readable } from 'node:stream';
import { checkGraphClientOptions } from '../options/adapters.js';
import type { HttpAdapter, HttpResponse } from '../ports/http.js';
import { createCallApi } from './call-client.js';
import { GraphError } from './errors.js';
import { DEFAULT_LIMITS, type RecordLimits } from './limits.js';
import {
  type Call,
  CallSchema,
  type CommsOperation,
  CommsOperationSchema,
  type RecordOperation,
  RecordOperationSchema,
  type RecordOptions,
  type RecordOptionsInput,
  recordOptionsSchema,
} from './schemas.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';

export interface GraphClientOptions {
  http: HttpAdapter;
  /** Graph base URL including the version, e.g. `https://graph.microsoft.com/beta`. */
  graphUrl?: string;
  limits?: RecordLimits;
  /**
   * Hosts (`host` or `host:port`) from which a recording may be downloaded over
   * plain http, for tests against the emulator. Every other recordingLocation
   * must be https.
   */
  insecureRecordingHosts?: string[];
  /** When set, only these hosts (or https hosts matching the predicate) may serve recordings. */
  recordingHosts?: string[] | ((host: string) => boolean);
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Attempts including the first (the call machine sets 1 and retries itself). */
  maxAttempts?: number;
}

export interface RecordStarted {
  operation: RecordOperation;
  /** The `Location` header: the operation's URL. */
  location: string | undefined;
  requestId: string | undefined;
  clientRequestId: string;
}

export interface Download {
  body: Readable;
  contentLength: number | undefined;
  contentType: string | undefined;
}

export type GraphClient = ReturnType<typeof createGraphClient>;

export function graphVersion(graphUrl: string): 'v1.0' | 'beta' {
  return /\/beta\/?$/i.test(new URL(graphUrl).pathname) ? 'beta' : 'v1.0';
}

export function createGraphClient(options: GraphClientOptions) {
  checkGraphClientOptions(options); // OptionsError before any request
  const { http } = options;
  const base = (options.graphUrl ?? DEFAULT_GRAPH_URL).replace(/\/+$/, '');
  const version = graphVersion(base);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const recordSchema = recordOptionsSchema(limits);
  const insecure = new Set((options.insecureRecordingHosts ?? []).map((h) => h.toLowerCase()));
  const callUrl = (callId: string, tail = '') =>
    `${base}/communications/calls/${encodeURIComponent(callId)}${tail}`;

  function parse<T>(
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
    res: HttpResponse,
    op: string,
  ) {
    const parsed = schema.safeParse(res.json);
    if (!parsed.success) {
      throw new GraphError({
        kind: 'invalidResponse',
        status: res.status,
        message: `${op}: unexpected response body`,
        requestId: res.requestId,
        clientRequestId: res.clientRequestId,
        operation: op,
      });
    }
    return parsed.data as T;
  }

  /** Validate record options against the configured limits; throws GraphError(kind invalidRequest). */
  function validateRecordOptions(input: RecordOptionsInput): RecordOptions {
    const r = recordSchema.safeParse(input);
    if (!r.success) {
      const first = r.error.issues[0];
      throw new GraphError({
        kind: 'invalidRequest',
        code: 'invalidRecordOptions',
        message: `invalid record options: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
        operation: 'record',
        cause: r.error,
      });
    }
    return r.data;
  }

  function checkRecordingLocation(location: string): URL {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new GraphError({
        kind: 'forbiddenHost',
        message: 'recordingLocation is not a URL',
        operation: 'download',
      });
    }
    const host = url.host.toLowerCase();
    const allowedInsecure = url.protocol === 'http:' && (insecure.has(host) || insecure.has(url.hostname));
    if (url.protocol !== 'https:' && !allowedInsecure) {
      throw new GraphError({
        kind: 'forbiddenHost',
        message:
          `recordingLocation must be https: host ${url.host} is not in \`insecureRecordingHosts\`` +
          ' (list the emulator there, e.g. insecureRecordingHosts: [emulator.recordingHost])',
        operation: 'download',
      });
    }
    const allow = options.recordingHosts;
    if (allow && !allowedInsecure) {
      const ok = typeof allow === 'function' ? allow(host) : allow.some((h) => h.toLowerCase() === host);
      if (!ok)
        throw new GraphError({
          kind: 'forbiddenHost',
          message: `recordingLocation host ${url.hostname} is not allowed`,
          operation: 'download',
        });
    }
    return url;
  }

  return {
    // answer, reject, redirect, placeCall, playPrompt, subscribeToTone
    ...createCallApi({ http, version, callUrl, callsUrl: `${base}/communications/calls` }),
    version,
    graphUrl: base,
    limits,
    validateRecordOptions,
    checkRecordingLocation,

    /** POST keepAlive; resolves on 200, rejects with GraphError (404: the call is gone). */
    keepAlive(callId: string, opts: CallOptions = {}): Promise<void> {
      // Not `async`: the hottest request skips an async frame and its extra promise turn.
      let url: string;
      try {
        url = callUrl(callId, '/keepAlive');
      } catch (err) {
        return Promise.reject(err);
      }
      return http
        .request({
          method: 'POST',
          url,
          auth: 'app',
          operation: 'keepAlive',
          retry: 'always',
          maxAttempts: opts.maxAttempts,
          signal: opts.signal,
        })
        .then(toVoid);
    },

    /** Start a recording: `record` on beta, `recordResponse` on v1.0. Options are validated first. */
    async record(callId: string, input: RecordOptionsInput, opts: CallOptions = {}): Promise<RecordStarted> {
      const body = validateRecordOptions(input);
      const res = await http.request({
        method: 'POST',
        url: callUrl(callId, version === 'beta' ? '/record' : '/recordResponse'),
        auth: 'app',
        body,
        operation: 'record',
        retry: 'ifNotProcessed',
        maxAttempts: opts.maxAttempts,
        signal: opts.signal,
      });
      return {
        operation: parse<RecordOperation>(RecordOperationSchema, res, 'record'),
        location: res.headers.location,
        requestId: res.requestId,
        clientRequestId: res.clientRequestId,
      };
    },

    async cancelMediaProcessing(callId: string, clientContext?: string, opts: CallOptions = {}) {
      const res = await http.request({
        method: 'POST',
        url: callUrl(callId, '/cancelMediaProcessing'),
        auth: 'app',
        body: clientContext === undefined ? {} : { clientContext },
        operation: 'cancelMediaProcessing',
        retry: 'always',
        maxAttempts: opts.maxAttempts,
        signal: opts.signal,
      });
      return parse<CommsOperation>(CommsOperationSchema, res, 'cancelMediaProcessing');
    },

    /** DELETE the call (204). */
    async hangUp(callId: string, opts: CallOptions = {}): Promise<void> {
      await http.request({
        method: 'DELETE',
        url: callUrl(callId),
        auth: 'app',
        operation: 'hangUp',
        retry: 'always',
        maxAttempts: opts.maxAttempts,
        signal: opts.signal,
      });
    },

    async getCall(callId: string, opts: CallOptions = {}): Promise<Call> {
      const res = await http.request({
        method: 'GET',
        url: callUrl(callId),
        auth: 'app',
        operation: 'getCall',
        retry: 'always',
        maxAttempts: opts.maxAttempts,
        signal: opts.signal,
      });
      return parse<Call>(CallSchema, res, 'getCall');
    },

    /**
     * GET the clip with the recordingAccessToken (never the app token), only
     * from an allowed location. The body is a stream: pipe it, never buffer it.
     */
    async downloadRecording(
      location: string,
      accessToken: string,
      opts: CallOptions = {},
    ): Promise<Download> {
      const url = checkRecordingLocation(location);
      if (!accessToken)
        throw new GraphError({
          kind: 'invalidRequest',
          message: 'recordingAccessToken is empty',
          operation: 'download',
        });
      const res = await http.request({
        method: 'GET',
        url: url.toString(),
        auth: { bearer: accessToken },
        operation: 'downloadRecording',
        retry: 'always',
        stream: true,
        maxAttempts: opts.maxAttempts,
        signal: opts.signal,
      });
      if (!res.body)
        throw new GraphError({
          kind: 'invalidResponse',
          message: 'download has no body',
          operation: 'download',
        });
      const len = Number(res.headers['content-length']);
      return {
        body: res.body,
        contentLength: Number.isFinite(len) ? len : undefined,
        contentType: res.headers['content-type'],
      };
    },
  };
}

function toVoid(): void {}
