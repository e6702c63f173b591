/**
 * createCallRuntime: many calls in one process. It builds the adapters and
 * the provided machines, then composes the parts: the calls registry
 * (calls.ts), the record API (records.ts), the notification intake
 * (intake.ts) and the streams (streams.ts).
 */
import { type Observable, Subject } from 'rxjs';
import { systemClock } from '../adapters/clock.js';
import { createFileRecordingStore } from '../adapters/file-store.js';
import { createUndiciHttp } from '../adapters/undici-http.js';
import { createGraphClient, DEFAULT_GRAPH_URL } from '../graph/client.js';
import { normalizeId } from '../graph/ids.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import type { MediaInfoJson, ParticipantJson } from '../machines/call/io.js';
import type { CallPolicy, RecordPolicy } from '../machines/index.js';
import type { ParsedNotification } from '../notifications/index.js';
import type { AnswerOptions, PlaceCallOptions, PlayPromptOptions } from '../options/calls.js';
import { startRuntimeLog } from '../options/runtime.js';
import { randomIds } from '../ports/ids.js';
import type { StoredSnapshot } from '../ports/stores.js';
import type { TokenProvider } from '../ports/token.js';
import { provideMachines } from './actors.js';
import type { CallRuntime } from './call-runtime.js';
import { adoptCall, cancelMedia, dropCall, hangUp, track, whenEnded } from './calls.js';
import type { ClipHandler } from './clip.js';
import { clusterCodec, clusterTokenKey } from './cluster.js';
import type { CallActor, HandlerEntry, RuntimeContext, ToneEvent } from './context.js';
import { createDownloadSlots, DEFAULT_MAX_DOWNLOADS } from './download.js';
import { answer, createIncoming, redirect, reject } from './incoming.js';
import { createIntake } from './intake.js';
import { createPersistence, withResumeSupport } from './persistence.js';
import { placeCall, whenEstablished } from './placed.js';
import { playPrompt, subscribeToTones } from './prompts.js';
import { record } from './records.js';
import { createRuntimeStreams } from './streams.js';
import { loadTelemetry, tracedHttp, tracedStore } from './telemetry.js';
import {
  type CallRuntimeOptions,
  type RecordResult,
  RuntimeError,
  type RuntimeEvent,
  type StateChange,
} from './types.js';
import { TokenVault } from './vault.js';

/** The key sealing recording tokens: the option, its deprecated name, or the cluster's. */
const recordingTokenKey = (o: CallRuntimeOptions) =>
  o.recordingTokenKey ?? o.tokenKey ?? (o.cluster ? clusterTokenKey(o.cluster) : undefined);

