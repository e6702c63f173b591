/**
 * How the machines read Graph's answers: resultInfo in any spelling it
 * arrives in, the documented codes that name an end or a completion reason,
 * and which keepAlive errors no retry can fix. Pure: no adapter, no Node API.
 * Sources: graph-calls-api.md and notes/graph-call-setup.md section 6.
 */
import { type ErrorJson, fieldsOf, type ResultInfoJson } from './types.js';

/** A number, or an integer as a string (`"8537"`), as Graph sends codes; anything else is no code. */
function codeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,12}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/**
 * Graph's resultInfo as plain `{ code, subcode, message }`: codes as numbers or
 * numeric strings, the subcode spelled `subcode` or `subCode` (both seen in the
 * field). Other keys are dropped. Null when there is nothing to read.
 */
export function readResultInfo(raw: unknown): ResultInfoJson | null {
  const r = fieldsOf(raw);
  if (!r) return null;
  const out: ResultInfoJson = {};
  const code = codeOf(r.get('code'));
  const subcode = codeOf(r.get('subcode')) ?? codeOf(r.get('subCode'));
  const message = r.get('message');
  if (code !== undefined) out.code = code;
  if (subcode !== undefined) out.subcode = subcode;
  if (typeof message === 'string') out.message = message;
  return Object.keys(out).length ? out : null;
}

const is = (info: ResultInfoJson | null | undefined, code: number, subcode: number) =>
  info?.code === code && info.subcode === subcode;

/** 408/8537: Graph ended the call because no keepAlive succeeded within 45 minutes. */
export function isKeepAliveTimeout(info: ResultInfoJson | null | undefined): boolean {
  return is(info, 408, 8537);
}

/** 200/7000 or 200/10550: Graph says the bot ended the call (answers our DELETE). */
export function isEndedByBot(info: ResultInfoJson | null | undefined): boolean {
  return is(info, 200, 7000) || is(info, 200, 10550);
}

/**
 * A record completion reason from the documented record subcodes, for
 * completions that carry resultInfo but no completionReason (v1.0's schema
 * has none). Only these two pairs are documented; any other gives null.
 */
export function completionReasonFromResult(info: ResultInfoJson | null | undefined): string | null {
  if (is(info, 200, 8515)) return 'maxRecordDurationReached';
  if (is(info, 400, 8508)) return 'operationCanceled';
  return null;
}

/**
 * A keepAlive error that asking again cannot fix: a 4xx other than 404 (the
 * call is gone), 408 (timeout) and 429 (throttled). 400: Graph refuses the
 * request itself. 401: reaches the machine only after the HTTP adapter
 * refreshed the token once and retried. 403: the app lost its permission.
 */
/** 480 (no callee endpoints 10037, could not be reached 10076, cannot route 10134, ...): a placed call found nobody. */
export function isUnreachable(info: ResultInfoJson | null | undefined): boolean {
  return info?.code === 480;
}

/** 408 on a placed call that never got established (408/10057: no signalling from the callee). */
export function isNotAnswered(info: ResultInfoJson | null | undefined): boolean {
  return info?.code === 408;
}

/** 400/8508, or a canceled completionReason: cancelMediaProcessing ended the operation. */
export function isCanceled(
  info: ResultInfoJson | null | undefined,
  completionReason?: string | null,
): boolean {
  return (
    is(info, 400, 8508) ||
    completionReason === 'operationCanceled' ||
    completionReason === 'mediaOperationCanceled'
  );
}

export function isRefusal(err: ErrorJson): boolean {
  const s = err.status;
  return typeof s === 'number' && s >= 400 && s < 500 && s !== 404 && s !== 408 && s !== 429;
}
