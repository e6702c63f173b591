/**
 * The emulator's own notification signing: an RS256 key pair made at startup,
 * published through an OpenID configuration and a JWKS like Microsoft's
 * (`/v1/.well-known/OpenIdConfiguration`, `/v1/keys`), and a bearer JWT that
 * is reused for a while and re-signed before it expires, all on the Clock.
 * RSA key generation costs ~100 ms, so it runs in the background (startup
 * does not wait) and once per process: every emulator publishes the pair under
 * its own kid, so a bot bound to one emulator's JWKS rejects another's tokens.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Clock } from '../adapters/clock.js';

export const NOTIFICATION_ISSUER = 'https://api.botframework.com';
export const OPENID_PATH = '/v1/.well-known/OpenIdConfiguration';
export const JWKS_PATH = '/v1/keys';

/** Lifetime of a notification token, and how long before expiry a new one is signed. */
const TOKEN_LIFETIME_S = 3600;
const RESIGN_BEFORE_S = 300;

export interface Signer {
  readonly kid: string;
  jwks(): Promise<{ keys: JWK[] }>;
  openIdConfiguration(origin: string): Record<string, unknown>;
  /** A bearer token for a notification at the clock's current time. */
  token(): Promise<string>;
  /** Resolves once the key pair exists (rejects if generation failed). */
  ready(): Promise<void>;
}

let processKeys: ReturnType<typeof generateKeyPair> | undefined;

function keyPair() {
  if (!processKeys) {
    const keys = generateKeyPair('RS256', { extractable: true });
    processKeys = keys;
    // A failed generation is retried by the next emulator and seen by callers on use, never unhandled.
    keys.catch(() => {
      if (processKeys === keys) processKeys = undefined;
    });
  }
  return processKeys;
}

export function createSigner(clock: Clock, claims: { audience: string; tenantId: string }): Signer {
  const kid = randomBytes(8).toString('hex');
  const keys = keyPair();
  let cached: { token: Promise<string>; exp: number } | undefined;

  return {
    kid,
    async ready() {
      await keys;
    },
    async jwks() {
      const jwk = await exportJWK((await keys).publicKey);
      return { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
    },
    openIdConfiguration(origin) {
      return {
        issuer: NOTIFICATION_ISSUER,
        jwks_uri: `${origin}${JWKS_PATH}`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      };
    },
    token() {
      const now = Math.floor(clock.now() / 1000);
      // Graph reuses one token across notifications; sign anew near expiry (or if the clock went back).
      if (cached && now < cached.exp - RESIGN_BEFORE_S && now >= cached.exp - TOKEN_LIFETIME_S)
        return cached.token;
      const exp = now + TOKEN_LIFETIME_S;
      const token = keys.then(({ privateKey }) =>
        new SignJWT({ tid: claims.tenantId })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
          .setIssuer(NOTIFICATION_ISSUER)
          .setAudience(claims.audience)
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(exp)
          .sign(privateKey),
      );
      cached = { token, exp };
      token.catch(() => {
        if (cached?.token === token) cached = undefined;
      });
      return token;
    },
  };
}
