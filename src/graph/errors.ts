/**
 * One error type for everything that goes wrong talking to Graph or to the
 * recording host. Branch on `status` and `code`, never on `message`. It never
 * carries a token: the message is built from status, code and Graph's own
 * message only, and headers are not kept.
 */
import { z } from 'zod';

export type GraphErrorKind =
  /** Graph answered with a non-2xx status. */
  | 'http'
  /** The connection failed, was reset, or timed out. */
  | 'network'
  | 'timeout'
  /** The response did not match the expected schema. */
  | 'invalidResponse'
  /** Our own input was rejected before any request (e.g. record options). */
  | 'invalidRequest'
  /** A recordingLocation not on the download allowlist. */
  | 'forbiddenHost'
  /** The TokenProvider could not produce an app token (code `tokenUnavailable`). */
  | 'auth'
  | 'aborted';

export interface GraphErrorInit {
  kind: GraphErrorKind;
  status?: number;
  code?: string;
  message: string;
  requestId?: string;
  clientRequestId?: string;
  retryAfterMs?: number;
  attempts?: number;
  operation?: string;
  cause?: unknown;
}

export class GraphError extends Error {
  override readonly name = 'GraphError';
  readonly kind: GraphErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number;
  readonly operation: string | undefined;

  constructor(init: GraphErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: scrubCause(init.cause) });
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.clientRequestId = init.clientRequestId;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts ?? 1;
    this.operation = init.operation;
  }

  /** 404: the call (or recording) is gone. */
  get isNotFound(): boolean {
    return this.status === 404;
  }

  /**
   * Worth another try later: 408, 429, 5xx, network errors, timeouts, and a
   * token that could not be fetched (the identity service may be down briefly).
   */
  get isTransient(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout' || this.kind === 'auth') return true;
    const s = this.status ?? 0;
    return s === 408 || s === 429 || s >= 500;
  }

  /** Plain JSON, safe for logs and persisted snapshots. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      status: this.status,
      code: this.code,
      message: this.message,
      requestId: this.requestId,
      clientRequestId: this.clientRequestId,
      retryAfterMs: this.retryAfterMs,
      attempts: this.attempts,
      operation: this.operation,
    };
  }
}

// A low-level cause (undici error) may quote request options; keep only its name, code and message.
function scrubCause(cause: unknown): unknown {
  if (cause instanceof Error) {
    const c = cause as Error & { code?: string };
    return { name: c.name, code: c.code, message: redact(c.message) };
  }
  return undefined;
}

/** Remove anything that looks like a bearer token or JWT from free text. */
export function redact(text: string): string {
  return text
    .replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]')
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted-jwt]');
}

// ---------- Graph's error body ----------

const InnerErrorSchema = z.record(z.string(), z.unknown());

/** `{ error: { code, message, innerError | innererror } }`; codes may be numeric strings. */
export const GraphErrorBodySchema = z
  .object({
    error: z
      .object({
        code: z.union([z.string(), z.number().transform(String)]),
        message: z.string().optional().default(''),
        innerError: InnerErrorSchema.optional(),
        innererror: InnerErrorSchema.optional(),
      })
      .loose(),
  })
  .loose();
export type GraphErrorBody = z.output<typeof GraphErrorBodySchema>;
