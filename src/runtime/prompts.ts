/**
 * Prompts and key presses on a tracked call: `playPrompt` spawns a prompt
 * child and resolves with how its operation ended; `subscribeToTones` asks
 * Graph for key presses, which arrive on `runtime.tones$`.
 */
import type { PromptOutput } from '../machines/prompt/types.js';
import { checkPlayPrompt, type PlayPromptOptions } from '../options/calls.js';
import { parseOptions } from '../options/error.js';
import { whileLogged } from '../options/runtime.js';
import { nonEmptyString } from '../options/shapes.js';
import { requireCall } from './calls.js';
import type { RuntimeContext } from './context.js';
import { RuntimeError } from './types.js';

let promptSeq = 0;

/**
 * Play 1..20 prompts (WAV, mono, 16-bit, 16 kHz) on an established call.
 * Resolves with the prompt's output (`final`: completed, failed, canceled);
 * a `loop` prompt resolves only once canceled (cancelMedia) or the call ends.
 * Rejects, before any request, with OptionsError for bad input and
 * RuntimeError('promptRejected') when the call is not established.
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
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Ask Graph for the caller's key presses (once per call is enough); they come on `tones$`. */
export function subscribeToTones(ctx: RuntimeContext, callId: string, clientContext?: string): void {
  if (clientContext !== undefined)
    whileLogged(ctx.log, () =>
      parseOptions('subscribeToTones', nonEmptyString('a clientContext'), clientContext, 'clientContext'),
    );
  const actor = requireCall(ctx, callId);
  if (!actor.getSnapshot().matches('established'))
    throw new RuntimeError('notEstablished', `call ${callId} is not established: no key presses to ask for`);
  actor.send({ type: 'SUBSCRIBE_TONES', at: ctx.clock.now(), ...(clientContext ? { clientContext } : {}) });
}
