/**
 * The real implementations behind the machines' named actors: Graph requests,
 * the streaming download into the store, the user's clip handler, deletes.
 *
 * Tracking on the clock: the HTTP adapter tracks each attempt, and its retry
 * waits are untracked (they wait *for* the clock). Tracking a whole Graph
 * call here as well would hold a SimulatedClock still through those waits,
 * and through a response the emulator delays on the clock: a deadlock. So
 * only the store's work and the user's handler are tracked here, and the
 * handler lets time move while it waits on something with `clip.letTimeRun()`.
 * The handler holds the clock at most until its processing deadline (in real
 * milliseconds): one that never settles is then abandoned to the timeout, as
 * on the wall clock, instead of freezing simulated time.
 */
import { fromCallback, fromPromise } from 'xstate';
import { type Clock, trackWork } from '../adapters/clock.js';
import type { RecordingStore, StoredClip } from '../adapters/recording-store.js';
import type { GraphClient } from '../graph/client.js';
import { GraphError } from '../graph/errors.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import {
  callMachine,
  type ProcessClipInput,
  promptMachine,
  type ResultInfoJson,
  recordMachine,
  type StartRecordOutput,
} from '../machines/index.js';
import type { Clip, ClipHandler } from './clip.js';
import { type DownloadSlots, downloadToStore } from './download.js';
import { errorJson } from './error-json.js';
import { setupActors } from './setup-actors.js';
import type { TokenVault } from './vault.js';
import { parseWavHeader } from './wav.js';

export interface ActorDeps {
  clock: Clock;
  graph: GraphClient;
  store: RecordingStore;
  vault: TokenVault;
  /** The user's handler for each record id, kept outside the machine (functions are not JSON). */
  handlers: Map<string, { handler: ClipHandler; result?: unknown; resultSet?: boolean }>;
  onDeleteError?: (storeKey: string, err: unknown) => void;
  /** Deletes started by guards of stopped actors, so `stop()` can wait for them. */
  pendingDeletes: Set<Promise<unknown>>;
  /** The cap on downloads in flight, shared by every call of the runtime. */
  downloads: DownloadSlots;
  /** The bot's notification URL: answers and placed calls name it. */
  callbackUri?: string;
}

export { errorJson } from './error-json.js';

/**
 * Wait for `work` without holding a simulated clock still (a no-op on the wall
 * clock), until it settles or `signal` aborts: abandoned work must not keep the
 * clock's books unbalanced.
 */
function untracked<T>(clock: Clock, work: Promise<T>, signal: AbortSignal): Promise<T> {
  const release = clock.park?.();
  if (!release) return work;
  if (signal.aborted) release();
  else signal.addEventListener('abort', release, { once: true });
  return work.finally(() => {
    signal.removeEventListener('abort', release);
    release();
  });
}

