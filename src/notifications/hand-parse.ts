/**
 * The hand-written parse of the commsNotifications shapes Graph actually
 * sends, for the hot path: what `CommsNotificationsSchema.safeParse(json)`
 * would return on success (same values, same keys in the same order), or
 * undefined, meaning "ask zod" — for anything unusual and for every error, so
 * zod stays the one judge of what is refused and how it is worded. zod runs
 * a generic interpreter per field; this is about ten times cheaper.
 *
 * It mirrors src/graph/schemas.ts (commsNotifications, resourceData members,
 * resultInfo): a change there must change this file too. A property test
 * (test/notifications/hand-parse.test.ts) compares both on generated bodies and
 * items. The webhook reads item by item (fastCommsNotification per item of a
 * sound envelope), so one odd item sends only itself to zod.
 * Input is JSON.parse output already checked for forbidden keys.
 */
import {
  CALL_STATES,
  CHANGE_TYPES,
  COMPLETION_REASONS,
  type CommsNotification,
  type CommsNotifications,
  OPERATION_STATUSES,
} from '../graph/schemas.js';

type Obj = Record<string, unknown>;

const CALL_TYPE = '#microsoft.graph.call';
const RECORD_TYPE = '#microsoft.graph.recordOperation';
const CALL_LOWER = CALL_TYPE.toLowerCase();
const RECORD_LOWER = RECORD_TYPE.toLowerCase();

/** Lower-case spelling -> canonical, as schemas.ts's `canonical`. */
const lookup = (known: readonly string[]) => new Map(known.map((k) => [k.toLowerCase(), k]));
const STATES = lookup(CALL_STATES);
const STATUSES = lookup(OPERATION_STATUSES);
const REASONS = lookup(COMPLETION_REASONS);
const CHANGES = lookup(CHANGE_TYPES);
const canon = (known: Map<string, string>, v: string) => known.get(v.toLowerCase()) ?? v;

const INTEGER = /^-?\d+$/;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Shape keys of each object, in schema order (zod writes them first, then the rest in input order). */
const ENVELOPE_KEYS = ['@odata.type', 'value'];
const NOTIFICATION_KEYS = ['@odata.type', 'changeType', 'resourceUrl', 'resource', 'resourceData'];
const RESULT_KEYS = ['code', 'subcode', 'subCode', 'message'];
const CALL_KEYS = ['@odata.type', 'id', 'state', 'resultInfo', 'callbackUri'];
const RECORD_KEYS = [
  '@odata.type',
  'id',
  'clientContext',
  'status',
  'resultInfo',
  'recordingLocation',
  'recordingAccessToken',
  'recordResourceLocation',
  'recordResourceAccessToken',
  'completionReason',
];
const OPERATION_KEYS = ['@odata.type', 'id', 'clientContext', 'status', 'resultInfo'];
const UNKNOWN_KEYS = ['@odata.type'];

/** Copies the keys of `input` not in `shape` onto `out`, in input order; false on a key we never copy. */
function copyRest(input: Obj, shape: readonly string[], out: Obj): boolean {
  for (const key of Object.keys(input)) {
    if (shape.includes(key)) continue;
    // checkKeys refused it already; never assign it, whatever calls this.
    if (key === '__proto__') return false;
    out[key] = input[key];
  }
  return true;
}

/** Marker for "not a shape this file reads": the caller hands the body to zod. */
const DEFER = Symbol('defer');
type Field = unknown | typeof DEFER;

/** `z.string().min(1).max(256)`. */
const id = (v: unknown): Field => (typeof v === 'string' && v.length >= 1 && v.length <= 256 ? v : DEFER);
/** `z.string().nullish()`. */
const text = (v: unknown): Field => (v === null || typeof v === 'string' ? v : DEFER);
/** `z.preprocess(emptyToNull, z.string().nullish())`. */
const optionalText = (v: unknown): Field =>
  v === '' || v === null ? null : typeof v === 'string' ? v : DEFER;
/** `z.string().transform(canonical(...))` for states, statuses and completion reasons. */
const state = (v: unknown): Field => (typeof v === 'string' ? canon(STATES, v) : DEFER);
const status = (v: unknown): Field => (typeof v === 'string' ? canon(STATUSES, v) : DEFER);
const reason = (v: unknown): Field =>
  v === '' || v === null ? null : typeof v === 'string' ? canon(REASONS, v) : DEFER;
const string = (v: unknown): Field => (typeof v === 'string' ? v : DEFER);
/** NumberLike: a number, or an integer string as a number. */
// JSON.parse turns 1e400 into Infinity, which z.number() refuses, and a string of 400 digits
// would become Infinity too; the schema refuses both (strings must be safe integers): let zod say so.
function numberLike(v: unknown): Field {
  if (typeof v === 'number') return Number.isFinite(v) ? v : DEFER;
  if (typeof v !== 'string' || !INTEGER.test(v)) return DEFER;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : DEFER;
}

/** ResultInfoSchema.nullish(). */
function resultInfo(v: unknown): Field {
  if (v === null) return null;
  if (!isObject(v)) return DEFER;
  const out: Obj = {};
  const ok =
    field(v, out, 'code', numberLike) &&
    field(v, out, 'subcode', numberLike) &&
    field(v, out, 'subCode', numberLike) &&
    field(v, out, 'message', text) &&
    copyRest(v, RESULT_KEYS, out);
  return ok ? out : DEFER;
}

