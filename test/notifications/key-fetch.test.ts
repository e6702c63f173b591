/**
 * The notification keys (OpenID configuration, JWKS) come through an
 * HttpAdapter like every other request: the runtime's own (its onAttempt
 * events see them), with no Authorization header, and retries waiting on the
 * simulated clock. Real loopback key server, real undici adapter.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { createNotificationVerifier } from '../../src/notifications/index.js';
import { createCallRuntime } from '../../src/runtime.js';
import {
  APP_ID,
  ISSUER,
  type KeyServer,
  makeKey,
  signToken,
  startKeyServer,
  type TestKey,
} from './fixtures.js';
import { batch, callTerminated } from './samples.js';

const APP_TOKEN = 'app-token-canary-7f3a9c';

let key: TestKey;
let server: KeyServer;
let clock: SimulatedClock;

beforeAll(async () => {
  key = await makeKey('k1');
});
beforeEach(async () => {
  server = await startKeyServer([key.jwk]);
  clock = new SimulatedClock();
});
afterEach(async () => {
  await server.close();
});

/** A runtime on the simulated clock whose adapter holds a real app token and reports every attempt. */
function runtimeWithKeys() {
  const attempts: HttpAttemptEvent[] = [];
  let tokenAsked = 0;
  const http = createUndiciHttp({
    token: {
      getToken: async () => {
        tokenAsked++;
        return APP_TOKEN;
      },
    },
    clock,
    onAttempt: (e) => attempts.push(e),
  });
  const runtime = createCallRuntime({
    clock,
    http,
    store: createMemoryRecordingStore(),
    notificationAuth: { appId: APP_ID, openIdConfigurationUrl: server.openIdUrl, issuers: [ISSUER] },
    log: false,
  });
  return {
    attempts,
    tokenAsked: () => tokenAsked,
    runtime,
    notify: async () =>
      runtime.handleNotification(JSON.stringify(batch(callTerminated)), {
        authorization: `Bearer ${await signToken(clock, key)}`,
        'content-type': 'application/json',
      }),
    close: async () => {
      await runtime.stop();
      await http.close();
    },
  };
}

describe('notification keys through the HttpAdapter', () => {
  it("the runtime's adapter sends the OpenID and JWKS GETs: its onAttempt events see them", async () => {
    const r = runtimeWithKeys();
    try {
      expect((await r.notify()).status).toBe(202);
      expect(r.attempts.map((e) => [e.operation, e.method, e.url, e.status])).toEqual([
        ['openIdConfiguration', 'GET', server.openIdUrl, 200],
        ['jwks', 'GET', server.jwksUrl, 200],
      ]);
    } finally {
      await r.close();
    }
  });

  it('never sends the app token (nor any Authorization header) to the key endpoint', async () => {
    const r = runtimeWithKeys();
    try {
      expect((await r.notify()).status).toBe(202);
      // The periodic refresh, two hours on, goes the same way.
      await clock.advance(2 * 3600_000);
      expect((await r.notify()).status).toBe(202);
      expect(server.hits).toEqual({ config: 2, jwks: 2 });
      expect(server.authorizations).toEqual([undefined, undefined, undefined, undefined]);
      expect(r.tokenAsked()).toBe(0);
    } finally {
      await r.close();
    }
  });

  it('the standalone verifier (own undici adapter) sends no Authorization header either', async () => {
    const v = createNotificationVerifier({ appId: APP_ID, openIdConfigurationUrl: server.openIdUrl, clock });
    await v.verify(`Bearer ${await signToken(clock, key)}`);
    expect(server.hits).toEqual({ config: 1, jwks: 1 });
    expect(server.authorizations).toEqual([undefined, undefined]);
  });

  it('a failed key GET is retried after a backoff on the simulated clock, not on real time', async () => {
    const v = createNotificationVerifier({ appId: APP_ID, openIdConfigurationUrl: server.openIdUrl, clock });
    server.failing = true;
    let done = false;
    const refreshed = v.refresh().then(() => {
      done = true;
    });
    // The first attempt got its 500; the retry waits on a clock timer that nobody moved.
    await clock.settle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.hits.config).toBe(1);
    expect(done).toBe(false);
    expect(clock.nextDue()).toBeGreaterThan(clock.now());
    server.failing = false;
    await clock.advance(1000);
    await refreshed;
    expect(server.hits).toEqual({ config: 2, jwks: 1 });
    // Nothing of the fetch stays armed on the clock.
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a key document over the size cap, as keyFetchFailed', async () => {
    const big = { ...key.jwk, x5c: ['A'.repeat(600 * 1024)] };
    server.keys = [big];
    const v = createNotificationVerifier({ appId: APP_ID, openIdConfigurationUrl: server.openIdUrl, clock });
    await expect(v.refresh()).rejects.toMatchObject({ code: 'keyFetchFailed' });
    await expect(v.refresh()).rejects.toThrow(/over 524288 bytes/);
  });
});
