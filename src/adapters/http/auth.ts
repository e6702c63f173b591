/**
 * Authorization: the app token from the TokenProvider (a new one after a 401,
 * when the retry layer asks), or exactly the request's own bearer (a
 * recordingAccessToken), never both. A token provider that fails or hangs
 * ends the attempt as `auth` before anything is sent. The token goes into the
 * Authorization header only: never into a message.
 */
import { redact } from '../../graph/errors.js';
import type { TokenProvider } from '../token.js';
import { ABORTED, type Attempt, type Layer, type Outcome } from './attempt.js';

export function authLayer(tokens: TokenProvider): Layer {
  return (next) => (a) => {
    const auth = a.req.auth;
    if (auth !== 'app') {
      a.headers.authorization = `Bearer ${auth.bearer}`;
      return next(a);
    }
    return appToken(tokens, a).then((token) => {
      if (typeof token !== 'string') return token;
      a.headers.authorization = `Bearer ${token}`;
      return next(a);
    });
  };
}

/** The token, or the Outcome that ends the attempt without sending. */
async function appToken(tokens: TokenProvider, a: Attempt): Promise<string | Outcome> {
  try {
    const token = await untilAborted(tokens.getToken(a.forceRefresh ? { forceRefresh: true } : undefined), a);
    if (typeof token !== 'string' || token === '') throw new Error('the token provider returned no token');
    return token;
  } catch (err) {
    if (a.control.cause === 'timeout')
      return {
        type: 'error',
        kind: 'auth',
        code: 'tokenTimeout',
        message: `no app token within ${a.timeoutMs} ms`,
      };
    if (a.control.cause === 'user') return ABORTED;
    const detail = err instanceof Error ? err.message : String(err);
    const message = redact(`could not get an app token: ${detail}`).slice(0, 300);
    return { type: 'error', kind: 'auth', code: 'tokenUnavailable', message };
  }
}

/** `work`, or a rejection as soon as the attempt aborts (the token fetch itself cannot be cancelled). */
function untilAborted<T>(work: Promise<T>, a: Attempt): Promise<T> {
  const control = a.control;
  if (control.aborted) return Promise.reject(control.reason);
  return new Promise<T>((resolve, reject) => {
    control.onAbort = () => reject(control.reason);
    work.then(
      (v) => {
        control.onAbort = undefined;
        resolve(v);
      },
      (e) => {
        control.onAbort = undefined;
        reject(e);
      },
    );
  });
}
