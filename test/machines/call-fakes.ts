/**
 * A call machine with every named actor faked (in-memory, on the simulated
 * clock), started from any `start`, with what it emitted and its output.
 */
import { type AnyActorRef, createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import {
  type AnswerActorInput,
  type CallEmitted,
  type CallInput,
  type CallOutput,
  callMachine,
  type PlaceCallActorInput,
  type PlaceCallOutput,
  type PlayPromptActorInput,
  type PlayPromptOutput,
  promptMachine,
  type RedirectActorInput,
  type RejectActorInput,
  recordMachine,
  type SubscribeToToneActorInput,
} from '../../src/machines/index.js';
import { FakeActor, recordFakes } from './fakes.js';

type Timed = { at: number };

function fakes(clock: SimulatedClock) {
  const ok = () => ({ at: clock.now() });
  const fake = <I, O>(respond?: () => O) => new FakeActor<I, O>(clock, respond);
  return {
    keepAlive: fake<{ callId: string }, Timed>(ok),
    hangUp: fake<{ callId: string }, Timed>(ok),
    cancelMedia: fake<{ callId: string; clientContext?: string }, Timed>(ok),
    answer: fake<AnswerActorInput, Timed>(ok),
    reject: fake<RejectActorInput, Timed>(ok),
    redirect: fake<RedirectActorInput, Timed>(ok),
    placeCall: fake<PlaceCallActorInput, PlaceCallOutput>(() => ({
      callId: 'graph-call-9',
      state: 'establishing',
      at: clock.now(),
    })),
    subscribeToTone: fake<SubscribeToToneActorInput, Timed>(ok),
    playPrompt: fake<PlayPromptActorInput, PlayPromptOutput>(() => ({
      operationId: 'prompt-op-1',
      status: 'running',
      at: clock.now(),
    })),
  };
}

export function startCall(
  input: Partial<CallInput> = {},
  prepare?: (f: ReturnType<typeof fakes>, clock: SimulatedClock) => void,
) {
  const clock = new SimulatedClock();
  const t0 = clock.now();
  const f = fakes(clock);
  prepare?.(f, clock);
  const rf = recordFakes(clock);
  const machine = callMachine.provide({
    actors: {
      keepAlive: f.keepAlive.logic(),
      hangUp: f.hangUp.logic(),
      cancelMedia: f.cancelMedia.logic(),
      answer: f.answer.logic(),
      reject: f.reject.logic(),
      redirect: f.redirect.logic(),
      placeCall: f.placeCall.logic(),
      subscribeToTone: f.subscribeToTone.logic(),
      recordMachine: recordMachine.provide({ actors: rf.actors }),
      promptMachine: promptMachine.provide({ actors: { playPrompt: f.playPrompt.logic() } }),
    },
  });
  const actor = createActor(machine, { clock, input: { callId: 'call-1', at: t0, ...input } });
  const events: CallEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return {
    clock,
    t0,
    actor,
    f,
    rf,
    events,
    errors,
    value: () => actor.getSnapshot().value,
    output: () => actor.getSnapshot().output as CallOutput | undefined,
    child: (id: string) => (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id],
    ofType: <T extends CallEmitted['type']>(type: T) =>
      events.filter((e): e is Extract<CallEmitted, { type: T }> => e.type === type),
  };
}
