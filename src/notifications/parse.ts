/**
 * Reads a notification body: JSON without prototype-pollution keys or absurd
 * nesting (text, bytes, or an object a framework already parsed), then the
 * commsNotifications envelope, then each item on its own (hand-parse.ts for the
 * shapes Graph sends, zod for anything else and for every refusal). A bad
 * envelope refuses the body; a bad item is skipped and reported. Each item
 * keeps its call/operation reference; ids stay as sent (the router
 * normalises them).
 */
import { parseResourceUrl, type ResourceRef } from '../graph/ids.js';
import {
  type CommsNotification,
  CommsNotificationSchema,
  CommsNotificationsEnvelopeSchema,
  type ResourceData,
} from '../graph/schemas.js';
import { NotificationError, NotificationItemError } from './errors.js';
import { fastCommsNotification, fastEnvelope } from './hand-parse.js';

export interface ParsedNotification {
  changeType: CommsNotification['changeType'];
  /** undefined when neither resourceUrl nor resource names a call. */
  ref: ResourceRef | undefined;
  /** resourceUrl, else the legacy resource, as sent. */
  resourceUrl: string;
  resources: ResourceData[];
  /**
   * The notification object as received (before schema transforms); always
   * set by parseNotifications, optional so a scrubbed copy can drop it. It can
   * hold a recordingAccessToken: never log it as is.
   */
  raw?: Record<string, unknown>;
}

/** Keys that could reach an object's prototype once a consumer copies or merges the body. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Real notifications nest about 6 deep; 32 leaves room and stops recursion bombs. */
export const MAX_JSON_DEPTH = 32;
/** The schema's own bound on `value` (Graph batches a handful). */
const MAX_NOTIFICATIONS = 1000;
/**
 * resourceData entries in one body, all notifications together. Graph sends one
 * per notification; the cap keeps schema validation of a 1 MiB body in
 * milliseconds (100k small entries would block the event loop for seconds).
 */
export const MAX_RESOURCES_PER_BODY = 1000;

const malformed = () => new NotificationError(400, 'malformedJson', 'body is not valid JSON');
const invalid = (why: string) => new NotificationError(400, 'invalidBody', why);

/**
 * At most `limit` `{` and `[` in the whole text, strings included: then no
 * nesting can pass `limit`. Native indexOf makes this far cheaper than the
 * character loop, which real notifications (a handful of brackets) never need.
 */
function fewOpenings(text: string, limit: number): boolean {
  let n = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1))
      if (++n > limit) return false;
  }
  return true;
}

/**
 * Depth of `{`/`[` nesting outside strings, checked on the text so a deep body
 * is refused before JSON.parse builds it (and before anything walks it recursively).
 */
function checkDepth(text: string): void {
  if (fewOpenings(text, MAX_JSON_DEPTH)) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) throw invalid(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
}

/**
 * Refuses forbidden keys and nesting deeper than MAX_JSON_DEPTH at once
 * (`depth` of the root is 1, as checkDepth counts). JSON.parse makes every key
 * an own data property (even `__proto__`), so nothing is polluted before this
 * walk sees it. For text the depth was already checked on the characters; an
 * object a framework parsed gets its bound here, which also stops a cycle. A
 * walk after the parse costs a fraction of a reviver.
 */
function checkTree(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_JSON_DEPTH) throw invalid(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const item of value) checkTree(item, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw invalid(`body has a forbidden key "${key}"`);
    checkTree((value as Record<string, unknown>)[key], depth + 1);
  }
}

function parseJson(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed();
  }
  checkTree(json, 1);
  return json;
}

/** Counts checked before the schema runs: a huge array costs a length read, not a validation. */
function checkCounts(json: unknown): void {
  const value = (json as { value?: unknown } | null)?.value;
  if (!Array.isArray(value)) return; // the schema says what is wrong
  if (value.length > MAX_NOTIFICATIONS)
    throw invalid(`body has more than ${MAX_NOTIFICATIONS} notifications`);
  let resources = 0;
  for (const item of value) {
    const data = (item as { resourceData?: unknown } | null)?.resourceData;
    resources += Array.isArray(data) ? data.length : 1;
    if (resources > MAX_RESOURCES_PER_BODY)
      throw invalid(`body has more than ${MAX_RESOURCES_PER_BODY} resourceData entries`);
  }
}

/** The call/operation a URL names; a malformed %-escape is the sender's error, not ours. */
function refOf(url: string): ResourceRef | undefined | 'malformed' {
  try {
    return parseResourceUrl(url);
  } catch {
    return 'malformed';
  }
}

type Issues = ReadonlyArray<{ path: PropertyKey[]; message: string }>;

/** First schema issue as `path: message`, short, without echoing the body. */
function summarize(issues: Issues, prefix: PropertyKey[] = []): string {
  const first = issues[0];
  if (!first) return '(root): not a commsNotifications body';
  const path =
    [...prefix, ...first.path]
      .slice(0, 8)
      .map((p) => String(p).slice(0, 40))
      .join('.') || '(root)';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `${path}: ${first.message.slice(0, 160)}${more}`;
}

