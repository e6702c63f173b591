/**
 * The key that seals recording tokens (in snapshots, and in notifications
 * passed between instances): its accepted shapes and their check, shared by
 * the runtime and the cluster adapters, so a bad key fails where it is given.
 */
import { SealError } from './errors.js';

/** The key that seals recording tokens: 32 bytes, or a string of them in base64 / base64url / hex. */
export type RecordingTokenKey = Uint8Array | string;

/** @deprecated Renamed `RecordingTokenKey`; this alias goes in the next minor version. */
export type SealKey = RecordingTokenKey;

/** Validate and decode a key once; throws `SealError('invalidKey')` with a clear message. */
export function parseRecordingTokenKey(key: RecordingTokenKey): Buffer {
  let bytes: Buffer | undefined;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === 'string') {
    const s = key.trim();
    if (/^[0-9a-fA-F]{64}$/.test(s)) bytes = Buffer.from(s, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) bytes = Buffer.from(s, 'base64');
  }
  if (bytes?.length !== 32)
    throw new SealError(
      'invalidKey',
      'recordingTokenKey / tokenKey must be 32 random bytes (a Uint8Array, or 64 hex / 43-44 base64 characters), e.g. `openssl rand -base64 32`',
    );
  return bytes;
}

/** @deprecated Renamed `parseRecordingTokenKey`. */
export const parseSealKey = parseRecordingTokenKey;
