/**
 * Call setup and media requests of the Graph client: answer, reject,
 * redirect, place a call, playPrompt, subscribeToTone. Each body is checked
 * against its strict schema before any request (a typed GraphError
 * `invalidRequest` naming the field). The POSTs that start something (all
 * but subscribeToTone) are not idempotent, so they are retried only when
 * Graph surely did not process them, as `record` is.
 */
import type { HttpAdapter, HttpResponse } from '../ports/http.js';
import {
  type AnswerInput,
  AnswerRequestSchema,
  type PlaceCallInput,
  PlaceCallRequestSchema,
  type PlayPromptInput,
  PlayPromptRequestSchema,
  type RedirectInput,
  RedirectRequestSchema,
  type RejectInput,
  RejectRequestSchema,
  type SubscribeToToneInput,
  SubscribeToToneRequestSchema,
} from './call-requests.js';
import {
  type CallResource,
  CallResourceSchema,
  type PlayPromptOperation,
  PlayPromptOperationSchema,
  type SubscribeToToneOperation,
  SubscribeToToneOperationSchema,
} from './call-resources.js';
import { GraphError } from './errors.js';

interface Parser {
  safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: Issue[] } };
}
interface Issue {
  path: PropertyKey[];
  message: string;
}

export interface CallApiContext {
  http: HttpAdapter;
  version: 'v1.0' | 'beta';
  /** `{base}/communications/calls/{id}{tail}`; without an id, the calls collection. */
  callUrl(callId: string, tail?: string): string;
  callsUrl: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  maxAttempts?: number;
}

/** What a request that started an operation returns. */
export interface Started<T> {
  operation: T;
  /** The `Location` header: the operation's URL. */
  location: string | undefined;
  requestId: string | undefined;
  clientRequestId: string;
}

export interface PlacedCall {
  call: CallResource & { id: string };
  location: string | undefined;
  requestId: string | undefined;
  clientRequestId: string;
}

/** Parse a request body; a GraphError (kind invalidRequest) naming the first bad field otherwise. */
export function buildRequest<T>(schema: Parser, input: unknown, operation: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data as T;
  const first = r.error.issues[0];
  throw new GraphError({
    kind: 'invalidRequest',
    code: `invalid${operation.charAt(0).toUpperCase()}${operation.slice(1)}Request`,
    message: `invalid ${operation} request: ${first?.path.map(String).join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
    operation,
  });
}

function betaOnly(version: string, operation: string, fields: Record<string, unknown>) {
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined && version !== 'beta')
      throw new GraphError({
        kind: 'invalidRequest',
        code: `invalid${operation.charAt(0).toUpperCase()}${operation.slice(1)}Request`,
        message: `invalid ${operation} request: ${name}: only Graph beta has it`,
        operation,
      });
}

function readBody<T>(schema: Parser, res: HttpResponse, operation: string): T {
  const r = schema.safeParse(res.json);
  if (r.success) return r.data as T;
  throw new GraphError({
    kind: 'invalidResponse',
    status: res.status,
    message: `${operation}: unexpected response body`,
    requestId: res.requestId,
    clientRequestId: res.clientRequestId,
    operation,
  });
}

export function createCallApi(ctx: CallApiContext) {
  const { http } = ctx;

  async function post(
    callId: string | undefined,
    tail: string,
    body: unknown,
    operation: string,
    opts: RequestOptions,
    idempotent = false,
  ) {
    return http.request({
      method: 'POST',
      url: callId === undefined ? ctx.callsUrl : ctx.callUrl(callId, tail),
      auth: 'app',
      body,
      operation,
      retry: idempotent ? 'always' : 'ifNotProcessed',
      maxAttempts: opts.maxAttempts,
      signal: opts.signal,
    });
  }

  return {
    /** Answer an offered call (202). Then come `establishing` and `established`, in either order. */
    async answer(callId: string, input: AnswerInput = {}, opts: RequestOptions = {}): Promise<void> {
      const body = buildRequest(AnswerRequestSchema, input, 'answer');
      await post(callId, '/answer', body, 'answer', opts);
    },

    /** Reject an offered call that was not answered (202); a `deleted` notification follows. */
    async reject(callId: string, input: RejectInput = {}, opts: RequestOptions = {}): Promise<void> {
      const body = buildRequest(RejectRequestSchema, input, 'reject');
      await post(callId, '/reject', body, 'reject', opts);
    },

    /** Hand an unanswered call to 1..25 targets (202); the bot's leg then ends. */
    async redirect(callId: string, input: RedirectInput, opts: RequestOptions = {}): Promise<void> {
      const body = buildRequest<RedirectInput>(RedirectRequestSchema, input, 'redirect');
      betaOnly(ctx.version, 'redirect', { maskCallee: body.maskCallee, maskCaller: body.maskCaller });
      await post(callId, '/redirect', body, 'redirect', opts);
    },

    /** Place an outgoing call: 201 + Location + the call in `establishing`. */
    async placeCall(input: PlaceCallInput, opts: RequestOptions = {}): Promise<PlacedCall> {
      const body = buildRequest<{ ringingTimeoutInSeconds?: number }>(
        PlaceCallRequestSchema,
        input,
        'placeCall',
      );
      const res = await post(undefined, '', body, 'placeCall', opts);
      const call = readBody<CallResource>(CallResourceSchema, res, 'placeCall');
      if (!call.id)
        throw new GraphError({
          kind: 'invalidResponse',
          status: res.status,
          message: 'placeCall: the call has no id',
          requestId: res.requestId,
          clientRequestId: res.clientRequestId,
          operation: 'placeCall',
        });
      return {
        call: call as CallResource & { id: string },
        location: res.headers.location,
        requestId: res.requestId,
        clientRequestId: res.clientRequestId,
      };
    },

    /** Play 1..20 prompts: 200 + Location + a running playPromptOperation; a `deleted` notification ends it. */
    async playPrompt(
      callId: string,
      input: PlayPromptInput,
      opts: RequestOptions = {},
    ): Promise<Started<PlayPromptOperation>> {
      const body = buildRequest<PlayPromptInput>(PlayPromptRequestSchema, input, 'playPrompt');
      betaOnly(ctx.version, 'playPrompt', { loop: body.loop });
      const res = await post(callId, '/playPrompt', body, 'playPrompt', opts);
      return {
        operation: readBody<PlayPromptOperation>(PlayPromptOperationSchema, res, 'playPrompt'),
        location: res.headers.location,
        requestId: res.requestId,
        clientRequestId: res.clientRequestId,
      };
    },

    /**
     * Ask for key presses (200, the operation already `completed`, no
     * notification for it); each press is then a call `updated` with toneInfo.
     * Subscribing twice changes nothing, so it is retried like any idempotent request.
     */
    async subscribeToTone(
      callId: string,
      input: SubscribeToToneInput = {},
      opts: RequestOptions = {},
    ): Promise<Started<SubscribeToToneOperation>> {
      const body = buildRequest(SubscribeToToneRequestSchema, input, 'subscribeToTone');
      const res = await post(callId, '/subscribeToTone', body, 'subscribeToTone', opts, true);
      return {
        operation: readBody<SubscribeToToneOperation>(SubscribeToToneOperationSchema, res, 'subscribeToTone'),
        location: res.headers.location,
        requestId: res.requestId,
        clientRequestId: res.clientRequestId,
      };
    },
  };
}
