import { createMemoryRecordingStore } from '../adapters/memory-store.js';
import type { RecordingStore } from '../adapters/recording-store.js';
import type { FaultSpec } from '../emulator/index.js';
import type { ClipHandler } from '../runtime/clip.js';
import { createHarness, type Harness, type HarnessOptions } from './harness.js';
import { type ModelEvent, shortEvent } from './model-core.js';

export const SEC = 1_000;
export const MIN = 60_000;
/** Unique clientContexts (a harness may be shared by several runs). */
export let runSeq = 0;
/** The next unique run number. */
export const nextRun = () => ++runSeq;

/** A harness whose store can be told to refuse the next deletes. */
export interface ModelHarness extends Harness {
  /** The next `n` deletes of the store fail (EBUSY). */
  failDeletes(n: number): void;
}

/**
 * createHarness with what the model driver needs: a store whose deletes can
 * fail on demand, and the emulator's keepAlive expiry one minute after
 * Graph's 45 (the machine's own deadline is what a path observes; the real
 * service ends the call at about the same time, which the emulator tests cover).
 */
export async function createModelHarness(opts: HarnessOptions = {}): Promise<ModelHarness> {
  const inner = opts.store ?? createMemoryRecordingStore();
  let refuse = 0;
  const store: RecordingStore = {
    write: (key, body, signal) => inner.write(key, body, signal),
    open: (key) => inner.open(key),
    async delete(key) {
      if (refuse > 0) {
        refuse--;
        throw Object.assign(new Error('model: delete refused'), { code: 'EBUSY' });
      }
      return inner.delete(key);
    },
    list: () => inner.list(),
    close: () => inner.close(),
  };
  const h = await createHarness({
    ...opts,
    store,
    emulator: { keepAliveTimeoutMs: 46 * MIN, ...opts.emulator },
  });
  return Object.assign(h, {
    failDeletes(n: number) {
      refuse = n;
    },
  });
}

export interface PathRun {
  path: string;
  ok: boolean;
  /** What went wrong, with the step it happened at. */
  error?: string;
  /** Abstract states the path expects, consecutive repeats merged. */
  expected: string[];
  /** Abstract states the actor went through, consecutive repeats merged. */
  observed: string[];
  /** Simulated time the path took. */
  simulatedMs: number;
}

export interface RunRecordOptions {
  /**
   * Your clip handler: called on every path that reaches processing, with
   * the clip the emulator recorded. The driver decides when it runs and how
   * processing ends (it throws after your handler on `processClip error`
   * paths, waits for the abort on timeout paths), so each path also shows
   * your handler is aborted, and the clip deleted, whatever happens.
   */
  handler?: ClipHandler;
}

// ------------------------------------------------------------------ common

export class Trace {
  readonly keys: string[] = [];
  push(key: string) {
    if (this.keys[this.keys.length - 1] !== key) this.keys.push(key);
  }
}

/** Expected keys (merged) and, for each step, the index of its key in them. */
export function expectation<S>(steps: ReadonlyArray<{ state: S }>, key: (s: S) => string) {
  const expected: string[] = [];
  const at: number[] = [];
  for (const step of steps) {
    const k = key(step.state);
    if (expected[expected.length - 1] !== k) expected.push(k);
    at.push(expected.length - 1);
  }
  return { expected, at };
}

export function divergence(trace: Trace, expected: string[]): number {
  for (let i = 0; i < trace.keys.length; i++) if (trace.keys[i] !== expected[i]) return i;
  return -1;
}

export const short = (key: string | undefined) => {
  if (key === undefined) return '(nothing)';
  const o = JSON.parse(key) as Record<string, unknown>;
  return Object.entries(o)
    .filter(([, v]) => v !== false && v !== null && v !== 'none')
    .map(([k, v]) => (k === 'v' ? JSON.stringify(v) : `${k}=${JSON.stringify(v)}`))
    .join(' ');
};

/** The PathRun of a path, once it passed (no error) or failed. */
export function resultOf(
  h: { clock: { now(): number } },
  path: string,
  expected: string[],
  trace: Trace,
  t0: number,
) {
  return (error?: string): PathRun => ({
    path,
    ok: !error,
    ...(error ? { error } : {}),
    expected: expected.map(short),
    observed: trace.keys.map(short),
    simulatedMs: h.clock.now() - t0,
  });
}

export class PathFailure extends Error {}

export interface Follow {
  h: Harness;
  trace: Trace;
  expected: string[];
  at: number[];
  steps: ReadonlyArray<{ event: ModelEvent }>;
  perform(i: number): Promise<void> | void;
  /** Longest simulated wait for step i to show. */
  limitMs?: number;
}

/** Take each step, then move time until the actor shows the step's state (or leaves the path). */
export async function follow(f: Follow): Promise<void> {
  const check = (i: number) => {
    const d = divergence(f.trace, f.expected);
    if (d >= 0)
      throw new PathFailure(
        `step ${i} (${shortEvent(f.steps[i]!.event)}): expected ${short(f.expected[d])}, the actor went to ${short(f.trace.keys[d])}`,
      );
  };
  check(0);
  for (let i = 1; i < f.steps.length; i++) {
    await f.perform(i);
    const want = f.at[i]!;
    const reached = () => f.trace.keys.length > want || divergence(f.trace, f.expected) >= 0;
    const ok = await f.h.clock.runUntil(reached, f.limitMs ?? 2 * 3600_000);
    check(i);
    if (!ok || f.trace.keys.length <= want)
      throw new PathFailure(
        `step ${i} (${shortEvent(f.steps[i]!.event)}): ${short(f.expected[want])} never came (still ${short(f.trace.keys[f.trace.keys.length - 1])})`,
      );
  }
  // Nothing more may happen by itself once the path is done (time does not move here).
  await f.h.clock.advance(0);
  check(f.steps.length - 1);
  if (f.trace.keys.length !== f.expected.length)
    throw new PathFailure(
      `after the last step the actor went on to ${short(f.trace.keys[f.expected.length])}`,
    );
}

export const stateValue = (s: unknown) => (s as { value: unknown }).value;
/** `{ established: 'active' }` as `established.active`. */
export const flatValue = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v as Record<string, unknown>)
        .map(([k, c]) => `${k}.${flatValue(c)}`)
        .join(',');
export const errorOf = (e: ModelEvent) => (e as { error?: { status?: number; at?: number } }).error;

export interface Gate {
  promise: Promise<void>;
  open(): void;
}
export function gate(): Gate {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export function fault(h: Harness, spec: FaultSpec) {
  h.emulator.control.injectFault(spec);
}

/** The call machine in `draining` tells the record CALL_ENDED: end it with a DELETE that Graph answers 404 (already gone), so the emulator's call, and its recording, go on. */
export function endCallLocally(h: Harness, callId: string) {
  fault(h, { route: 'hangUp', callId, count: 1, fault: { kind: 'status', status: 404 } });
  h.runtime.hangUp(callId).catch(() => {});
}

export async function storeKeysOf(h: Harness, recordIds: string[]): Promise<string[]> {
  const keys = await h.store.list();
  return keys.filter((k) => recordIds.some((id) => k.endsWith(`-${id}`)));
}

// -------------------------------------------------------------- record path
