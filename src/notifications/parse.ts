/**
 * Parses a notification body: JSON without prototype-pollution keys or absurd
 * nesting, then the lenient commsNotifications schema (read by fast.ts for the
 * shapes Graph sends, by zod for anything else and for every refusal). Each
 * item keeps its call/operation reference; ids stay as sent (the router
 * normalises them).
 */
import { parseResourceUrl, type ResourceRef } from '../graph/ids.js';
import {
  type CommsNotification,
  type CommsNotifications,
  CommsNotificationsSchema,
  type ResourceData,
} from '../graph/schemas.js';
import { NotificationError } from './errors.js';
import { fastCommsNotifications } from './fast.js';

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
 * Refuses forbidden keys at any depth. JSON.parse makes every key an own data
 * property (even `__proto__`), so nothing is polluted before this walk sees it;
 * checkDepth bounds the recursion. A walk after the parse costs a fraction of
 * a reviver, which calls back into JS for every value of every notification.
 */
function checkKeys(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) checkKeys(item);
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw invalid(`body has a forbidden key "${key}"`);
    checkKeys((value as Record<string, unknown>)[key]);
  }
}

function parseJson(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed();
  }
  checkKeys(json);
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
function refOf(url: string): ResourceRef | undefined {
  try {
    return parseResourceUrl(url);
  } catch {
    throw invalid('resourceUrl has a malformed %-escape');
  }
}

/** First schema issue as `path: message`, short, without echoing the body. */
function summarize(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const first = issues[0];
  if (!first) return 'not a commsNotifications body';
  const path =
    first.path
      .slice(0, 8)
      .map((p) => String(p).slice(0, 40))
      .join('.') || '(root)';
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  return `not a commsNotifications body: ${path}: ${first.message.slice(0, 160)}${more}`;
}

/** The schema's verdict: its output, or a 400 naming the first issue. */
function validate(json: unknown): CommsNotifications {
  const parsed = CommsNotificationsSchema.safeParse(json);
  if (!parsed.success) throw invalid(summarize(parsed.error.issues));
  return parsed.data;
}

export function parseNotifications(raw: string | Uint8Array): ParsedNotification[] {
  let text =
    typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not JSON, but harmless
  checkDepth(text);
  const json = parseJson(text);
  checkCounts(json);
  const data = fastCommsNotifications(json) ?? validate(json);
  // Validated: `value` is an array of objects of the same length as the parsed list.
  const rawItems = (json as { value: Record<string, unknown>[] }).value;
  return data.value.map((n, i) => {
    const url = n.resourceUrl ?? n.resource ?? '';
    return {
      changeType: n.changeType,
      ref: refOf(url),
      resourceUrl: url,
      resources: n.resourceData,
      raw: rawItems[i] ?? {},
    };
  });
}