export function createCallRuntime(options: CallRuntimeOptions): CallRuntime {
  // Every option is checked (and a refusal logged) before anything starts.
  const log = startRuntimeLog(options);
  const clock = options.clock ?? systemClock;
  const ownsHttp = !options.http;
  const http = options.http ?? createUndiciHttp({ token: options.token as TokenProvider, clock });
  const ownsStore = !options.store;
  const store = options.store ?? createFileRecordingStore({ clock });
  void loadTelemetry(); // spans and counters when @opentelemetry/api is installed (no-op without an SDK)
  const traced = tracedHttp(http, clock);
  const graph = createGraphClient({
    http: traced,
    graphUrl: options.graphUrl ?? DEFAULT_GRAPH_URL,
    limits: options.limits,
    insecureRecordingHosts: options.insecureRecordingHosts,
    recordingHosts: options.recordingHosts,
  });
  const snapshots = options.cluster?.snapshots ?? options.snapshots;
  const persistence = snapshots
    ? createPersistence({
        snapshots,
        clock,
        log,
        recordingTokenKey: recordingTokenKey(options),
        actorOf: (key) => ctx.calls.get(key),
        onConflict: (key) => dropCall(ctx, key),
      })
    : undefined;
  const vault = persistence?.vault ?? new TokenVault();
  const handlers = new Map<string, HandlerEntry>();
  const pendingDeletes = new Set<Promise<unknown>>();
  const provided = provideMachines({
    pendingDeletes,
    downloads: createDownloadSlots(options.maxConcurrentDownloads ?? DEFAULT_MAX_DOWNLOADS),
    clock,
    graph,
    store: tracedStore(store, clock),
    vault,
    handlers,
    callbackUri: options.callbackUri,
    onDeleteError: (storeKey, err) =>
      log({ level: 'error', msg: 'clip delete failed', storeKey, error: (err as Error)?.message }),
  });

  const ctx: RuntimeContext = {
    options,
    log,
    clock,
    ids: options.ids ?? randomIds,
    graph,
    http: traced,
    store,
    persistence,
    vault,
    handlers,
    machine: persistence ? withResumeSupport(provided) : provided,
    calls: new Map(),
    streams: createRuntimeStreams(clock, log, options.inspect),
    stopped: false,
    recordSeq: 0,
    tones: new Subject<ToneEvent>(),
    ended: new Map(),
  };
  const incoming = createIncoming(ctx, options.onIncomingCall);
  const intake = createIntake(ctx, incoming.take);
  const adopt = (stored: StoredSnapshot, pending: ParsedNotification[] = []) =>
    adoptCall(ctx, stored, pending, intake.deliver);

  /**
   * Restore every call kept in `snapshots` after a restart (with a cluster:
   * take over the calls whose owner is gone). Resolves with their ids.
   */
  async function resume(): Promise<string[]> {
    if (!persistence || !snapshots)
      throw new RuntimeError('notConfigured', 'resume() needs the `snapshots` (or `cluster`) option');
    if (ctx.stopped) throw new RuntimeError('stopped', 'runtime is stopped');
    if (options.cluster) return options.cluster.claimOrphans();
    const resumed: string[] = [];
    for (const stored of await snapshots.loadAll())
      if (await adopt(stored)) resumed.push(normalizeId(stored.callId));
    return resumed;
  }

  async function stop(): Promise<void> {
    if (ctx.stopped) return;
    ctx.stopped = true;
    // Queued snapshot writes land first: a graceful stop leaves every call resumable.
    await persistence?.flush();
    persistence?.close();
    for (const actor of ctx.calls.values()) actor.stop();
    ctx.calls.clear();
    // Guards delete clips on stop; let those deletes finish before closing the store.
    await Promise.allSettled([...pendingDeletes]);
    vault.clear();
    ctx.streams.complete();
    ctx.tones.complete();
    if (ownsHttp) await http.close();
    if (ownsStore) await store.close();
    await options.cluster?.stop();
  }

  if (options.cluster)
    options.cluster.attach({
      clock,
      log,
      adopt,
      deliver: intake.deliver,
      drop: (callId) => dropCall(ctx, callId),
      running: () => [...ctx.calls.keys()],
      ...clusterCodec(options.cluster),
    });

  return {
    clock,
    graph,
    store,
    track: (callId: string, opts?: { policy?: Partial<CallPolicy> }): CallActor => track(ctx, callId, opts),
    get: (callId: string): CallActor | undefined => ctx.calls.get(normalizeId(callId)),
    calls: (): string[] => [...ctx.calls.values()].map((a) => a.getSnapshot().context.callId),
    whenEnded: (callId: string) => whenEnded(ctx, callId),
    record: <T>(
      callId: string,
      recordOptions: RecordOptionsInput,
      handler: ClipHandler<T>,
      opts?: { policy?: Partial<RecordPolicy> },
    ): Promise<RecordResult<T>> => record(ctx, callId, recordOptions, handler, opts),
    cancelMedia: (callId: string, clientContext?: string) => cancelMedia(ctx, callId, clientContext),
    answer: (callId: string, answerOptions?: AnswerOptions) => answer(ctx, callId, answerOptions),
    reject: (callId: string, reason?: 'none' | 'busy' | 'forbidden') => reject(ctx, callId, reason),
    redirect: (callId: string, targets: ParticipantJson[], timeout?: number) =>
      redirect(ctx, callId, targets, timeout),
    placeCall: (placeOptions: PlaceCallOptions) => placeCall(ctx, placeOptions),
    whenEstablished: (callId: string) => whenEstablished(ctx, callId),
    playPrompt: (callId: string, prompts: Array<string | MediaInfoJson>, promptOptions?: PlayPromptOptions) =>
      playPrompt(ctx, callId, prompts, promptOptions),
    subscribeToTones: (callId: string, clientContext?: string) =>
      subscribeToTones(ctx, callId, clientContext),
    tones$: ctx.tones.asObservable() as Observable<ToneEvent>,
    hangUp: (callId: string) => hangUp(ctx, callId),
    handleNotification: intake.handler.handle,
    nodeHandler: intake.handler.nodeHandler,
    fetchHandler: intake.handler.fetchHandler,
    states$: ctx.streams.states.asObservable() as Observable<StateChange>,
    events$: ctx.streams.events.asObservable() as Observable<RuntimeEvent>,
    notifications$: ctx.streams.notifications.asObservable() as Observable<ParsedNotification>,
    stats: () => ({
      tracked: ctx.calls.size,
      ...intake.counters,
      tokensHeld: vault.size,
      ...(persistence ? { snapshots: { ...persistence.stats } } : {}),
    }),
    resume,
    stop,
  };
}
