/**
 * AES-256-GCM with a key the user supplies: how recording access tokens are
 * kept in persisted snapshots and how notifications carrying them travel
 * between instances. A sealed string is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url; a 12-byte IV, a 16-byte tag); the associated data (the call id)
 * binds it to one call.
 *
 * Why node:crypto and not jose's compact JWE (`dir` + A256GCM): jose 6 runs
 * on WebCrypto, which is async only, and sealing happens inside synchronous
 * steps (a snapshot is serialised in the same tick it is taken; a restore plan
 * is built synchronously). Measured here: about 60k seal+open/s against 6.5k/s
 * for jose. The one thing jose checks that this code did not, the full
 * 16-byte tag, is checked below, so the v1 format (and every snapshot sealed
 * so far, all with 16-byte tags) stays as it was.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SealError } from '../ports/errors.js';

export {
  parseRecordingTokenKey,
  parseSealKey,
  type RecordingTokenKey,
  type SealKey,
} from '../ports/recording-token-key.js';
export { SealError };

/** The only format this code writes and reads. */
export const SEAL_FORMAT = 'v1';
const IV_BYTES = 12;
// GCM tags can be cut short and still verify their prefix: a 4-byte tag is a 1 in 2^32 forgery.
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    SEAL_FORMAT,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ct.toString('base64url'),
  ].join('.');
}

/**
 * Throws `SealError('invalidSealed')` when the text was not sealed with this
 * key for this `aad`, is in another format version, or is cut short.
 */
export function unseal(key: Buffer, sealed: string, aad: string): string {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 4 || !parts.every((p) => B64URL.test(p)))
    throw new SealError('invalidSealed', 'sealed data has an unknown format');
  if (parts[0] !== SEAL_FORMAT)
    throw new SealError(
      'invalidSealed',
      `sealed data has format version "${String(parts[0]).slice(0, 8)}"; this version of graph-call-machines reads "${SEAL_FORMAT}" only`,
    );
  const iv = Buffer.from(parts[1] as string, 'base64url');
  const tag = Buffer.from(parts[2] as string, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
    throw new SealError(
      'invalidSealed',
      `sealed data is malformed (needs a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag; got ${iv.length} and ${tag.length})`,
    );
  try {
    // authTagLength makes node:crypto itself refuse any other tag length as well.
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(Buffer.from(parts[3] as string, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SealError('invalidSealed', 'sealed data does not open with this key (wrong key or tampered)');
  }
}
