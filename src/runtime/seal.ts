/**
 * AES-256-GCM with a key the user supplies: how recording access tokens are
 * kept in persisted snapshots and how notifications carrying them travel
 * between instances. A sealed string is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url); the associated data (the call id) binds it to one call.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** 32 bytes, or a string of them in base64 / base64url / hex. */
export type SealKey = Uint8Array | string;

export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly code: 'invalidKey' | 'invalidSealed',
    message: string,
  ) {
    super(message);
  }
}

/** Validate and decode a key once; throws `SealError('invalidKey')` with a clear message. */
export function parseSealKey(key: SealKey): Buffer {
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
      'tokenKey must be 32 random bytes (a Uint8Array, or 64 hex / 43-44 base64 characters), e.g. `openssl rand -base64 32`',
    );
  return bytes;
}

export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ct.toString('base64url'),
  ].join('.');
}

/** Throws `SealError('invalidSealed')` when the text was not sealed with this key for this `aad`. */
export function unseal(key: Buffer, sealed: string, aad: string): string {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 4 || parts[0] !== 'v1')
    throw new SealError('invalidSealed', 'sealed data has an unknown format');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1] as string, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(parts[2] as string, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(parts[3] as string, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SealError('invalidSealed', 'sealed data does not open with this key (wrong key or tampered)');
  }
}
