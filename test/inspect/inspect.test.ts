/**
 * The runtime's `inspect` option on one simulated call with a recording: a
 * plain observer sees each actor created before its events and snapshots,
 * the call's snapshots follow active -> keepAliveDue -> active ..., the record
 * child's follow its flow, and no inspection event carries the app token or a
 * recordingAccessToken. @statelyai/inspect's converter (createInspector with
 * our own adapter, no network) takes every event without throwing.
 */
import { createInspector } from '@statelyai/inspect';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import { createHarness, type Harness } from '../../src/testing/harness.js';

const MIN = 60_000;
const APP_TOKEN = 'test-app-token'; // the harness's static app token

/** JSON of an inspection event as an inspector would ship it: actors, machines and state nodes by id. */
function inspectionJson(ev: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(ev, (_key, value: unknown) => {
    if (typeof value === 'function') return `[fn ${(value as { name?: string }).name ?? ''}]`;
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    if (typeof o.sessionId === 'string' && typeof o.send === 'function') return `[actor ${String(o.id)}]`;
    if ('root' in o && 'config' in o && 'implementations' in o) return `[machine ${String(o.id)}]`;
    if ('machine' in o && 'path' in o && 'parent' in o) return `[node ${String(o.id)}]`;
    if (seen.has(o)) return '[seen]';
    seen.add(o);
    return value;
  });
}

const flat = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v as Record<string, unknown>)
        .map(([k, c]) => `${k}.${flat(c)}`)
        .join(',');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('inspection of one call with a recording', () => {
  it('arrives in order and carries no secret; the Stately converter takes all of it', async () => {
    const events: InspectionEvent[] = [];
    const recordingTokens = new Set<string>();
    const converted: unknown[] = [];
    const stately = createInspector({ send: (e) => converted.push(e) }, { autoStart: true });
    h = await createHarness({
      runtime: {
        inspect: (ev) => {
          events.push(ev);
          stately.inspect.next?.(ev);
        },
      },
      onRequest: (req) => {
        if (typeof req.auth === 'object') recordingTokens.add(req.auth.bearer);
      },
    });
    const callId = h.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
    const call = h.runtime.get(callId)!;
    const recorded = h.runtime.record(
      callId,
      { playBeep: true, stopTones: ['#'], maxRecordDurationInSeconds: 10 },
      (clip) => clip.bytes,
    );
    await h.clock.advance(MIN);
    const out = await recorded;
    expect(out).toMatchObject({ final: 'deleted', outcome: 'processed' });
    await h.clock.advance(31 * MIN);
    const ended = h.runtime.hangUp(callId);
    await h.clock.advance(0);
    expect((await ended).reason).toBe('hungUp');

    // A download really used a recordingAccessToken, so the secret check below is not vacuous.
    expect(recordingTokens.size).toBe(1);
    const [recordingToken] = [...recordingTokens];
    expect(recordingToken!.length).toBeGreaterThan(20);

    // Every actor is announced before anything else about it.
    const announced = new Set<ActorRefLike>();
    for (const [i, ev] of events.entries()) {
      if (ev.type === '@xstate.actor') announced.add(ev.actorRef);
      else expect(announced.has(ev.actorRef), `event ${i} (${ev.type}) before its actor`).toBe(true);
    }
    const types = events.filter((e) => e.actorRef === call).map((e) => e.type);
    expect(types[0]).toBe('@xstate.actor');
    expect(types.indexOf('@xstate.event')).toBeLessThan(types.indexOf('@xstate.snapshot'));

    const trail = (ref: ActorRefLike | undefined) => {
      const out: string[] = [];
      for (const e of events)
        if (e.type === '@xstate.snapshot' && e.actorRef === ref) {
          const v = flat((e.snapshot as unknown as { value: unknown }).value);
          if (out.at(-1) !== v) out.push(v);
        }
      return out;
    };
    expect(trail(call)).toEqual([
      'established.active',
      'established.keepAliveDue',
      'established.active',
      'established.keepAliveDue',
      'established.active',
      'terminating',
      'ended',
    ]);
    const record = events.find(
      (e) => e.type === '@xstate.actor' && (e.actorRef as { logic?: { id?: string } }).logic?.id === 'record',
    )?.actorRef;
    expect(trail(record)).toEqual([
      'requesting',
      'recording',
      'holdingClip.downloading',
      'holdingClip.processing.running',
      'holdingClip.deleting.trying',
      'deleted',
    ]);

    // No secret in any event, as an inspector would serialise it (the check does see a token in an event).
    expect(inspectionJson({ type: 'x', event: { hidden: [{ t: recordingToken }] } })).toContain(
      recordingToken,
    );
    for (const [i, ev] of events.entries()) {
      const json = inspectionJson(ev);
      expect(json.includes(APP_TOKEN), `app token in event ${i} (${ev.type})`).toBe(false);
      expect(json.includes(recordingToken!), `recording token in event ${i} (${ev.type})`).toBe(false);
    }

    // The converter defers each event with setTimeout(0): wait for all of them (no timing asserted).
    const convertible = events.filter((e) =>
      ['@xstate.actor', '@xstate.event', '@xstate.snapshot'].includes(e.type),
    );
    await vi.waitFor(() => expect(converted).toHaveLength(convertible.length), { timeout: 5_000 });
    for (const c of converted) {
      const json = inspectionJson(c);
      expect(json.includes(APP_TOKEN) || json.includes(recordingToken!)).toBe(false);
    }
    const actors = converted.filter((c) => (c as { type: string }).type === '@xstate.actor') as Array<{
      name: string;
      definition?: string;
    }>;
    const callDefinition = JSON.parse(actors.find((a) => a.definition?.includes('"id":"call"'))!.definition!);
    expect(callDefinition.states.established.states.keepAliveDue.description).toMatch(/keepAlive/);
    stately.stop();
  });
});
