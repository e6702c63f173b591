/**
 * Integration kit for the runtime tests: the harness (emulator, runtime with
 * the real undici adapter, loopback bot, one SimulatedClock) plus everything
 * the runtime reports, collected with simulated timestamps.
 */
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import type { ParsedNotification } from '../../src/notifications/index.js';
import type { RuntimeEvent, StateChange } from '../../src/runtime.js';
import { createHarness, type Harness, type HarnessOptions } from '../../src/testing/harness.js';

export const SEC = 1_000;
export const MIN = 60_000;

export interface Bench extends Harness {
  t0: number;
  states: StateChange[];
  events: RuntimeEvent[];
  notifications: ParsedNotification[];
  /** Ms since t0. */
  rel(at: number): number;
  /** The call actor's state values with their times (ms since t0), consecutive repeats merged. */
  callStates(callId: string): Array<[number, unknown]>;
  /** The record actor's state values with their times (ms since t0). */
  recordStates(callId: string, recordId: string): Array<[number, string]>;
  /** Emulator requests of one route (and call), as [ms since t0, status]. */
  requests(route: string, callId?: string): Array<[number, number]>;
  eventsOf(callId: string, type?: string): RuntimeEvent[];
  /** Writes and deletes of the (default, observed memory) store, times in ms since t0. */
  storeOps: StoreOp[];
}

const flat = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v as Record<string, unknown>)
        .map(([k, c]) => `${k}.${flat(c)}`)
        .join(',');

export async function bench(opts: HarnessOptions = {}): Promise<Bench> {
  let rel0 = (_at: number) => 0;
  const observed = observedStore(() => rel0(0));
  const h = await createHarness({ store: observed.store, ...opts });
  const t0 = h.clock.now();
  rel0 = () => h.clock.now() - t0;
  const states: StateChange[] = [];
  const events: RuntimeEvent[] = [];
  const notifications: ParsedNotification[] = [];
  h.runtime.states$.subscribe((s) => states.push(s));
  h.runtime.events$.subscribe((e) => events.push(e));
  h.runtime.notifications$.subscribe((n) => notifications.push(n));
  const rel = (at: number) => at - t0;
  const merged = (list: Array<[number, string]>) =>
    list.filter((s, i) => i === 0 || s[1] !== list[i - 1]?.[1]);
  return {
    ...h,
    t0,
    states,
    events,
    notifications,
    storeOps: observed.ops,
    rel,
    callStates: (callId) =>
      merged(
        states
          .filter((s) => s.callId === callId && s.machine === 'call')
          .map((s) => [rel(s.at), flat(s.value)] as [number, string]),
      ),
    recordStates: (callId, recordId) =>
      merged(
        states
          .filter((s) => s.callId === callId && s.actor === recordId)
          .map((s) => [rel(s.at), flat(s.value)] as [number, string]),
      ),
    requests: (route, callId) =>
      h.emulator.control
        .requests({ route: route as never, ...(callId ? { callId } : {}) })
        .map((r) => [rel(r.at), r.status] as [number, number]),
    eventsOf: (callId, type) => events.filter((e) => e.callId === callId && (!type || e.type === type)),
  };
}

export interface StoreOp {
  op: 'write' | 'delete';
  key: string;
  /** Ms since t0. */
  at: number;
  bytes?: number;
}

/** A memory store that logs writes and deletes with their clock times. */
export function observedStore(now: () => number) {
  const inner = createMemoryRecordingStore();
  const ops: StoreOp[] = [];
  const store: RecordingStore = {
    async write(key, body, signal) {
      const clip = await inner.write(key, body, signal);
      ops.push({ op: 'write', key, at: now(), bytes: clip.bytes });
      return clip;
    },
    open: (key) => inner.open(key),
    async delete(key) {
      await inner.delete(key);
      ops.push({ op: 'delete', key, at: now() });
    },
    list: () => inner.list(),
    close: () => inner.close(),
  };
  return { store, ops, inner };
}
