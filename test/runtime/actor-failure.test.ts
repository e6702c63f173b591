/**
 * A call actor that fails (one of its steps throws) is reported and dropped,
 * never rethrown, and the other calls carry on. The failure is made real: the
 * runtime's clock refuses one timer, the keepAlive deadline call A arms when
 * its first keepAlive falls due (30 minutes ahead then), so XState's step
 * throws inside A's actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { Clock } from '../../src/ports/clock.js';
import type { LogEntry } from '../../src/ports/log.js';
import { type CallRuntime, createCallRuntime, type StateChange } from '../../src/runtime.js';

const MIN = 60_000;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The simulated clock, except that it throws once for the next timer of `refuseMs`. */
function refusingClock(sim: SimulatedClock) {
  let refuseMs: number | undefined;
  const clock: Clock = {
    now: () => sim.now(),
    setTimeout(fn, ms) {
      if (ms === refuseMs) {
        refuseMs = undefined;
        throw new TypeError('timer refused by the test clock');
      }
      return sim.setTimeout(fn, ms);
    },
    clearTimeout: (h) => sim.clearTimeout(h),
    track: (work, options) => sim.track(work, options),
    park: () => sim.park(),
  };
  return { clock, refuseNext: (ms: number) => (refuseMs = ms) };
}

async function setup() {
  const sim = new SimulatedClock();
  const emulator = await startEmulator({ clock: sim });
  const http = createUndiciHttp({ token: staticToken('test-app-token'), clock: sim });
  const { clock, refuseNext } = refusingClock(sim);
  const logs: LogEntry[] = [];
  const runtime: CallRuntime = createCallRuntime({
    clock,
    http,
    store: createMemoryRecordingStore(),
    graphUrl: emulator.url,
    notificationAuth: false,
    log: (e) => logs.push(e),
  });
  const states: StateChange[] = [];
  runtime.states$.subscribe((s) => states.push(s));
  closers.push(async () => {
    await runtime.stop();
    await http.close();
    await emulator.close();
  });
  const call = () => emulator.createCall({ callbackUri: 'http://127.0.0.1:9/unused' }).id;
  return { sim, emulator, runtime, logs, states, refuseNext, call };
}

describe('a call actor that fails', () => {
  it('is logged and dropped without an uncaught error; the other call keeps its keepAlives', async () => {
    const t = await setup();
    const a = t.call();
    const b = t.call();
    t.runtime.track(a);
    t.runtime.track(b);
    // A's timer fires first (armed first): its step into keepAliveDue arms the deadline (45 min after the
    // start, so 30 min ahead), and the clock refuses it.
    t.refuseNext(30 * MIN);
    await t.sim.advance(60 * MIN);

    expect(t.runtime.get(a)).toBeUndefined();
    expect(t.runtime.calls()).toEqual([b]);
    expect(t.logs.filter((e) => e.msg === 'call actor failed')).toEqual([
      expect.objectContaining({ level: 'error', callId: a, error: 'timer refused by the test clock' }),
    ]);
    expect(t.states.filter((s) => s.callId === a).at(-1)).toMatchObject({ machine: 'call', status: 'error' });
    // A never got to POST; B kept the 15-minute cadence and is still up.
    expect(t.emulator.control.requests({ route: 'keepAlive', callId: a })).toEqual([]);
    const kb = t.emulator.control.requests({ route: 'keepAlive', callId: b });
    expect(kb.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(t.runtime.get(b)?.getSnapshot().value).toEqual({ established: 'active' });
  });

  it('a call that ends normally is still dropped from the registry and kept for whenEnded', async () => {
    const t = await setup();
    const a = t.call();
    t.runtime.track(a);
    const ended = t.runtime.whenEnded(a);
    // Gone without a word (no notification): the next keepAlive's 404 ends it.
    t.emulator.control.hangUpByCaller(a, { silent: true });
    await t.sim.advance(16 * MIN);
    expect((await ended).reason).toBe('notFound');
    expect(t.runtime.get(a)).toBeUndefined();
    expect(t.runtime.calls()).toEqual([]);
    expect(await t.runtime.whenEnded(a)).toMatchObject({ reason: 'notFound' });
    expect(t.logs.filter((e) => e.msg === 'call ended')).toEqual([
      expect.objectContaining({ callId: a, reason: 'notFound' }),
    ]);
  });
});
