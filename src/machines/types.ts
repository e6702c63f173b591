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

/** Read an actor's rejection as ErrorJson (the runtime throws plain JSON). */
export function asErrorJson(error: unknown): ErrorJson {
  if (error && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    const out: ErrorJson = {};
    for (const k of ['kind', 'code', 'message', 'name', 'requestId', 'clientRequestId'] as const)
      if (typeof e[k] === 'string') out[k] = e[k] as string;
    for (const k of ['status', 'retryAfterMs', 'at'] as const)
      if (typeof e[k] === 'number') out[k] = e[k] as number;
    if (Object.keys(out).length) return { kind: 'error', ...out };
  }
  return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}

export function normalizeOpId(id: string | null | undefined): string {
  return (id ?? '').replace(/-/g, '').toLowerCase();
}
