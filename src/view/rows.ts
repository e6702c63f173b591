/**
 * The fields a live-view row may hold, read defensively from machine context and events and cut to
 * size: numbers only when finite, messages redacted, URLs reduced to their path.
 */
import { redact } from '../graph/errors.js';
import type { ErrorJson, ResultInfoJson } from '../machines/index.js';

export interface ErrorRow {
  status?: number;
  code?: string;
  message?: string;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** A record value (`'recording'`, `{ holdingClip: 'downloading' }`, `{ holdingClip: { processing: … } }`) as a step. */
export function stepOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const inner = Object.values(value as Record<string, unknown>)[0];
    if (typeof inner === 'string') return inner;
    if (inner && typeof inner === 'object') return Object.keys(inner)[0] ?? 'unknown';
  }
  return 'unknown';
}

export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

export function errorRow(e: unknown): ErrorRow | null {
  if (!e || typeof e !== 'object') return null;
  const err = e as ErrorJson;
  const out: ErrorRow = {};
  if (typeof err.status === 'number') out.status = err.status;
  if (typeof err.code === 'string') out.code = err.code.slice(0, 40);
  if (typeof err.message === 'string') out.message = redact(err.message).slice(0, 160);
  return out;
}

export function resultInfoRow(r: unknown): ResultInfoJson | null {
  if (!r || typeof r !== 'object') return null;
  const info = r as ResultInfoJson;
  return {
    ...(num(info.code) !== undefined ? { code: info.code } : {}),
    ...(num(info.subcode) !== undefined ? { subcode: info.subcode } : {}),
    ...(typeof info.message === 'string' ? { message: redact(info.message).slice(0, 160) } : {}),
  };
}

/**
 * A URL as the page may show it: path only (no origin, no query, no fragment): everything from
 * the first `?` or `#` goes, line breaks after it included.
 */
export function safePath(url: string): string {
  // By index rather than regex replacements (a request is listed per attempt): drop
  // `scheme://host` (letters-only scheme, a non-empty host), then everything from `?` or `#`.
  let start = 0;
  const sep = url.indexOf('://');
  if (sep > 0 && SCHEME.test(url.slice(0, sep))) {
    const slash = url.indexOf('/', sep + 3);
    const hostEnd = slash < 0 ? url.length : slash;
    if (hostEnd > sep + 3) start = hostEnd;
  }
  let end = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  if (end < 0 || (hash >= 0 && hash < end)) end = hash;
  return (end < 0 ? url.slice(start) : url.slice(start, end)) || '/';
}

const SCHEME = /^[a-z]+$/i;
