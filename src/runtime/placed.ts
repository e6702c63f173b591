/**
 * Calls the bot places: `placeCall` starts a call actor (start `outgoing`)
 * under a local handle; Graph's 201 names the call and the registry finds it
 * by that id from then on. `whenEstablished` waits for `established` of any call.
 */
import type { CallOutput } from '../machines/index.js';
import { checkPlaceCall, type PlaceCallOptions, toMediaInfo } from '../options/calls.js';
import { whileLogged } from '../options/runtime.js';
import { requireCall, startCall, whenEnded } from './calls.js';
import type { CallActor, RuntimeContext } from './context.js';
import { RuntimeError } from './types.js';

const why = (out: CallOutput) => {
  const info = out.resultInfo ? ` ${out.resultInfo.code}/${out.resultInfo.subcode}` : '';
  const err = out.error?.status ? ` (${out.error.status}${out.error.code ? ` ${out.error.code}` : ''})` : '';
  return `${out.reason}${info}${err}`;
};

/** Resolves with `value` on `event`, rejects with the call's end when it comes first. */
function before<T>(
  ctx: RuntimeContext,
  actor: CallActor,
  wait: (resolve: (v: T) => void) => { unsubscribe(): void },
  onEnd: (out: CallOutput) => RuntimeError,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const sub = wait((v) => {
      sub.unsubscribe();
      resolve(v);
    });
    whenEnded(ctx, actor.getSnapshot().context.callId).then(
      (out) => {
        sub.unsubscribe();
        reject(onEnd(out));
      },
      (err: unknown) => {
        sub.unsubscribe();
        reject(err);
      },
    );
  });
}

/**
 * Place a call. Resolves with Graph's call id once Graph accepted it (201);
 * rejects with RuntimeError('placeFailed', output attached) when Graph refused it.
 * Options are checked before any request (OptionsError).
 */
export function placeCall(ctx: RuntimeContext, options: PlaceCallOptions): Promise<string> {
  try {
    if (ctx.stopped) throw new RuntimeError('stopped', 'runtime is stopped');
    const o = whileLogged(ctx.log, () => checkPlaceCall(options, ctx.options.callPolicy));
    if (!ctx.options.callbackUri)
      throw new RuntimeError(
        'notConfigured',
        'placeCall needs the `callbackUri` option of createCallRuntime',
      );
    const handle = `placing-${ctx.ids()}`;
    const media = o.preFetchMedia?.map(toMediaInfo);
    const actor = startCall(ctx, handle, o.policy, undefined, {
      start: 'outgoing',
      place: {
        targets: o.targets,
        ...(o.source ? { source: o.source } : {}),
        ...(o.tenantId ? { tenantId: o.tenantId } : {}),
        ...(media?.length ? { preFetchMedia: media } : {}),
      },
    });
    ctx.log({ level: 'info', msg: 'placing a call', callId: handle });
    if (actor.getSnapshot().status !== 'active' || !actor.getSnapshot().matches('placing'))
      return Promise.reject(new RuntimeError('placeFailed', 'the call could not be placed'));
    return before<string>(
      ctx,
      actor,
      (resolve) => actor.on('call.placed', (e) => resolve(e.callId)),
      (out) => new RuntimeError('placeFailed', `the call was not placed: ${why(out)}`, out),
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Resolves once the call is established (at once when it already is);
 * rejects with RuntimeError('callEnded', output attached) when it ends first.
 */
export function whenEstablished(ctx: RuntimeContext, callId: string): Promise<void> {
  try {
    const actor = requireCall(ctx, callId);
    if (actor.getSnapshot().matches('established')) return Promise.resolve();
    return before<void>(
      ctx,
      actor,
      (resolve) => actor.on('call.established', () => resolve()),
      (out) =>
        new RuntimeError('callEnded', `call ${callId} ended before it was established: ${why(out)}`, out),
    );
  } catch (err) {
    return Promise.reject(err);
  }
}
