/**
 * Issue 13.1 end to end: a POST to the bot's real loopback server whose batch
 * holds a malformed item next to a valid "call deleted" notification. The POST
 * gets 202, the call ends at once (not 45 minutes later), and the bad item is
 * reported in the log and on events$ without its recordingAccessToken.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry, RuntimeEvent } from '../../src/runtime.js';
import { createHarness, type Harness } from '../../src/testing/harness.js';
import { callEnded, envelope, recordCompleted } from './bodies.js';
import { settle } from './kit.js';

const SECRET = 'leaked-recording-token-0123456789';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function post(url: string, body: unknown): Promise<number> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

describe('one malformed item in a batch', () => {
  it.each([
    ['a recordOperation with status: 3', { status: 3 }],
    [
      'a miscased @odata.type with no status',
      { '@odata.type': '#microsoft.graph.RECORDOPERATION', status: undefined },
    ],
    ['a resultInfo code of 400 digits', { resultInfo: { code: '9'.repeat(400), subcode: 8515 } }],
  ])('%s does not keep the valid call end beside it from ending the call', async (_what, change) => {
    const logs: LogEntry[] = [];
    h = await createHarness({ verifyNotifications: false, runtime: { log: (e) => logs.push(e) } });
    const events: RuntimeEvent[] = [];
    h.runtime.events$.subscribe((e) => events.push(e));
    const callId = h.call();
    await settle(h);
    const ended = h.runtime.whenEnded(callId);
    const t0 = h.clock.now();

    const bad = recordCompleted({
      callId,
      operationId: '0fe0623f-d628-42ed-b4bd-8ac290072cc5',
      clientContext: 'ctx',
      recordingLocation: 'https://recordings.example/clip',
      recordingAccessToken: SECRET,
    });
    Object.assign(bad.resourceData as object, change);
    expect(await post(h.callbackUri, envelope(bad, callEnded(callId)))).toBe(202);
    await settle(h);

    // At once: no simulated time passed (before, it took the 45-minute keepAlive expiry).
    await expect(ended).resolves.toMatchObject({ callId, reason: 'terminated', endedAt: t0 });
    expect(h.runtime.stats()).toMatchObject({ rejectedItems: 1, rejectedNotifications: 1, tracked: 0 });
    const reported = events.filter((e) => e.type === 'notification.rejected');
    expect(reported).toEqual([
      expect.objectContaining({
        callId,
        operationId: '0fe0623f-d628-42ed-b4bd-8ac290072cc5',
        index: 0,
        code: 'invalidNotification',
        message: expect.stringMatching(/^value\.0\.resourceData\.0\./),
      }),
    ]);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'notification item skipped', callId, index: 0 }),
    );
    expect(JSON.stringify({ logs, events })).not.toContain(SECRET);
  });
});