/** `work`, or a rejection as soon as `signal` aborts (the machine has moved on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function provideMachines(deps: ActorDeps) {
  const { clock, graph, store, vault, handlers, downloads } = deps;
  // What the store returned for each clip (its path), until the clip is deleted.
  const stored = new Map<string, StoredClip>();
  // Writes in progress: a guard deleting a clip waits for its write to settle first.
  const writing = new Map<string, Promise<unknown>>();
  // Clips the machine's own delete already purged: the guard has nothing left to do.
  const purged = new Set<string>();
  const fail = (err: unknown): never => {
    throw errorJson(err, clock.now());
  };

  const record = recordMachine.provide({
    actors: {
      // Not tracked here: the HTTP adapter tracks each attempt (see the header).
      startRecord: fromPromise<
        StartRecordOutput,
        { callId: string; clientContext: string; options: RecordOptionsInput }
      >(async ({ input, signal }) => {
        try {
          const started = await graph.record(
            input.callId,
            { ...input.options, clientContext: input.clientContext },
            { signal },
          );
          const op = started.operation;
          const terminal = op.status === 'completed' || op.status === 'failed';
          if (terminal && op.recordingAccessToken) vault.put(op.id, op.recordingAccessToken);
          return {
            operationId: op.id,
            status: op.status,
            at: clock.now(),
            completion: terminal
              ? {
                  type: 'OPERATION_COMPLETED' as const,
                  at: clock.now(),
                  operationId: op.id,
                  clientContext: op.clientContext ?? null,
                  status: op.status,
                  completionReason: op.completionReason ?? null,
                  resultInfo: (op.resultInfo as ResultInfoJson | null | undefined) ?? null,
                  recordingLocation: op.recordingLocation,
                  hasRecording: Boolean(op.recordingLocation && op.recordingAccessToken),
                }
              : undefined,
          };
        } catch (err) {
          return fail(err);
        }
      }),
      downloadRecording: fromPromise(
        async ({
          input,
          signal,
        }: {
          input: { callId: string; operationId: string; recordingLocation: string; storeKey: string };
          signal: AbortSignal;
        }) => {
          try {
            const token = vault.take(input.operationId);
            if (!token)
              throw new GraphError({
                kind: 'invalidRequest',
                message: 'no access token for this recording',
                operation: 'download',
              });
            try {
              const clip = await downloadToStore(
                { clock, graph, store, slots: downloads },
                {
                  recordingLocation: input.recordingLocation,
                  accessToken: token,
                  storeKey: input.storeKey,
                  signal,
                  onWrite: (write) => writing.set(input.storeKey, write),
                },
              );
              stored.set(input.storeKey, clip);
              return { bytes: clip.bytes, at: clock.now() };
            } finally {
              writing.delete(input.storeKey);
            }
          } catch (err) {
            return fail(err);
          }
        },
      ),
      // Tracked: on simulated time the handler's real work finishes before time moves on;
      // what it waits for on the clock goes through `clip.letTimeRun`, which lets time move.
      processClip: fromPromise<{ at: number; summary?: unknown }, ProcessClipInput>(
        async ({ input, signal }) =>
          trackWork(
            clock,
            (async () => {
              const entry = handlers.get(input.recordId);
              try {
                const clip = await openClip(store, stored.get(input.storeKey), input, (work) =>
                  untracked(clock, work, signal),
                );
                // A handler that ignores its signal is abandoned at the timeout, not waited for.
                const result = entry
                  ? await abortable(
                      Promise.resolve().then(() => entry.handler(clip, signal)),
                      signal,
                    )
                  : undefined;
                if (entry) {
                  entry.result = result;
                  entry.resultSet = true;
                }
                return {
                  at: clock.now(),
                  summary: clip.wav ? { durationSeconds: clip.wav.durationSeconds } : undefined,
                };
              } catch (err) {
                return fail(err);
              }
            })(),
            // Real work may hold simulated time as long as the wall clock would let it run: past
            // that, the timeout must be free to fire and abandon it (the handler may ignore signal).
            input.processingDeadlineAt === null || input.processingDeadlineAt === undefined
              ? {}
              : { holdAtMostMs: Math.max(0, input.processingDeadlineAt - clock.now()) },
          ),
      ),
      deleteClip: fromPromise(async ({ input }: { input: { storeKey: string } }) =>
        trackWork(
          clock,
          (async () => {
            try {
              await store.delete(input.storeKey);
              stored.delete(input.storeKey);
              purged.add(input.storeKey);
              return { at: clock.now() };
            } catch (err) {
              deps.onDeleteError?.(input.storeKey, err);
              return fail(err);
            }
          })(),
        ),
      ),
      // Deletes the clip when the record leaves `holdingClip` without its own delete having
      // succeeded (stopped from outside: the call ended, the runtime stopped). A write still
      // in flight settles first (it is being aborted), so it cannot land after the delete.
      clipGuard: fromCallback(({ input }: { input: { storeKey: string } }) => () => {
        const key = input.storeKey;
        if (purged.delete(key)) return;
        stored.delete(key);
        const inflight = writing.get(key);
        const p = trackWork(
          clock,
          (async () => {
            if (inflight) await inflight.catch(() => {});
            await store.delete(key);
          })().catch((err) => deps.onDeleteError?.(key, err)),
        );
        deps.pendingDeletes.add(p);
        void p.finally(() => deps.pendingDeletes.delete(p));
      }),
    },
  });

  const calls = setupActors({ clock, graph, callbackUri: deps.callbackUri });
  return callMachine.provide({
    actors: {
      // One attempt: the call machine owns keepAlive retries inside the 45-minute deadline.
      keepAlive: fromPromise(
        async ({ input, signal }: { input: { callId: string }; signal: AbortSignal }) => {
          try {
            await graph.keepAlive(input.callId, { maxAttempts: 1, signal });
            return { at: clock.now() };
          } catch (err) {
            return fail(err);
          }
        },
      ),
      hangUp: fromPromise(async ({ input, signal }: { input: { callId: string }; signal: AbortSignal }) => {
        try {
          await graph.hangUp(input.callId, { signal });
          return { at: clock.now() };
        } catch (err) {
          return fail(err);
        }
      }),
      cancelMedia: fromPromise(
        async ({
          input,
          signal,
        }: {
          input: { callId: string; clientContext?: string };
          signal: AbortSignal;
        }) => {
          try {
            await graph.cancelMediaProcessing(input.callId, input.clientContext, { signal });
            return { at: clock.now() };
          } catch (err) {
            return fail(err);
          }
        },
      ),
      recordMachine: record,
      ...calls,
      promptMachine: promptMachine.provide({ actors: { playPrompt: calls.playPrompt } }),
    },
  });
}

async function openClip(
  store: RecordingStore,
  stored: StoredClip | undefined,
  input: ProcessClipInput,
  wait: <T>(work: Promise<T>) => Promise<T>,
): Promise<Clip> {
  const head = await readHead(store, input.storeKey, 4096);
  return {
    callId: input.callId,
    recordId: input.recordId,
    operationId: input.operationId,
    clientContext: input.clientContext,
    bytes: input.bytes,
    path: stored?.path,
    wav: parseWavHeader(head, input.bytes),
    completionReason: input.completionReason ?? undefined,
    resultInfo: input.resultInfo ?? undefined,
    open: () => store.open(input.storeKey),
    letTimeRun: wait,
    wait,
  };
}

async function readHead(store: RecordingStore, key: string, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let n = 0;
  const stream = store.open(key);
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(b);
      n += b.length;
      if (n >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max);
}
