/**
 * Issue 8, hostile input: random and mutated commsNotifications bodies fed to
 * the runtime's notification endpoint (handleNotification, and the bot's real
 * loopback server) while a tracked call has a record in progress. Invalid
 * bodies get a 4xx, or a 202 with their broken item skipped (issue 13.1), and
 * change nothing; valid bodies about other calls
 * or operations get 202 and change nothing; the process never sees an
 * unhandled rejection; and afterwards the record still completes normally.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEnded, envelope, harmlessBody, invalidBody, junkBody, recordCompleted } from './bodies.js';
import { fingerprint, MIN, recordingTarget, settle, type Target, watchProcess } from './kit.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
/** HOSTILE_RUNS=10 multiplies every property's runs (a longer search than `npm test` makes). */
const SCALE = Math.max(1, Number(process.env.HOSTILE_RUNS ?? 1) || 1);

let t: Target;
let watch: ReturnType<typeof watchProcess>;
/** A server standing in for an attacker's recording host: counts every request. */
let bait: { server: Server; url: string; hits: number };
let templates: Parameters<typeof invalidBody>[0];
let stateChanges = 0;

beforeAll(async () => {
  watch = watchProcess();
  t = await recordingTarget({ verifyNotifications: false });
  t.h.runtime.states$.subscribe(() => stateChanges++);
  const server = createServer((_req, res) => {
    bait.hits++;
    res.writeHead(200).end('RIFF');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  bait = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip`, hits: 0 };
  const completion = recordCompleted({
    callId: t.callId,
    operationId: t.operationId,
    clientContext: t.clientContext,
    recordingLocation: bait.url,
    recordingAccessToken: 'bait-token',
  });
  const upper = t.callId.replace(/-/g, '').toUpperCase();
  // Unmutated, each of these would end the call or complete its record.
  templates = {
    calls: [
      envelope(callEnded(t.callId)),
      envelope(callEnded(upper)),
      envelope({ ...callEnded(t.callId), resourceData: [callEnded(t.callId).resourceData] }),
    ],
    // One notification each: a valid item beside a broken one is delivered (batch-items.test.ts).
    records: [envelope(completion), envelope({ ...completion, resourceData: [completion.resourceData] })],
  };
});

afterAll(async () => {
  await t?.h.close();
  bait?.server.closeAllConnections();
  await new Promise<void>((resolve) => (bait ? bait.server.close(() => resolve()) : resolve()));
  watch?.dispose();
});

/** Runs `check` on every body; the tracked call's fingerprint and the state stream stay as they were. */
async function unchangedBy(
  bodies: fc.Arbitrary<string>,
  numRuns: number,
  check: (body: string) => Promise<void>,
) {
  const before = fingerprint(t);
  const changes = stateChanges;
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      await check(body);
      await settle(t.h);
      expect(fingerprint(t)).toBe(before);
      expect(stateChanges).toBe(changes);
    }),
    { numRuns: numRuns * SCALE },
  );
}

async function postToBot(body: string): Promise<number> {
  const res = await request(t.h.callbackUri, { method: 'POST', headers: JSON_HEADERS, body });
  await res.body.dump();
  return res.statusCode;
}

describe('the runtime notification endpoint under hostile bodies', () => {
  it('mutated Graph bodies aimed at the tracked call: 4xx or their item skipped, never a state change', async () => {
    const rejected = t.h.runtime.stats().rejectedNotifications;
    let refused = 0;
    await unchangedBy(invalidBody(templates), 400, async (body) => {
      const res = await t.h.runtime.handleNotification(body, JSON_HEADERS);
      if (res.status === 202) expect(res.rejected).toBeGreaterThanOrEqual(1);
      else expect([400, 413]).toContain(res.status);
      refused += res.rejected ?? 1;
    });
    // Every refused body and every skipped item counted.
    expect(refused).toBeGreaterThanOrEqual(400 * SCALE);
    expect(t.h.runtime.stats().rejectedNotifications).toBe(rejected + refused);
  });

  it('random strings and JSON values: always 400, never a state change', async () => {
    await unchangedBy(junkBody, 300, async (body) => {
      expect((await t.h.runtime.handleNotification(body, JSON_HEADERS)).status).toBe(400);
    });
  });

  it('the same through the bot server over loopback HTTP', async () => {
    await unchangedBy(fc.oneof(invalidBody(templates), junkBody), 100, async (body) => {
      const status = await postToBot(body);
      expect(status === 202 || (status >= 400 && status < 500)).toBe(true);
    });
    // Still serving.
    expect(await postToBot('{}')).toBe(400);
  });

  it('valid bodies about other calls, unknown operations, progress and unknown types: 202, nothing changes', async () => {
    const unmatched = t.h.runtime.stats().unmatchedOperation;
    const harmless = harmlessBody({
      callId: t.callId,
      operationId: t.operationId,
      clientContext: t.clientContext,
      baitLocation: bait.url,
    });
    await unchangedBy(harmless, 200, async (body) => {
      expect(await t.h.runtime.handleNotification(body, JSON_HEADERS)).toEqual({ status: 202 });
    });
    // Completions of operations nobody started were seen and dropped, their tokens not kept.
    expect(t.h.runtime.stats().unmatchedOperation).toBeGreaterThan(unmatched);
    expect(t.h.runtime.stats().tokensHeld).toBe(0);
    expect(bait.hits).toBe(0);
  });

  it('afterwards the record completes as if nothing had happened, and a real end still ends the call', async () => {
    await t.h.clock.advance(6 * MIN);
    await expect(t.done).resolves.toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(t.clips).toBe(1);
    expect(await t.h.store.list()).toEqual([]);
    expect(bait.hits).toBe(0);
    // The unmutated template does what the mutations could not.
    const ended = t.h.runtime.whenEnded(t.callId);
    const body = JSON.stringify(envelope(callEnded(t.callId)));
    expect(await t.h.runtime.handleNotification(body, JSON_HEADERS)).toEqual({ status: 202 });
    await expect(ended).resolves.toMatchObject({ callId: t.callId });
    expect(t.h.runtime.stats().tracked).toBe(0);
    expect(watch.seen).toEqual([]);
  });
});
