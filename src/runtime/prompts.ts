/**
 * Prompts and key presses on a tracked call: `playPrompt` spawns a prompt
 * child and resolves with how its operation ended; `subscribeToTones` asks
 * Graph for key presses, which arrive on `runtime.tones$`.
 */
import type { MediaInfoJson } from '../machines/call/io.js';
import type { PromptOutput } from '../machines/prompt/types.js';
import { checkPlayPrompt, type PlayPromptOptions } from '../options/calls.js';
import { parseOptions } from '../options/error.js';
import { whileLogged } from '../options/runtime.js';
import { nonEmptyString } from '../options/shapes.js';
import { requireCall } from './calls.js';
import type { CallActor, RuntimeContext } from './context.js';
import { whenEstablished } from './placed.js';
import { RuntimeError } from './types.js';

let promptSeq = 0;

/**
 * Play 1..20 prompts (WAV, mono, 16-bit, 16 kHz) on an established call.
 * Resolves with the prompt's output (`final`: completed, failed, canceled);
 * a `loop` prompt resolves only once canceled (cancelMedia) or the call ends.
 * A call still being set up plays it once established. Rejects, before any
 * request, with OptionsError for bad input and RuntimeError('promptRejected')
 * when the call is not established (ending, or ended before it was up).
 */
export function playPrompt(
  ctx: RuntimeContext,
  callId: string,
  prompts: unknown,
  options: PlayPromptOptions = {},
): Promise<PromptOutput> {
  try {
    const media = whileLogged(ctx.log, () => checkPlayPrompt(callId, prompts, options), callId);
    const actor = requireCall(ctx, callId);
    // Still being set up (e.g. asked from a `call.established` listener, which runs before the
    // call's state is committed): play once it is up.
    if (settingUp(actor))
      return whenEstablished(ctx, callId).then(() => playPrompt(ctx, callId, prompts, options));
    // Asked from inside one of the call's own listeners, an event would wait in its mailbox
    // until the transition ends: send after it.
    return Promise.resolve().then(() => start(ctx, callId, media, options));
  } catch (err) {
    return Promise.reject(err);
  }
}

function start(
  ctx: RuntimeContext,
  callId: string,
  media: MediaInfoJson[],
  options: PlayPromptOptions,
): Promise<PromptOutput> {
  const actor = requireCall(ctx, callId);
  const promptId = `prompt-r${++promptSeq}`;
  let refused: string | undefined;
  const rejected = actor.on('call.promptRejected', (e) => {
    if (e.promptId === promptId) refused = e.reason;
  });
  const done = new Promise<PromptOutput>((resolve) => {
    const sub = actor.on('call.promptDone', (e) => {
      if (e.promptId !== promptId) return;
      sub.unsubscribe();
      resolve(
        e.output ?? {
          callId,
          promptId,
          clientContext: '',
          final: 'failed',
          ...(e.error ? { error: e.error } : {}),
          at: ctx.clock.now(),
        },
      );
    });
  });
  actor.send({
    type: 'PLAY_PROMPT',
    at: ctx.clock.now(),
    promptId,
    clientContext: options.clientContext ?? ctx.ids(),
    prompts: media,
    ...(options.loop ? { loop: true } : {}),
  });
  rejected.unsubscribe();
  const spawned = (actor.getSnapshot().children as Record<string, unknown>)[promptId];
  if (refused || !spawned)
    throw new RuntimeError(
      'promptRejected',
      `prompt not played on call ${callId}: ${refused ?? 'the call is not established'}`,
    );
  return done;
}

const settingUp = (actor: CallActor) => {
  const snap = actor.getSnapshot();
  return snap.status === 'active' && !snap.matches('established') && snap.hasTag('setup');
};

/**
 * Ask Graph for the caller's key presses (once per call is enough); they come
 * on `tones$`. Resolves once asked (a call still being set up: once it is up);
 * rejects with RuntimeError('notEstablished') for a call that is ending.
 */
export async function subscribeToTones(
  ctx: RuntimeContext,
  callId: string,
  clientContext?: string,
): Promise<void> {
  if (clientContext !== undefined)
    whileLogged(ctx.log, () =>
      parseOptions('subscribeToTones', nonEmptyString('a clientContext'), clientContext, 'clientContext'),
    );
  const actor = requireCall(ctx, callId);
  if (settingUp(actor)) await whenEstablished(ctx, callId);
  if (!actor.getSnapshot().matches('established'))
    throw new RuntimeError('notEstablished', `call ${callId} is not established: no key presses to ask for`);
  actor.send({ type: 'SUBSCRIBE_TONES', at: ctx.clock.now(), ...(clientContext ? { clientContext } : {}) });
}