/** The envelope's verdict: its `value`, or a 400 naming the first issue. */
function envelopeOf(json: unknown): unknown[] {
  if (fastEnvelope(json)) return json.value;
  const parsed = CommsNotificationsEnvelopeSchema.safeParse(json);
  if (!parsed.success) throw invalid(`not a commsNotifications body: ${summarize(parsed.error.issues)}`);
  return parsed.data.value;
}

/** The call an unreadable item was about, for the report (ids only, bounded). */
function refForReport(raw: unknown): ResourceRef | undefined {
  const n = raw as { resourceUrl?: unknown; resource?: unknown } | null;
  const url = typeof n?.resourceUrl === 'string' ? n.resourceUrl : n?.resource;
  if (typeof url !== 'string' || url.length > 2048) return undefined;
  const ref = refOf(url);
  return typeof ref === 'object' && ref.callId.length <= 256 && (ref.operationId?.length ?? 0) <= 256
    ? ref
    : undefined;
}

function itemError(index: number, raw: unknown, why: string): NotificationItemError {
  const ref = refForReport(raw);
  return new NotificationItemError(index, why, ref?.callId, ref?.operationId);
}

/** One item of `value`: the fast reader, else zod (the one judge of refusals and their wording). */
function readItem(raw: unknown, index: number): ParsedNotification | NotificationItemError {
  let n = fastCommsNotification(raw);
  if (!n) {
    const parsed = CommsNotificationSchema.safeParse(raw);
    if (!parsed.success) return itemError(index, raw, summarize(parsed.error.issues, ['value', index]));
    n = parsed.data;
  }
  const url = n.resourceUrl ?? n.resource ?? '';
  const ref = refOf(url);
  if (ref === 'malformed') return itemError(index, raw, `value.${index}.resourceUrl: malformed %-escape`);
  return {
    changeType: n.changeType,
    ref,
    resourceUrl: url,
    resources: n.resourceData,
    raw: raw as Record<string, unknown>,
  };
}

/** What a handler may be given: text, bytes, or JSON a framework already parsed. */
export type NotificationBody = string | Uint8Array | ArrayBuffer | ArrayBufferView | object | null;

/** Names what was given, for the error (never its content). */
function kindOf(body: unknown): string {
  if (body === undefined) return 'undefined';
  if (typeof body === 'object' && body !== null) return 'a stream';
  return `a ${typeof body}`;
}

const unsupported = (body: unknown) =>
  new NotificationError(
    400,
    'unsupportedBody',
    `notification body must be a string, bytes (Buffer, Uint8Array, ArrayBuffer) or a parsed JSON object; got ${kindOf(body)}`,
  );

const isStream = (v: object) =>
  typeof (v as { pipe?: unknown }).pipe === 'function' ||
  typeof (v as { getReader?: unknown }).getReader === 'function';

/** The body as JSON: text and bytes are checked and parsed; a parsed object is checked as it is. */
function jsonOf(body: unknown): unknown {
  let text: string;
  if (typeof body === 'string') text = body;
  else if (body instanceof ArrayBuffer) text = Buffer.from(body).toString('utf8');
  else if (ArrayBuffer.isView(body))
    text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  else if (body === null)
    return null; // JSON null: the envelope check says what is wrong
  else if (typeof body === 'object' && !isStream(body)) {
    checkTree(body, 1);
    return body;
  } else throw unsupported(body);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not JSON, but harmless
  checkDepth(text);
  return parseJson(text);
}

export interface NotificationBatch {
  /** The items that were read, in body order. */
  items: ParsedNotification[];
  /** The items that were not (skipped; each names its index, and its call when readable). */
  rejected: NotificationItemError[];
}

/**
 * Reads a notification POST item by item. Throws a NotificationError (400)
 * when the body is not a sound commsNotifications envelope (bad JSON,
 * forbidden keys, nesting, counts, no `value`); otherwise every item is read
 * on its own, so one malformed item costs only itself.
 */
export function readNotifications(body: NotificationBody): NotificationBatch {
  const json = jsonOf(body);
  checkCounts(json);
  const value = envelopeOf(json);
  const items: ParsedNotification[] = [];
  const rejected: NotificationItemError[] = [];
  for (let i = 0; i < value.length; i++) {
    const item = readItem(value[i], i);
    if (item instanceof NotificationItemError) rejected.push(item);
    else items.push(item);
  }
  return { items, rejected };
}

/**
 * The strict reading: every item must be readable, or the whole body is
 * refused (400 invalidBody naming the first bad item). The webhook uses
 * readNotifications instead.
 */
export function parseNotifications(body: NotificationBody): ParsedNotification[] {
  const { items, rejected } = readNotifications(body);
  const first = rejected[0];
  if (first) throw invalid(`not a commsNotifications body: ${first.message}`);
  return items;
}
