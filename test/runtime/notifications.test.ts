/**
 * Notifications as Graph really sends them: before the response of the
 * request that caused them, twice, out of order, and in every field variant
 * seen in the wild. Each time the clip is processed exactly once and nothing
 * is left behind; tokens never reach the observable streams.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Variants } from '../../src/emulator/index.js';
import { type Bench, bench, MIN, SEC } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const speakThenHash = { caller: { kind: 'speak' as const, seconds: 3, thenTone: '#' as const } };
const hangUpComplete = { caller: { kind: 'hangUp' as const, afterSeconds: 4, mode: 'complete' as const } };

/** Record once with a counting handler. */
function recordOnce(b: Bench, id: string) {
  const seen = { calls: 0 };
  const done = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, (clip) => {
    seen.calls++;
    return clip.bytes;
  });
  return { seen, done };
}

describe('notification before the response', () => {
  for (const version of ['v1.0', 'beta'] as const) {
    it(`the completion overtakes the ${version} record POST's answer: buffered, processed once`, async () => {
      b = await bench({ beta: version === 'beta' });
      const id = b.call({ script: speakThenHash });
      const route = version === 'beta' ? 'record' : 'recordResponse';
      b.emulator.control.injectFault({ route, count: 1, fault: { kind: 'notification', mode: 'early' } });
      const { seen, done } = recordOnce(b, id);
      await b.clock.advance(MIN);
      const out = await done;
      // The POST arrived at 0 and was answered only after the completion (4 s) reached the bot.
      const op = b.emulator.control.notifications({ callId: id }).find((n) => n.resource === 'operation');
      expect(op).toMatchObject({ delivery: 'delivered', deliveredAt: b.t0 + 4 * SEC, httpStatus: 202 });
      expect(b.requests(route, id)).toEqual([[0, 200]]);
      expect(b.recordStates(id, out.recordId)).toEqual([
        [0, 'requesting'],
        [4 * SEC, 'holdingClip.downloading'],
        [4 * SEC, 'holdingClip.processing.running'],
        [4 * SEC, 'holdingClip.deleting.trying'],
        [4 * SEC, 'deleted'],
      ]);
      expect(out).toMatchObject({
        final: 'deleted',
        outcome: 'processed',
        completionReason: 'stopToneDetected',
      });
      expect(seen.calls).toBe(1);
      expect(b.requests('download')).toEqual([[4 * SEC, 200]]);
      expect(await b.store.list()).toEqual([]);
      expect(b.runtime.stats()).toMatchObject({ unmatchedOperation: 0, tokensHeld: 0 });
    });
  }

  it('a hang-up whose terminated notification overtakes the DELETE answer ends the call once', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      route: 'hangUp',
      count: 1,
      fault: { kind: 'notification', mode: 'early' },
    });
    const hung = b.runtime.hangUp(id);
    await b.clock.advance(MIN);
    // The emulator holds the DELETE's 204 until its terminated notification was delivered, so
    // the call, still in terminating, hears `terminated` first: Graph says the bot ended it (200/7000),
    // so the end is our hang-up, with Graph's resultInfo.
    const out = await hung;
    expect(out).toEqual({
      callId: id,
      reason: 'hungUp',
      endedAt: b.t0,
      resultInfo: { code: 200, subcode: 7000, message: 'The conversation has ended by bot.' },
    });
    expect(b.callStates(id)).toEqual([
      [0, 'established.active'],
      [0, 'terminating'],
      [0, 'ended'],
    ]);
    expect(b.requests('hangUp', id)).toEqual([[0, 204]]);
    expect(b.eventsOf(id, 'call.ended')).toHaveLength(1);
  });
});