/** Sets `out[key] = read(input[key])` when the key is present; false when `read` defers. */
function field(input: Obj, out: Obj, key: string, read: (v: unknown) => Field): boolean {
  if (!(key in input)) return true;
  const v = read(input[key]);
  if (v === DEFER) return false;
  out[key] = v;
  return true;
}

function call(r: Obj): Obj | undefined {
  const out: Obj = { '@odata.type': CALL_TYPE };
  const ok =
    field(r, out, 'id', id) &&
    field(r, out, 'state', state) &&
    field(r, out, 'resultInfo', resultInfo) &&
    field(r, out, 'callbackUri', text) &&
    copyRest(r, CALL_KEYS, out);
  return ok ? { kind: 'call', data: out } : undefined;
}

function recordOperation(r: Obj): Obj | undefined {
  if (!('id' in r) || !('status' in r)) return undefined;
  const op: Obj = { '@odata.type': RECORD_TYPE };
  const legacy: Obj = {};
  const ok =
    field(r, op, 'id', id) &&
    field(r, op, 'clientContext', text) &&
    field(r, op, 'status', status) &&
    field(r, op, 'resultInfo', resultInfo) &&
    field(r, op, 'recordingLocation', optionalText) &&
    field(r, op, 'recordingAccessToken', optionalText) &&
    field(r, legacy, 'recordResourceLocation', optionalText) &&
    field(r, legacy, 'recordResourceAccessToken', optionalText) &&
    field(r, op, 'completionReason', reason) &&
    copyRest(r, RECORD_KEYS, op);
  if (!ok) return undefined;
  // The schema's transform: current names win, legacy ones fill in, null otherwise.
  op.recordingLocation = op.recordingLocation ?? legacy.recordResourceLocation ?? null;
  op.recordingAccessToken = op.recordingAccessToken ?? legacy.recordResourceAccessToken ?? null;
  return { kind: 'recordOperation', data: op };
}

function commsOperation(r: Obj, type: string): Obj | undefined {
  if (!('id' in r) || !('status' in r)) return undefined;
  const out: Obj = { '@odata.type': type };
  const ok =
    field(r, out, 'id', id) &&
    field(r, out, 'clientContext', text) &&
    field(r, out, 'status', status) &&
    field(r, out, 'resultInfo', resultInfo) &&
    copyRest(r, OPERATION_KEYS, out);
  return ok ? { kind: 'commsOperation', data: out } : undefined;
}

/** One resourceData item, chosen by `@odata.type` as ResourceDataSchema does. */
function resource(r: unknown): Obj | undefined {
  if (!isObject(r)) return undefined;
  const type = r['@odata.type'];
  if (typeof type !== 'string' || type.length > 256) return undefined;
  if (type === CALL_TYPE) return call(r);
  if (type === RECORD_TYPE) return recordOperation(r);
  // Known types in other letter case are read as the known type (its canonical spelling).
  const lower = type.toLowerCase();
  if (lower === CALL_LOWER) return call(r);
  if (lower === RECORD_LOWER) return recordOperation(r);
  if (lower.endsWith('operation')) return commsOperation(r, type);
  const out: Obj = { '@odata.type': type };
  return copyRest(r, UNKNOWN_KEYS, out) ? { kind: 'unknown', data: out } : undefined;
}

function resources(v: unknown): Obj[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    const one = resource(v);
    return one && [one];
  }
  if (v.length > 100) return undefined;
  const out: Obj[] = [];
  for (const item of v) {
    const r = resource(item);
    if (!r) return undefined;
    out.push(r);
  }
  return out;
}

const url = (v: unknown): Field => (typeof v === 'string' && v.length <= 2048 ? v : DEFER);

/** What CommsNotificationSchema would make of one item of `value`, or undefined: then zod decides. */
export function fastCommsNotification(n: unknown): CommsNotification | undefined {
  return notification(n) as CommsNotification | undefined;
}

function notification(n: unknown): Obj | undefined {
  if (!isObject(n)) return undefined;
  if (n.resourceUrl === undefined && n.resource === undefined) return undefined;
  const out: Obj = {};
  if (!field(n, out, '@odata.type', string)) return undefined;
  const change = typeof n.changeType === 'string' ? CHANGES.get(n.changeType.toLowerCase()) : undefined;
  if (!change) return undefined;
  out.changeType = change;
  if (!field(n, out, 'resourceUrl', url) || !field(n, out, 'resource', url)) return undefined;
  const data = resources(n.resourceData);
  if (!data) return undefined;
  out.resourceData = data;
  return copyRest(n, NOTIFICATION_KEYS, out) ? out : undefined;
}

/** Whether `json` is a sound envelope as CommsNotificationsEnvelopeSchema has it (false: ask zod). */
export function fastEnvelope(json: unknown): json is { value: unknown[] } {
  if (!isObject(json)) return false;
  const type = json['@odata.type'];
  if (type !== undefined && typeof type !== 'string') return false;
  const value = json.value;
  return Array.isArray(value) && value.length >= 1 && value.length <= 1000;
}

/** What CommsNotificationsSchema would make of `json`, or undefined: then zod decides. */
export function fastCommsNotifications(json: unknown): CommsNotifications | undefined {
  if (!fastEnvelope(json)) return undefined;
  const out: Obj = {};
  if (!field(json, out, '@odata.type', string)) return undefined;
  const value = json.value;
  const items: Obj[] = [];
  for (const n of value) {
    const item = notification(n);
    if (!item) return undefined;
    items.push(item);
  }
  out.value = items;
  return copyRest(json as Obj, ENVELOPE_KEYS, out) ? (out as CommsNotifications) : undefined;
}
