/**
 * Test fixtures for notification auth: RSA keys from jose, a signer for
 * Graph-like notification tokens on the test clock, and a loopback server
 * publishing an OpenID configuration and a JWKS (with hit counters, a switch
 * to fail, and keys that can rotate).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Clock } from '../../src/adapters/clock.js';

export const APP_ID = '11111111-2222-3333-4444-555555555555';
export const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const ISSUER = 'https://api.botframework.com';

export interface TestKey {
  kid: string;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, publicKey, privateKey, jwk };
}

export interface TokenOptions {
  /** Claims to add or override; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Sign with this key but publish `kid` (for "same kid, other key"). */
  kid?: string;
  alg?: string;
}

/** A notification token as Graph sends it, valid at the clock's current time. */
export async function signToken(clock: Clock, key: TestKey, opts: TokenOptions = {}): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    aud: APP_ID,
    tid: TENANT,
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...opts.claims,
  };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? key.kid, typ: 'JWT', ...opts.header })
    .sign(key.privateKey);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An unsigned `alg: none` token, built by hand (jose refuses to make one). */
export function unsignedToken(clock: Clock, kid: string): string {
  const now = Math.floor(clock.now() / 1000);
  const header = { alg: 'none', typ: 'JWT', kid };
  const payload = { iss: ISSUER, aud: APP_ID, tid: TENANT, iat: now, nbf: now, exp: now + 3600 };
  return `${b64url(header)}.${b64url(payload)}.`;
}

export interface KeyServer {
  openIdUrl: string;
  jwksUrl: string;
  hits: { config: number; jwks: number };
  /** The keys currently published. */
  keys: JWK[];
  /** Answer 500 to everything while true. */
  failing: boolean;
  /** The Authorization header of every request, in order (undefined: none sent). */
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

/** A loopback OpenID configuration + JWKS; the jwks_uri path is random, so it must be read from the document. */
export async function startKeyServer(keys: JWK[]): Promise<KeyServer> {
  const jwksPath = `/keys/${randomBytes(4).toString('hex')}`;
  let server: Server | undefined;
  const state: KeyServer = {
    openIdUrl: '',
    jwksUrl: '',
    hits: { config: 0, jwks: 0 },
    keys,
    failing: false,
    authorizations: [],
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
  server = createServer((req, res) => {
    state.authorizations.push(req.headers.authorization);
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.url === '/v1/.well-known/OpenIdConfiguration') {
      state.hits.config++;
      if (state.failing) return send(500, { error: 'down' });
      return send(200, {
        issuer: ISSUER,
        jwks_uri: state.jwksUrl,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.url === jwksPath) {
      state.hits.jwks++;
      if (state.failing) return send(500, { error: 'down' });
      return send(200, { keys: state.keys });
    }
    send(404, { error: 'not found' });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.openIdUrl = `${origin}/v1/.well-known/OpenIdConfiguration`;
  state.jwksUrl = `${origin}${jwksPath}`;
  const close = state.close;
  state.close = () => {
    server?.closeAllConnections();
    return close();
  };
  return state;
}
