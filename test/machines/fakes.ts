/**
 * In-memory fakes for the machines' named actors, on the discrete-event
 * SimulatedClock. Each FakeActor records every invocation (input, clock time,
 * abort signal) and answers through `respond`, or stays pending until the test
 * settles it by hand.
 */
import { type ActorRefLike, fromCallback, fromPromise, type InspectionEvent } from 'xstate';
import type { SimulatedClock } from '../../src/adapters/clock.js';
import {
  type Completion,
  type ErrorJson,
  type NotificationEvent,
  type ProcessClipInput,
  type ResultInfoJson,
  recordMachine,
  type StartRecordOutput,
} from '../../src/machines/index.js';

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

export interface Invocation<I, O> {
  input: I;
  at: number;
  signal: AbortSignal;
  settled: boolean;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** What `respond` returns: a value (resolve), a thrown error (reject), or PENDING (test settles it later). */
export const PENDING = Symbol('pending');
type Answer<O> = O | Promise<O> | typeof PENDING;

export class FakeActor<I, O> {
  readonly calls: Invocation<I, O>[] = [];
  constructor(
    private readonly clock: SimulatedClock,
    public respond: (input: I, call: Invocation<I, O>) => Answer<O> = () => PENDING,
  ) {}

  get last(): Invocation<I, O> {
    const c = this.calls.at(-1);
    if (!c) throw new Error('no invocation yet');
    return c;
  }

  get times(): number[] {
    return this.calls.map((c) => c.at);
  }

  logic() {
    return fromPromise<O, I>(({ input, signal }) => {
      let resolve!: (v: O) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<O>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const call: Invocation<I, O> = {
        input,
        at: this.clock.now(),
        signal,
        settled: false,
        resolve: (v) => {
          call.settled = true;
          resolve(v);
        },
        reject: (e) => {
          call.settled = true;
          reject(e);
        },
      };
      this.calls.push(call);
      try {
        const answer = this.respond(input, call);
        if (answer !== PENDING) Promise.resolve(answer).then(call.resolve, call.reject);
      } catch (err) {
        call.reject(err);
      }
      return promise;
    });
  }
}

/** The plain JSON error the runtime throws (GraphError.toJSON() plus `at`). */
export function httpError(status: number, at: number, extra: Partial<ErrorJson> = {}): ErrorJson {
  return { kind: 'http', status, code: String(status), message: `HTTP ${status}`, at, ...extra };
}

/** The record side: startRecord, download (writes bytes to `store`), process, delete, and a clip guard. */
export function recordFakes(clock: SimulatedClock) {
  const store = new Map<string, number>();
  const guard = { started: 0, cleanups: 0 };
  const startRecord = new FakeActor<
    { callId: string; clientContext: string; options: Record<string, unknown> },
    StartRecordOutput
  >(clock, () => ({ operationId: 'op-1', status: 'running', at: clock.now() }));
  const download = new FakeActor<
    { callId: string; operationId: string; recordingLocation: string; storeKey: string },
    { bytes: number; at: number }
  >(clock, (input) => {
    store.set(input.storeKey, 160_696);
    return { bytes: 160_696, at: clock.now() };
  });
  const process = new FakeActor<ProcessClipInput, { at: number; summary?: unknown }>(clock, () => ({
    at: clock.now(),
    summary: { words: 3 },
  }));
  const del = new FakeActor<{ storeKey: string }, { at: number }>(clock, (input) => {
    store.delete(input.storeKey);
    return { at: clock.now() };
  });
  const actors = {
    startRecord: startRecord.logic(),
    downloadRecording: download.logic(),
    processClip: process.logic(),
    deleteClip: del.logic(),
    // Like the runtime's guard: deletes whatever is stored when the holding states are left or stopped.
    clipGuard: fromCallback<{ type: 'noop' }, { storeKey: string }>(({ input }) => {
      guard.started++;
      return () => {
        guard.cleanups++;
        store.delete(input.storeKey);
      };
    }),
  };
  return { store, guard, startRecord, download, process, del, actors };
}

export type RecordFakes = ReturnType<typeof recordFakes>;

export function providedRecord(f: RecordFakes) {
  return recordMachine.provide({ actors: f.actors });
}

export function completion(at: number, over: Partial<Completion> = {}): Completion {
  return {
    type: 'OPERATION_COMPLETED',
    at,
    operationId: 'op-1',
    clientContext: 'ctx-1',
    status: 'completed',
    completionReason: 'stopToneDetected',
    resultInfo: { code: 200, subcode: 8515, message: 'ok' },
    recordingLocation: 'https://media.example/rec/op-1',
    hasRecording: true,
    ...over,
  };
}

/** Every state value an actor passes through, transient ones included (from microsteps), as strings. */
export function stateTrail(isTarget: (ref: ActorRefLike) => boolean): {
  trail: string[];
  inspect: (ev: InspectionEvent) => void;
} {
  const trail: string[] = [];
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v).replace(/[{}"]/g, ''));
  return {
    trail,
    inspect(ev) {
      if ((ev.type === '@xstate.microstep' || ev.type === '@xstate.snapshot') && isTarget(ev.actorRef)) {
        const v = show((ev.snapshot as unknown as { value: unknown }).value);
        if (trail.at(-1) !== v) trail.push(v);
      }
    },
  };
}

/** Graph's end of the call as the runtime delivers it: `deleted` on the call, state terminated. */
export function ended(at: number, resultInfo: ResultInfoJson | null = null): NotificationEvent {
  return {
    type: 'NOTIFICATION',
    at,
    changeType: 'deleted',
    resource: { kind: 'call', state: 'terminated', resultInfo, toneInfo: null },
  };
}

/** A call `updated` notification (a state, and maybe a key press). */
export function callUpdate(
  at: number,
  state: string | null,
  toneInfo: { sequenceId: number; tone: string } | null = null,
): NotificationEvent {
  return {
    type: 'NOTIFICATION',
    at,
    changeType: 'updated',
    resource: { kind: 'call', state, resultInfo: null, toneInfo },
  };
}

/** An operation's completion as the runtime delivers it (the token stays in the runtime's vault). */
export function operationDone(
  at: number,
  over: Partial<Extract<NotificationEvent['resource'], { kind: 'operation' }>> = {},
): NotificationEvent {
  return {
    type: 'NOTIFICATION',
    at,
    changeType: 'deleted',
    resource: {
      kind: 'operation',
      odataType: 'recordOperation',
      operationId: 'op-1',
      clientContext: 'ctx-1',
      status: 'completed',
      completionReason: 'stopToneDetected',
      resultInfo: { code: 200, subcode: 8515, message: 'ok' },
      recordingLocation: 'https://media.example/rec/op-1',
      hasRecording: true,
      ...over,
    },
  };
}