describe('duplicates and disorder', () => {
  it('a duplicated completion: one download, the handler called once', async () => {
    b = await bench();
    const id = b.call({ script: speakThenHash });
    b.emulator.control.injectFault({
      callId: id,
      resource: 'operation',
      count: 1,
      fault: { kind: 'notification', mode: 'duplicate' },
    });
    const { seen, done } = recordOnce(b, id);
    await b.clock.advance(MIN);
    const out = await done;
    const ops = b.emulator.control.notifications({ callId: id }).filter((n) => n.resource === 'operation');
    expect(ops.map((n) => [b!.rel(n.deliveredAt ?? 0), n.fault, n.httpStatus])).toEqual([
      [4 * SEC, undefined, 202],
      [4 * SEC, 'duplicate', 202],
    ]);
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(seen.calls).toBe(1);
    expect(b.requests('download')).toEqual([[4 * SEC, 200]]);
    expect(b.emulator.control.call(id)?.recordings[0]?.downloads).toBe(1);
    expect(await b.store.list()).toEqual([]);
  });

  it('duplicated call-end notifications end the call once', async () => {
    b = await bench();
    const id = b.call();
    b.emulator.control.injectFault({
      callId: id,
      resource: 'call',
      count: 2,
      fault: { kind: 'notification', mode: 'duplicate' },
    });
    const ended = b.runtime.whenEnded(id);
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(MIN);
    expect(await ended).toEqual({
      callId: id,
      reason: 'terminated',
      endedAt: b.t0,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
    expect(b.emulator.control.notifications({ callId: id })).toHaveLength(4);
    expect(b.eventsOf(id, 'call.ended')).toHaveLength(1);
    expect(b.runtime.stats().tracked).toBe(0);
  });

  it('a completion held back 2 s (nothing overtakes it) is processed when it comes', async () => {
    b = await bench();
    const id = b.call({ script: speakThenHash });
    b.emulator.control.injectFault({
      callId: id,
      resource: 'operation',
      count: 1,
      fault: { kind: 'notification', mode: 'reorder' },
    });
    const { seen, done } = recordOnce(b, id);
    await b.clock.advance(MIN);
    const out = await done;
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed', at: b.t0 + 6 * SEC });
    expect(seen.calls).toBe(1);
    expect(b.requests('download')).toEqual([[6 * SEC, 200]]);
  });

  it("the completion arrives after the call's terminated notification: still downloaded, processed once, deleted", async () => {
    b = await bench();
    const id = b.call({ script: hangUpComplete });
    // Hold back the completion and the `terminating` update: `terminated` goes first.
    b.emulator.control.injectFault({
      callId: id,
      resource: 'operation',
      count: 1,
      fault: { kind: 'notification', mode: 'reorder' },
    });
    b.emulator.control.injectFault({
      callId: id,
      resource: 'call',
      changeType: 'updated',
      count: 1,
      fault: { kind: 'notification', mode: 'reorder' },
    });
    const ended = b.runtime.whenEnded(id);
    const { seen, done } = recordOnce(b, id);
    await b.clock.advance(MIN);
    const out = await done;
    const order = b.emulator.control
      .notifications({ callId: id })
      .sort((x, y) => (x.deliveredAt ?? 0) - (y.deliveredAt ?? 0) || x.attempts - y.attempts)
      .map((n) => `${n.resource}:${n.state}`);
    expect(new Set(order)).toEqual(new Set(['operation:completed', 'call:terminating', 'call:terminated']));
    const received = b.notifications.map(
      (n) => `${n.changeType}:${n.ref?.operationId ? 'operation' : 'call'}`,
    );
    expect(received).toEqual(['deleted:call', 'deleted:operation', 'updated:call']);
    expect(await ended).toEqual({
      callId: id,
      reason: 'terminated',
      endedAt: b.t0 + 5 * SEC,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed', completionReason: 'none' });
    expect(seen.calls).toBe(1);
    expect(b.requests('download')).toEqual([[5 * SEC, 200]]);
    expect(b.callStates(id).slice(-2)).toEqual([
      [5 * SEC, 'draining'],
      [5 * SEC, 'ended'],
    ]);
    expect(await b.store.list()).toEqual([]);
  });
});

describe('field variants', () => {
  const cases: Array<[string, Partial<Variants>]> = [
    ['upper-case dash-less ids', { upperCaseIds: true }],
    ['array resourceData', { arrayResourceData: true }],
    ['legacy resource beside resourceUrl', { legacyResource: true }],
    ['legacy resource only', { legacyResource: 'only' }],
    ['string codes', { stringCodes: true }],
    ['capitalised status', { capitalisedStatus: true }],
    ['batched', { batch: true }],
    ['legacy recording field names', { legacyRecordingFields: true }],
    ['no completionReason', { omitCompletionReason: true }],
    ['subCode spelling', { subCode: true }],
    [
      'all at once',
      {
        upperCaseIds: true,
        arrayResourceData: true,
        legacyResource: 'only',
        stringCodes: true,
        capitalisedStatus: true,
        batch: true,
        legacyRecordingFields: true,
        subCode: true,
      },
    ],
  ];

  it.each(cases)('%s: the clip is processed once and the call ends terminated', async (_name, variants) => {
    const tokens: string[] = [];
    b = await bench({
      onRequest: (req) => {
        if (typeof req.auth === 'object') tokens.push(req.auth.bearer);
      },
    });
    const id = b.call({ script: hangUpComplete, variants });
    const ended = b.runtime.whenEnded(id);
    const { seen, done } = recordOnce(b, id);
    await b.clock.advance(MIN);
    const out = await done;
    expect(out).toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      resultInfo: { code: 200, subcode: 0 },
    });
    if (!variants.omitCompletionReason) expect(out.completionReason).toBe('none');
    expect(seen.calls).toBe(1);
    expect(b.requests('download')).toEqual([[5 * SEC, 200]]);
    expect(await ended).toEqual({
      callId: id,
      reason: 'terminated',
      endedAt: b.t0 + 5 * SEC,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
    expect(await b.store.list()).toEqual([]);
    expect(b.runtime.stats()).toMatchObject({
      unknownCall: 0,
      unmatchedOperation: 0,
      rejectedNotifications: 0,
      tokensHeld: 0,
    });

    // The recordingAccessToken the bot downloaded with never reaches an observer.
    expect(tokens).toHaveLength(1);
    const token = tokens[0]!;
    expect(token.length).toBeGreaterThan(20);
    expect(JSON.stringify(b.notifications)).not.toContain(token);
    expect(JSON.stringify(b.events)).not.toContain(token);
    expect(JSON.stringify(b.states)).not.toContain(token);
    expect(JSON.stringify(out)).not.toContain(token);
  });
});

describe('stray completions', () => {
  it("a completion naming a running record's clientContext but another operation: ignored, its token not kept", async () => {
    b = await bench({ verifyNotifications: false });
    const id = b.call({ script: { caller: { kind: 'speak', seconds: 20 } } });
    const { seen, done } = recordOnce(b, id);
    await b.clock.advance(2 * SEC);
    const ctx = b.runtime.get(id)?.getSnapshot().context.records['rec-1']?.clientContext;
    expect(ctx).toBeDefined();
    const stray = {
      value: [
        {
          changeType: 'deleted',
          resourceUrl: `/communications/calls/${id}/operations/11111111-2222-3333-4444-555555555555`,
          resourceData: {
            '@odata.type': '#microsoft.graph.recordOperation',
            id: '11111111-2222-3333-4444-555555555555',
            clientContext: ctx,
            status: 'completed',
            recordingLocation: `${b.emulator.origin}/_media/recordings/11111111-2222-3333-4444-555555555555`,
            recordingAccessToken: 'stray-secret-token-0123456789',
          },
        },
      ],
    };
    expect(await b.runtime.handleNotification(JSON.stringify(stray), {})).toEqual({ status: 202 });
    await b.clock.advance(MIN);
    expect(b.runtime.stats()).toMatchObject({ unmatchedOperation: 1, tokensHeld: 0 });
    expect(b.requests('download').map(([, s]) => s)).toEqual([200]);
    expect(await done).toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      completionReason: 'maxSilenceTimeout',
    });
    expect(seen.calls).toBe(1);
  });
});
