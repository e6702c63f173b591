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

/**
 * Parse `/communications/calls/{id}[/operations/{opId}]`, the legacy
 * `/app/calls/{id}/...`, or either as an absolute URL with a version prefix.
 */
export function parseResourceUrl(url: string): ResourceRef | undefined {
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
