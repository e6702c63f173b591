/**
 * Splitting a request URL into undici's `origin` and `path`. `new URL()` per
 * request is the slow, always-correct way; a URL whose origin was seen before
 * in canonical form and whose path holds only characters URL parsing leaves
 * alone is split by string slicing, with the same result.
 */

export type Target = { origin: string; path: string } | 'invalid' | 'scheme';

/** Origins (scheme://host[:port], as written) already checked: canonical or not. */
const origins = new Map<string, boolean>();
const MAX_ORIGINS = 256;
// Characters kept verbatim by URL parsing in a path, and in a query of an http(s) URL (no `'`).
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;
// Dot segments (also percent-encoded) are resolved by URL parsing: leave them to it.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:[/?]|$)/i;

export function splitUrl(url: string): Target {
  const slash = url.indexOf('/', url.indexOf('://') + 3);
  if (slash > 0) {
    const origin = url.slice(0, slash);
    const path = url.slice(slash);
    if (origins.get(origin) === true && PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path))
      return { origin, path };
  }
  return slowSplit(url);
}

function slowSplit(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'invalid';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'scheme';
  const written = url.slice(0, url.indexOf('/', url.indexOf('://') + 3));
  if (written === u.origin && !u.username && !u.password) {
    if (origins.size >= MAX_ORIGINS) origins.clear();
    origins.set(written, true);
  }
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
}
