/**
 * The call machine's setup and media actors (answer, reject, redirect,
 * placeCall, subscribeToTone, and the prompt machine's playPrompt) on the
 * Graph client. Each is one request; the machine owns deadlines and what a
 * failure means. A rejection is plain JSON (errorJson), never a token.
 */
import { fromPromise } from 'xstate';
import type { Clock } from '../adapters/clock.js';
import type { GraphClient } from '../graph/client.js';
import type {
  AnswerActorInput,
  PlaceCallActorInput,
  PlaceCallOutput,
  PlayPromptActorInput,
  PlayPromptOutput,
  RedirectActorInput,
  RejectActorInput,
  SubscribeToToneActorInput,
  Timed,
} from '../machines/call/io.js';
import { errorJson } from './error-json.js';

export interface SetupActorDeps {
  clock: Clock;
  graph: GraphClient;
  /** The bot's notification URL (the runtime's `callbackUri`), used when a request names none. */
  callbackUri: string | undefined;
}

const mediaConfig = (preFetchMedia: AnswerActorInput['preFetchMedia']) =>
  preFetchMedia?.length ? { mediaConfig: { preFetchMedia } } : {};

export function setupActors({ clock, graph, callbackUri }: SetupActorDeps) {
  const timed = async (work: () => Promise<unknown>): Promise<Timed> => {
    try {
      await work();
      return { at: clock.now() };
    } catch (err) {
      throw errorJson(err, clock.now());
    }
  };
  const cb = (given: string | undefined) => {
    const uri = given ?? callbackUri;
    return uri ? { callbackUri: uri } : {};
  };

  return {
    answer: fromPromise<Timed, AnswerActorInput>(({ input, signal }) =>
      timed(() =>
        graph.answer(
          input.callId,
          { ...cb(input.callbackUri), ...mediaConfig(input.preFetchMedia) },
          { signal },
        ),
      ),
    ),
    reject: fromPromise<Timed, RejectActorInput>(({ input, signal }) =>
      timed(() =>
        graph.reject(
          input.callId,
          { reason: input.reason, ...(input.callbackUri ? { callbackUri: input.callbackUri } : {}) },
          { signal },
        ),
      ),
    ),
    redirect: fromPromise<Timed, RedirectActorInput>(({ input, signal }) =>
      timed(() =>
        graph.redirect(
          input.callId,
          {
            targets: input.targets as never,
            ...(input.timeoutInSeconds !== undefined ? { timeout: input.timeoutInSeconds } : {}),
            ...(input.callbackUri ? { callbackUri: input.callbackUri } : {}),
          },
          { signal },
        ),
      ),
    ),
    placeCall: fromPromise<PlaceCallOutput, PlaceCallActorInput>(async ({ input, signal }) => {
      try {
        const placed = await graph.placeCall(
          {
            callbackUri: (input.callbackUri ?? callbackUri) as string,
            targets: input.targets as never,
            ...(input.source ? { source: input.source as never } : {}),
            ...(input.tenantId ? { tenantId: input.tenantId } : {}),
            ...mediaConfig(input.preFetchMedia),
          },
          { signal },
        );
        return { callId: placed.call.id, state: placed.call.state ?? 'establishing', at: clock.now() };
      } catch (err) {
        throw errorJson(err, clock.now());
      }
    }),
    subscribeToTone: fromPromise<Timed, SubscribeToToneActorInput>(({ input, signal }) =>
      timed(() => graph.subscribeToTone(input.callId, { clientContext: input.clientContext }, { signal })),
    ),
    playPrompt: fromPromise<PlayPromptOutput, PlayPromptActorInput>(async ({ input, signal }) => {
      try {
        const started = await graph.playPrompt(
          input.callId,
          {
            clientContext: input.clientContext,
            prompts: input.prompts.map((mediaInfo) => ({ mediaInfo })),
            ...(input.loop ? { loop: true } : {}),
          },
          { signal },
        );
        return { operationId: started.operation.id, status: started.operation.status, at: clock.now() };
      } catch (err) {
        throw errorJson(err, clock.now());
      }
    }),
  };
}
