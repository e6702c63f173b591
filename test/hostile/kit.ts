/**
 * Shared by the hostile-input tests: a harness with one tracked call that has
 * a record in progress (the target an attacker would like to end, complete or
 * redirect), a fingerprint of everything a notification could change, and a
 * watch for unhandled rejections and uncaught exceptions.
 */
import type { AnyActorRef } from 'xstate';
import { createHarness, type Harness, type HarnessOptions } from '../../src/testing/harness.js';

export const SEC = 1_000;
export const MIN = 60_000;

export interface Target {
  h: Harness;
  callId: string;
  recordId: string;
  operationId: string;
  clientContext: string;
  /** The record's end (resolves whatever happened). */
  done: Promise<unknown>;
  /** Clips handed to the record's handler. */
  clips: number;
}

/** A harness whose one call records (caller speaking 10 min, record limit 5 min), settled in `recording`. */
export async function recordingTarget(opts: HarnessOptions = {}): Promise<Target> {
  const h = await createHarness(opts);
  const callId = h.call({ script: { caller: { kind: 'speak', seconds: 600 } } });
  const target = { h, callId, clips: 0 } as Target;
  target.done = h.runtime.record(
    callId,
    { maxRecordDurationInSeconds: 300, maxSilenceTimeoutInSeconds: 300, initialSilenceTimeoutInSeconds: 300 },
    () => {
      target.clips++;
    },
  );
  await h.clock.advance(2 * SEC);
  await settle(h);
  const record = recordActor(h, callId, 'rec-1');
  const ctx = record?.getSnapshot().context as { operationId?: string; clientContext?: string } | undefined;
  if (!ctx?.operationId || !ctx.clientContext)
    throw new Error('the record did not reach the recording state');
  target.recordId = 'rec-1';
  target.operationId = ctx.operationId;
  target.clientContext = ctx.clientContext;
  return target;
}

export function recordActor(h: Harness, callId: string, recordId: string): AnyActorRef | undefined {
  const children = h.runtime.get(callId)?.getSnapshot().children as Record<string, AnyActorRef | undefined>;
  return children?.[recordId];
}

/** Let queued deliveries run: the emulator's notifications, then the handler's microtask. */
export async function settle(h: Harness): Promise<void> {
  await h.emulator.control.idle();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * What a notification could change: the call's persisted snapshot (its state,
 * context and every record child), the record's own state, tokens held, calls
 * tracked, and how many notifications were routed to an actor.
 */
export function fingerprint(t: Target): string {
  const call = t.h.runtime.get(t.callId);
  const record = recordActor(t.h, t.callId, t.recordId);
  const { tracked, tokensHeld, routed } = t.h.runtime.stats();
  return JSON.stringify({
    call: call?.getPersistedSnapshot(),
    record: record?.getSnapshot().value,
    tracked,
    tokensHeld,
    routed,
  });
}

/** Collects unhandled rejections and uncaught exceptions while installed. */
export function watchProcess() {
  const seen: unknown[] = [];
  const onError = (err: unknown) => seen.push(err);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    seen,
    dispose() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}
