/**
 * createNotificationVerifier for use without a CallRuntime (the
 * `graph-call-machines/notifications` subpath): the verifier of
 * notifications/verify.ts on the wall clock and an own undici adapter, so
 * its key fetches still go through the one HttpAdapter implementation (a
 * `dispatcher`, retries and timeouts on the clock). It lives here because the
 * notifications layer may not know the adapters; the runtime wires the
 * verifier the same way with its own adapter (intake.ts).
 */
import { systemClock } from '../adapters/clock.js';
import { createUndiciHttp } from '../adapters/undici-http.js';
import {
  buildNotificationVerifier,
  type NotificationVerifier,
  type VerifierOptions,
} from '../notifications/verify.js';
import type { TokenProvider } from '../ports/token.js';

/** Key documents are public: requests go out with `auth: 'none'`, so no token is ever asked for. */
const NO_APP_TOKEN: TokenProvider = {
  getToken: () => Promise.reject(new Error('the notification verifier sends no app token')),
};

export function createNotificationVerifier(options: VerifierOptions): NotificationVerifier {
  return buildNotificationVerifier(options, {
    clock: systemClock,
    http: (clock) => createUndiciHttp({ token: NO_APP_TOKEN, clock, connections: 4 }),
  });
}
