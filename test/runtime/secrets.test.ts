/**
 * Tokens stay secret: the recordingAccessToken the bot downloads with, the
 * app token and the notifications' JWTs never reach an observer, a log entry,
 * an inspection event, a persisted snapshot or an error in a record's output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { LogEntry } from '../../src/runtime.js';
import { type Bench, bench, MIN } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

/** JSON of anything, cycles and actor references cut, functions dropped. */
function dump(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'function') return undefined;
    if (v && typeof v === 'object') {
      if (typeof (v as { send?: unknown }).send === 'function' && 'sessionId' in v)
        return `[actor ${(v as { id?: string }).id}]`;
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
    }
    return v;
  });
}

describe('secrets', () => {
  it('the recordingAccessToken, the app token and notification JWTs appear nowhere observable', async () => {
    const recordingTokens: string[] = [];
    const inspection: unknown[] = [];
    const logs: LogEntry[] = [];
    b = await bench({
      onRequest: (req) => {
        if (typeof req.auth === 'object') recordingTokens.push(req.auth.bearer);
      },
      runtime: {
        inspect: (ev: InspectionEvent) =>
          inspection.push({
            type: ev.type,
            event: (ev as { event?: unknown }).event,
            snapshot: (ev as { snapshot?: unknown }).snapshot,
          }),
        log: (entry) => logs.push(entry),
      },
    });
    const jwts: string[] = [];
    b.bot.on('request', (req) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (m?.[1]) jwts.push(m[1]);
    });
    const id = b.call({
      script: {
        caller: [
          { kind: 'speak', seconds: 3, thenTone: '#' },
          { kind: 'speak', seconds: 2, thenTone: '#' },
        ],
      },
      variants: { legacyRecordingFields: false },
    });
    const persisted: string[] = [];
    b.runtime.states$.subscribe((s) => {
      if (s.machine === 'record') persisted.push(dump(b!.runtime.get(id)?.getPersistedSnapshot()));
    });
    const first = b.runtime.record(id, { stopTones: ['#'] }, () => 'ok');
    await b.clock.advance(MIN);
    // A second clip whose download keeps failing (every retry too): its error goes into the record's output.
    b.emulator.control.injectFault({ route: 'download', count: 100, fault: { kind: 'status', status: 503 } });
    const second = b.runtime.record(id, { stopTones: ['#'] }, () => 'ok');
    await b.clock.advance(5 * MIN);
    b.emulator.control.hangUpByCaller(id);
    await b.clock.advance(MIN);
    const outs = await Promise.all([first, second]);
    expect(outs.map((o) => o.outcome)).toEqual(['processed', 'downloadFailed']);

    expect(recordingTokens.length).toBeGreaterThanOrEqual(2);
    expect(jwts.length).toBeGreaterThanOrEqual(2);
    const secrets = [...new Set([...recordingTokens, ...jwts, 'test-app-token'])];
    const observed = {
      states: dump(b.states),
      events: dump(b.events),
      notifications: dump(b.notifications),
      inspection: dump(inspection),
      logs: dump(logs),
      persisted: persisted.join('\n'),
      outputs: dump(outs),
      stats: dump(b.runtime.stats()),
    };
    expect(observed.inspection.length).toBeGreaterThan(10_000);
    expect(persisted.length).toBeGreaterThan(3);
    for (const [where, text] of Object.entries(observed))
      for (const secret of secrets)
        expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
  });
});
