/**
 * Who may see the live view. It binds to loopback by default; any other
 * address needs an explicit `auth` (a bearer token or a predicate). On
 * loopback the Host header must name loopback too, so a web page on another
 * origin cannot reach the view through DNS rebinding.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type LiveViewAuth = string | ((req: IncomingMessage) => boolean | Promise<boolean>);

export class LiveViewError extends Error {
  override readonly name = 'LiveViewError';
  constructor(
    readonly code: 'unsafeBind' | 'invalidOption' | 'listenFailed',
    message: string,
  ) {
    super(message);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `host` of a Host header (`[::1]:8080` -> `[::1]`, `localhost:80` -> `localhost`). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim());
  return (m?.[1] ?? '').toLowerCase();
}

export const COOKIE = 'gcm_view';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer`, the view's cookie, or `?token=` (first visit). */
export function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return cookie(req, COOKIE) ?? url.searchParams.get('token') ?? undefined;
}

export function createAccess(opts: { loopback: boolean; auth?: LiveViewAuth }) {
  return {
    /** Whether the request may be served at all. */
    async allowed(req: IncomingMessage, url: URL): Promise<boolean> {
      if (opts.loopback && !opts.auth && !isLoopbackHost(hostName(req.headers.host))) return false;
      const auth = opts.auth;
      if (auth === undefined) return true;
      if (typeof auth === 'string') {
        const token = presentedToken(req, url);
        return token !== undefined && sameSecret(token, auth);
      }
      try {
        return (await auth(req)) === true;
      } catch {
        return false;
      }
    },
  };
}
