/**
 * Graph error mapping: a non-2xx answer's body read for Graph's error code
 * (branch on status and code, never on message), and the final Outcome of a
 * request turned into a typed GraphError. Messages are redacted: a server
 * that echoes a bearer token never gets it into an error.
 */
import { GraphError, GraphErrorBodySchema, redact } from '../../graph/errors.js';
import type { Outcome } from './attempt.js';

export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Response headers with one string per name (repeated headers joined with `, `). */
export function flattenHeaders(
  h: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  // undici already gives lower-case names; only repeated headers need joining.
  let out: Record<string, string | string[] | undefined> | undefined;
  for (const k in h) {
    const v = h[k];
    if (Array.isArray(v)) {
      out ??= { ...h };
      out[k] = v.join(', ');
    }
  }
  return (out ?? h) as Record<string, string | undefined>;
}

/** A non-2xx answer as an Outcome, with Graph's code, message and inner request-id when the body has them. */
export function errorOutcome(
  status: number,
  statusText: string,
  headers: Record<string, string | undefined>,
  text: string | undefined,
): Outcome {
  const parsed = GraphErrorBodySchema.safeParse(parseJson(text));
  if (!parsed.success) return { type: 'status', status, statusText, headers };
  const inner = parsed.data.error.innerError ?? parsed.data.error.innererror;
  const innerRequestId = inner?.['request-id'] ?? inner?.requestId;
  return {
    type: 'status',
    status,
    statusText,
    headers,
    code: parsed.data.error.code,
    message: parsed.data.error.message.slice(0, 500),
    innerRequestId: typeof innerRequestId === 'string' ? innerRequestId : undefined,
  };
}

export interface FailureContext {
  operation: string;
  clientRequestId: string;
  attempts: number;
  /** Retry-After of the last answer, in ms. */
  retryAfterMs?: number;
}

/** The GraphError for a request whose last attempt ended in `outcome` (anything but `ok`). */
export function toGraphError(outcome: Exclude<Outcome, { type: 'ok' }>, ctx: FailureContext): GraphError {
  const { operation, clientRequestId, attempts } = ctx;
  if (outcome.type === 'status') {
    const detail = outcome.code
      ? `${outcome.code}${outcome.message ? `: ${outcome.message}` : ''}`
      : outcome.statusText;
    return new GraphError({
      kind: 'http',
      status: outcome.status,
      code: outcome.code,
      message: redact(`${operation}: ${outcome.status}${detail ? ` ${detail}` : ''}`),
      requestId: outcome.headers['request-id'] ?? outcome.innerRequestId,
      clientRequestId,
      retryAfterMs: ctx.retryAfterMs,
      attempts,
      operation,
    });
  }
  return new GraphError({
    kind: outcome.kind,
    code: outcome.kind === 'aborted' ? undefined : outcome.code,
    message: `${operation}: ${outcome.message}`,
    clientRequestId,
    attempts,
    operation,
  });
}

export function abortedError(operation: string, clientRequestId: string, attempts: number): GraphError {
  return new GraphError({
    kind: 'aborted',
    message: `${operation}: aborted`,
    clientRequestId,
    attempts,
    operation,
  });
}
