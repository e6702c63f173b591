/** Plain-JSON shapes shared by the machines and the runtime that provides their actors. */

/** An error as it sits in machine context: no stack, no token. */
export interface ErrorJson {
  kind?: string;
  status?: number;
  code?: string;
  message?: string;
  retryAfterMs?: number;
  at?: number;
  /** Graph's `request-id` and our `client-request-id` of the failed request (for support tickets). */
  requestId?: string;
  clientRequestId?: string;
  [key: string]: unknown;
}

export interface ResultInfoJson {
  code?: number;
  subcode?: number;
  message?: string | null;
}

/**
 * A record operation reached its end (from a notification, or from the POST's
 * own answer). The runtime keeps the recordingAccessToken outside the machine
 * and says only whether a clip can be fetched.
 */
export interface Completion {
  type: 'OPERATION_COMPLETED';
  at: number;
  operationId: string;
  clientContext?: string | null;
  status: string;
  completionReason?: string | null;
  resultInfo?: ResultInfoJson | null;
  recordingLocation?: string | null;
  hasRecording: boolean;
}

/**
 * The type parameter of XState's `setup({ types })`: only its type matters.
 * An overload keeps the machines free of `as` casts.
 */
export function phantom<T>(): T;
export function phantom(): unknown {
  return {};
}

/** The own enumerable fields of a plain object, or null for anything else. */
export function fieldsOf(v: unknown): Map<string, unknown> | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  return new Map(Object.entries(v));
}

const TEXT_KEYS = ['kind', 'code', 'message', 'name', 'requestId', 'clientRequestId'];
const NUMBER_KEYS = ['status', 'retryAfterMs', 'at'];

/** Read an actor's rejection as ErrorJson (the runtime throws plain JSON). */
export function asErrorJson(error: unknown): ErrorJson {
  const fields = fieldsOf(error);
  if (fields) {
    const out: ErrorJson = {};
    for (const k of TEXT_KEYS) {
      const v = fields.get(k);
      if (typeof v === 'string') out[k] = v;
    }
    for (const k of NUMBER_KEYS) {
      const v = fields.get(k);
      if (typeof v === 'number') out[k] = v;
    }
    if (Object.keys(out).length) return { kind: 'error', ...out };
  }
  return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}

export function normalizeOpId(id: string | null | undefined): string {
  return (id ?? '').replace(/-/g, '').toLowerCase();
}

/** The time an actor's answer or error carries, never earlier than `now`. */
export function timeOf(now: number, value: unknown): number {
  const at = fieldsOf(value)?.get('at');
  return typeof at === 'number' ? Math.max(now, at) : now;
}
