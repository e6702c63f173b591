/**
 * The per-attempt deadline, on the injected Clock (undici's own headers/body
 * timeouts run on real time, so they are only a backstop). The deadline covers
 * the token fetch and the exchange up to the parsed body (or the headers, for
 * a stream). The caller's AbortSignal ends the attempt the same way.
 */
import type { Clock } from '../clock.js';
import type { AttemptControl, Layer } from './attempt.js';

export function timeoutLayer(clock: Clock): Layer {
  return (next) => (a) => {
    const control: AttemptControl = {
      aborted: false,
      reason: undefined,
      cause: undefined,
      onAbort: undefined,
    };
    a.control = control;
    const abort = (cause: 'timeout' | 'user', reason: unknown) => {
      if (control.aborted) return;
      control.aborted = true;
      control.cause = cause;
      control.reason = reason;
      const handler = control.onAbort;
      control.onAbort = undefined;
      handler?.();
    };
    const timer = clock.setTimeout(() => abort('timeout', new Error('attempt timed out')), a.timeoutMs);
    const signal = a.req.signal;
    const onUserAbort = signal ? () => abort('user', signal.reason) : undefined;
    if (signal?.aborted) onUserAbort!();
    else if (signal) signal.addEventListener('abort', onUserAbort!, { once: true });
    const done = () => {
      clock.clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onUserAbort!);
    };
    const out = next(a);
    out.then(done, done);
    return out;
  };
}
