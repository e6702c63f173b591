/**
 * Graph ids arrive in several spellings: `0fe0623f-d628-...` in resourceData,
 * `0FE0623FD628...` in resourceUrl. Compare them by a normal form.
 */

/** Lower-case, dashes removed. */
export function normalizeId(id: string): string {
  return id.replace(/-/g, '').toLowerCase();
}

export function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
  return a != null && b != null && normalizeId(a) === normalizeId(b);
}

export interface ResourceRef {
  callId: string;
  operationId?: string;
  /** e.g. `participants` for `/communications/calls/{id}/participants`. */
  sub?: string;
}

const CALLS = '/communications/calls/';
/** A path segment that URL decoding leaves as it is. */
const PLAIN_SEGMENT = /^[0-9A-Za-z-]+$/;

/**
 * What Graph sends nearly always (and our own request paths), read without URL
 * parsing or the regex, with the same result: `[/v1.0|/beta]/communications/calls/{id}`,
 * then nothing, `/{segment}`, or `/operations/{opId}`, every part plain.
 * Anything else: undefined, and parseResourceUrl takes the general way.
 */
function plainResource(url: string): ResourceRef | undefined {
  const versioned = url.startsWith('/v1.0') || url.startsWith('/beta');
  const at = url.startsWith(CALLS) ? 0 : versioned && url.startsWith(CALLS, 5) ? 5 : -1;
  if (at < 0) return undefined;
  const from = at + CALLS.length;
  const slash = url.indexOf('/', from);
  const callId = slash < 0 ? url.slice(from) : url.slice(from, slash);
  if (!PLAIN_SEGMENT.test(callId)) return undefined;
  if (slash < 0) return { callId };
  const next = url.indexOf('/', slash + 1);
  const sub = next < 0 ? url.slice(slash + 1) : url.slice(slash + 1, next);
  if (!PLAIN_SEGMENT.test(sub)) return undefined;
  if (next < 0) return { callId, sub };
  const operationId = url.slice(next + 1);
  if (sub === 'operations' && PLAIN_SEGMENT.test(operationId)) return { callId, operationId };
  return undefined;
}

/**
 * Parse `/communications/calls/{id}[/operations/{opId}]`, the legacy
 * `/app/calls/{id}/...`, or either as an absolute URL with a version prefix.
 */
export function parseResourceUrl(url: string): ResourceRef | undefined {
  return plainResource(url) ?? readResourceUrl(url);
}

/** The general reading (URL parsing and the regex): every spelling. Exported for the fast path's test. */
export function readResourceUrl(url: string): ResourceRef | undefined {
  let path = url;
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  const m = /(?:^|\/)(?:communications|app)\/calls\/([^/?#]+)(?:\/([^/?#]+)(?:\/([^/?#]+))?)?/i.exec(path);
  if (!m?.[1]) return undefined;
  const callId = decodeURIComponent(m[1]);
  if (m[2]?.toLowerCase() === 'operations' && m[3]) return { callId, operationId: decodeURIComponent(m[3]) };
  return m[2] ? { callId, sub: m[2] } : { callId };
}
