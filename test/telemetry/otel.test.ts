/**
 * Optional OpenTelemetry: with a tracer and a meter provider registered
 * through @opentelemetry/api, a record's life shows as spans (keepAlive,
 * record, downloadRecording, clip write and delete) on the runtime's
 * clock, with counters for keepAlives and record outcomes; no token in any
 * attribute. Minimal in-test providers stand in for an SDK.
 */
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTelemetry } from '../../src/runtime/telemetry.js';
import { createHarness, type Harness } from '../../src/testing/harness.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  start: number;
  end?: number;
  status?: { code: number; message?: string };
}
const spans: Recorded[] = [];
const counts: Array<{ name: string; n: number; attrs?: Record<string, unknown> }> = [];

const span = (r: Recorded) => ({
  setAttribute(k: string, v: unknown) {
    r.attributes[k] = v;
    return this;
  },
  setStatus(s: { code: number; message?: string }) {
    r.status = s;
    return this;
  },
  end(t?: number) {
    r.end = t;
  },
});

beforeAll(() => {
  trace.setGlobalTracerProvider({
    getTracer: () =>
      ({
        startSpan(name: string, o: { attributes?: Record<string, unknown>; startTime?: number } = {}) {
          const r: Recorded = { name, attributes: { ...o.attributes }, start: o.startTime ?? -1 };
          spans.push(r);
          return span(r);
        },
      }) as never,
  });
  metrics.setGlobalMeterProvider({
    getMeter: () =>
      ({
        createCounter: (name: string) => ({
          add: (n: number, attrs?: Record<string, unknown>) => counts.push({ name, n, attrs }),
        }),
      }) as never,
  });
});

let h: Harness | undefined;
afterAll(async () => {
  await h?.close();
  trace.disable();
  metrics.disable();
});

it('a record and a keepAlive as spans on the clock, and counters; no token in them', async () => {
  expect(await loadTelemetry()).toBe(true);
  const recordingTokens: string[] = [];
  h = await createHarness({
    verifyNotifications: false,
    onRequest: (req) => {
      if (typeof req.auth === 'object') recordingTokens.push(req.auth.bearer);
    },
    runtime: { log: false },
  });
  const t0 = h.clock.now();
  const { id } = h.emulator.createCall({ callbackUri: h.callbackUri });
  h.runtime.track(id);
  const [result] = await Promise.all([
    h.runtime.record(id, { maxRecordDurationInSeconds: 5 }, () => 'heard'),
    h.clock.advance(16 * 60_000),
  ]);
  expect(result).toMatchObject({ outcome: 'processed', final: 'deleted' });

  const names = spans.map((s) => s.name);
  for (const op of ['record', 'downloadRecording', 'clip.write', 'clip.delete'])
    expect(names).toContain(`graph-call-machines ${op}`);
  const keepAlive = spans.find((s) => s.name === 'graph-call-machines keepAlive');
  // On simulated time: the first keepAlive at 15:00 of the call.
  expect(keepAlive).toMatchObject({
    start: t0 + 15 * 60_000,
    attributes: {
      'gcm.operation': 'keepAlive',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    },
  });
  expect(spans.every((s) => s.end !== undefined && s.end >= s.start)).toBe(true);
  expect(counts).toContainEqual({ name: 'gcm.keepalive.sent', n: 1, attrs: undefined });
  expect(counts).toContainEqual({ name: 'gcm.records.ended', n: 1, attrs: { outcome: 'processed' } });

  expect(recordingTokens.length).toBeGreaterThan(0);
  const dumped = JSON.stringify({ spans, counts });
  for (const t of [...recordingTokens, 'test-app-token']) expect(dumped).not.toContain(t);
});
