/**
 * A record asked for while another is still recording waits for it: its
 * completion wait grows by the time the one ahead may still take, once (the
 * call machine adds it; the runtime no longer adds it a second time).
 */
import { afterEach, expect, it } from 'vitest';
import { completionWindowMs, DEFAULT_RECORD_POLICY } from '../../src/machines/index.js';
import { type Bench, bench } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

it("a queued record's completion deadline counts the record ahead once", async () => {
  b = await bench({ verifyNotifications: false });
  const callId = b.call();
  const opts = { maxRecordDurationInSeconds: 20 };
  const first = b.runtime.record(callId, opts, () => 1);
  const second = b.runtime.record(callId, opts, () => 2);
  const records = b.runtime.get(callId)?.getSnapshot().context.records ?? {};
  const ahead = records['rec-1']?.completionDeadlineAt ?? 0;
  const own = completionWindowMs(opts, DEFAULT_RECORD_POLICY);
  expect(records['rec-2']?.completionDeadlineAt).toBe(ahead + own);
  await b.clock.advance(120_000);
  await expect(Promise.all([first, second])).resolves.toMatchObject([{ ok: true }, { ok: true }]);
});
