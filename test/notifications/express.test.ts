/**
 * Issue 16.2: the Express example, for real (Express 5 on loopback, the
 * emulator signing its notifications, token validation on), with and without
 * `express.json()` in front of the handler: either way the recording
 * completes, is processed and deleted, and no notification is refused.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLBACK_PATH, createExpressBot } from '../../examples/express-app.js';
import { createHarness, type Harness } from '../../src/testing/harness.js';

const MIN = 60_000;

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
  h = server = undefined;
});

describe.each([
  ['handler before any body parser', false],
  ['express.json() in front of the handler', true],
])('Express bot, %s', (_what, jsonFirst) => {
  it('records, processes and deletes a clip, then hangs up', async () => {
    h = await createHarness(); // notification tokens verified against the emulator's keys
    const app = createExpressBot(h.runtime, { jsonFirst });
    const listening = app.listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    const callbackUri = `http://127.0.0.1:${(listening.address() as AddressInfo).port}${CALLBACK_PATH}`;
    const { id: callId } = h.emulator.createCall({
      callbackUri,
      script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } },
    });
    h.runtime.track(callId);
    const done = h.runtime.record(callId, { stopTones: ['#'] }, (clip) => clip.bytes);
    await h.clock.advance(5 * MIN);
    await expect(done).resolves.toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      completionReason: 'stopToneDetected',
    });
    expect(await h.store.list()).toEqual([]);
    await expect(h.runtime.hangUp(callId)).resolves.toMatchObject({ reason: 'hungUp' });
    // The completion reached the record through the Express route; nothing was refused.
    expect(h.runtime.stats()).toMatchObject({ rejectedNotifications: 0, routed: 1 });
  });
});
