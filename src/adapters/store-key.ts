/**
 * Shared by the recording stores: which keys are allowed (they become file
 * names, so never a path) and the errors both stores throw.
 */

import { RecordingStoreError } from '../ports/errors.js';

export { RecordingStoreError, type RecordingStoreErrorCode } from '../ports/errors.js';

// Letters, digits, dot, dash, underscore; starts with a letter or digit (so never `.`, `..`
// or a hidden file), no `..` anywhere, at most 200 characters (file names stop at 255 bytes).
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The key itself when it is safe as a file name; else a RecordingStoreError('invalidKey'). */
export function assertSafeKey(key: string): string {
  if (typeof key !== 'string' || !SAFE_KEY.test(key) || key.includes('..')) {
    const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 80)) : typeof key;
    throw new RecordingStoreError(
      'invalidKey',
      `invalid recording store key ${shown}: use 1-200 of A-Z a-z 0-9 . _ - (no "..", no path)`,
    );
  }
  return key;
}

/** A readable-side "no such clip" error, the same for both stores. */
export const notFound = (key: string) =>
  new RecordingStoreError('notFound', `no clip under key ${JSON.stringify(key)}`);

export const closedStore = () => new RecordingStoreError('closed', 'recording store is closed');

/** Abort the source when a write gives up before reading it, so a download does not stay open. */
export function discard(body: unknown): void {
  const d = (body as { destroy?: () => void } | null)?.destroy;
  if (typeof d === 'function') d.call(body);
}
