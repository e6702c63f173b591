/**
 * Issue 18: what the runtime adds to an idle tracked call beyond its call
 * machine actor (same machine, same clock, same input), measured on the heap.
 * Before the per-call entry objects it was ~1.75 KB (three emit listeners,
 * an inspect closure, a subscription of closures, a policy copy); now ~0.43 KB (0.45 to 0.6 KB measured under vitest).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAdapter } from '../../src/adapters/http.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { createCallRuntime } from '../../src/runtime.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 3000;
const guid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await turn();
  }
  return process.memoryUsage().heapUsed;
}

/** No request is made while the calls idle (no time passes); one would fail the test. */
const noGraph: HttpAdapter = {
  request: async () => {
    throw new Error('no request expected');
  },
  close: async () => {},
};

describe('heap per idle tracked call (issue 18)', () => {
  it('the runtime adds at most 0.9 KB to a call beyond its call machine actor, and no emit listener', async () => {
    const clock = new SimulatedClock();
    const runtime = createCallRuntime({
      clock,
      http: noGraph,
      store: createMemoryRecordingStore(),
      notificationAuth: false,
    });
    // Warm both paths, so compiled code and shapes are not counted per call.
    for (let i = 0; i < 200; i++) runtime.track(guid(100_000 + i));
    const machine = runtime.get(guid(100_000))!.logic;
    const warm = Array.from({ length: 200 }, (_, i) =>
      createActor(machine, { clock, input: { callId: guid(200_000 + i), at: clock.now() } }).start(),
    );
    for (const a of warm) a.stop();

    const bare = new Map<string, unknown>();
    const b0 = await settledHeap();
    for (let i = 0; i < N; i++) {
      const callId = guid(i);
      bare.set(callId, createActor(machine, { clock, input: { callId, at: clock.now() } }).start());
    }
    const machineBytes = ((await settledHeap()) - b0) / N;
    for (const a of bare.values()) (a as { stop(): void }).stop();
    bare.clear();

    const t0 = await settledHeap();
    for (let i = 0; i < N; i++) runtime.track(guid(300_000 + i));
    const trackedBytes = ((await settledHeap()) - t0) / N;

    const added = trackedBytes - machineBytes;
    expect(runtime.stats().tracked).toBe(N + 200);
    expect(
      added,
      `runtime share per call ${added.toFixed(0)} B (machine ${machineBytes.toFixed(0)} B)`,
    ).toBeLessThan(900);
    // An idle call has emitted nothing: our listener comes with its first emit.
    const listeners = (runtime.get(guid(300_000)) as unknown as { eventListeners: Map<string, Set<unknown>> })
      .eventListeners;
    expect([...listeners.values()].reduce((n, s) => n + s.size, 0)).toBe(0);
    await runtime.stop();
  });
});
