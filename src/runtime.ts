/**
 * CallRuntime: many calls in one process. Each tracked call is a root actor
 * of the (provided) callMachine on the runtime's clock; notifications are
 * verified, parsed and routed to it; observers get rxjs streams.
 */
import { randomUUID } from 'node:crypto';
import { type Observable, Subject } from 'rxjs';
import { type Actor, type AnyActorRef, createActor, type InspectionEvent, type Observer } from 'xstate';
import { type Clock, systemClock, trackWork } from './adapters/clock.js';
import { createFileRecordingStore } from './adapters/file-store.js';
import type { HttpAdapter } from './adapters/http.js';
import type { RecordingStore } from './adapters/recording-store.js';
import type { SnapshotStore, StoredSnapshot } from './adapters/snapshot-store.js';
import type { TokenProvider } from './adapters/token.js';
import { createUndiciHttp } from './adapters/undici-http.js';
import { createGraphClient, DEFAULT_GRAPH_URL } from './graph/client.js';
import { GraphError } from './graph/errors.js';
import { normalizeId } from './graph/ids.js';
import type { RecordLimits } from './graph/limits.js';
import type { RecordOptionsInput } from './graph/schemas.js';
import {
  type CallOutput,
  type CallPolicy,
  DEFAULT_RECORD_POLICY,
  type RecordOutput,
  type RecordPolicy,
} from './machines/index.js';
import {
  createNotificationHandler,
  createNotificationVerifier,
  type NotificationError,
  type NotificationItemError,
  type ParsedNotification,
} from './notifications/index.js';
import { checkRecord, checkTrack, startRuntimeLog, whileLogged } from './options/runtime.js';
import { provideMachines } from './runtime/actors.js';
import type { ClipHandler } from './runtime/clip.js';
import { type ClusterAdapter, notificationCodec } from './runtime/cluster.js';
import { createDownloadSlots, DEFAULT_MAX_DOWNLOADS } from './runtime/download.js';
import {
  createPersistence,
  maxRecordNumber,
  type ResumePlan,
  renameRecords,
  withResumeSupport,
} from './runtime/persistence.js';
import { type EmitterContext, entryForEvent } from './runtime/report.js';
import { type RouteResult, rejectedItemReport, routeNotifications } from './runtime/router.js';
import type { SealKey } from './runtime/seal.js';
import { countEvent, loadTelemetry, tracedHttp, tracedStore } from './runtime/telemetry.js';
import { TokenVault } from './runtime/vault.js';

export interface NotificationAuthOptions {
  /** The bot's app id: the audience of Graph's notification tokens. */
  appId: string | string[];
  openIdConfigurationUrl?: string;
  issuers?: string[];
  tenants?: string[];
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  callId?: string;
  /** What happens next (a retry, the end of the call, a deleted clip). */
  next?: string;
  [key: string]: unknown;
}

export interface CallRuntimeOptions {
  /** Graph base URL with version (default `https://graph.microsoft.com/v1.0`; `/beta` uses `record`). */
  graphUrl?: string;
  /** App token source; required unless `http` is given. */
  token?: TokenProvider;
  http?: HttpAdapter;
  clock?: Clock;
  /** Where clips live between download and delete (default: private temp dir, files 0600). */
  store?: RecordingStore;
  /** Validate notification JWTs (production), or `false` to skip (tests only). */
  notificationAuth: NotificationAuthOptions | false;
  /** Receives XState inspection events of every call and record actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  limits?: RecordLimits;
  /** Hosts allowed to serve recordings over plain http (the emulator in tests). */
  insecureRecordingHosts?: string[];
  recordingHosts?: string[] | ((host: string) => boolean);
  callPolicy?: Partial<CallPolicy>;
  recordPolicy?: Partial<RecordPolicy>;
  /** Request body limit of the notification endpoint (default 1 MiB). */
  notificationLimitBytes?: number;
  /**
   * Recording downloads in flight at once across all calls (default 16); more
   * wait their turn. Bounds memory when many recordings complete together.
   */
  maxConcurrentDownloads?: number;
  /**
   * Where the library reports (never a token in an entry). Default: warnings and
   * errors to the console, one line each; `false` silences it.
   */
  log?: ((entry: LogEntry) => void) | false;
  /** Save each call's snapshot here on every state change; `resume()` restores them (docs/scale-out.md). */
  snapshots?: SnapshotStore;
  /**
   * 32 random bytes (AES-256-GCM) sealing recording tokens in snapshots, so a download cut
   * short by a restart runs again; without it such a record fails (`tokenUnavailable`).
   */
  tokenKey?: SealKey;
  /** Several instances sharing calls (createRedisCluster from `graph-call-machines/redis`). */
  cluster?: ClusterAdapter;
  /** Handler for the clips of records restored from a snapshot (their own handler, a function, is gone). */
  onResumedClip?: ClipHandler;
}

export interface StateChange {
  at: number;
  callId: string;
  /** `call` or the record id. */
  actor: string;
  machine: 'call' | 'record';
  value: unknown;
  status: string;
}

export interface RuntimeEvent {
  at: number;
  callId: string;
  actor: string;
  type: string;
  [key: string]: unknown;
}

/**
 * What `record()` resolves with. Check `ok` first: it is true only for
 * `outcome: 'processed'`; every other outcome is a failure, whatever `final`
 * says (`final` names the record machine's last state, which is about the
 * clip, not about success: read it as `localCopy`).
 */
export type RecordResult<T = unknown> = RecordOutput & {
  /** The clip was downloaded and your handler returned (outcome `processed`). */
  ok: boolean;
  /** What became of the clip on this machine: stored and then `deleted`, or `none` was stored. */
  localCopy: 'deleted' | 'none';
  /** What your handler returned (only when it returned). */
  result?: T;
};

function recordResult<T>(
  output: RecordOutput,
  handler?: { result?: unknown; resultSet?: boolean },
): RecordResult<T> {
  const out: RecordResult<T> = {
    ...output,
    ok: output.outcome === 'processed',
    localCopy: output.final === 'deleted' ? 'deleted' : 'none',
  };
  if (handler?.resultSet) out.result = handler.result as T;
  return out;
}

type CallActor = Actor<ReturnType<typeof provideMachines>>;

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code:
      | 'unknownCall'
      | 'callEnded'
      | 'recordRejected'
      | 'hangUpFailed'
      | 'stopped'
      | 'notConfigured',
    message: string,
  ) {
    super(message);
  }
}

export function createCallRuntime(options: CallRuntimeOptions) {
  // Every option is checked (and a refusal logged) before anything starts.
  const log = startRuntimeLog(options);
  const clock = options.clock ?? systemClock;
  const ownsHttp = !options.http;
  const http = options.http ?? createUndiciHttp({ token: options.token as TokenProvider, clock });
  const ownsStore = !options.store;
  const store = options.store ?? createFileRecordingStore({ clock });
  void loadTelemetry(); // spans and counters when @opentelemetry/api is installed (no-op without an SDK)
  const graph = createGraphClient({
    http: tracedHttp(http, clock),
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
        tokenKey: options.tokenKey ?? options.cluster?.tokenKey,
        actorOf: (key) => calls.get(key),
        onConflict: (key) => drop(key),
      })
    : undefined;
  const vault = persistence?.vault ?? new TokenVault();
  const handlers = new Map<string, { handler: ClipHandler; result?: unknown; resultSet?: boolean }>();
  const pendingDeletes = new Set<Promise<unknown>>();
  const provided = provideMachines({
    pendingDeletes,
    downloads: createDownloadSlots(options.maxConcurrentDownloads ?? DEFAULT_MAX_DOWNLOADS),
    clock,
    graph,
    store: tracedStore(store, clock),
    vault,
    handlers,
    onDeleteError: (storeKey, err) =>
      log({ level: 'error', msg: 'clip delete failed', storeKey, error: (err as Error)?.message }),
  });
  const machine = persistence ? withResumeSupport(provided) : provided;

  const calls = new Map<string, CallActor>();
  const stateSubject = new Subject<StateChange>();
  const eventSubject = new Subject<RuntimeEvent>();
  const notificationSubject = new Subject<ParsedNotification>();
  // rejectedNotifications: refused POSTs plus skipped items (rejectedItems: the latter alone).
  const counters = {
    unknownCall: 0,
    unmatchedOperation: 0,
    rejectedNotifications: 0,
    rejectedItems: 0,
    routed: 0,
  };
  let stopped = false;

  const userInspect = options.inspect;
  const inspectUser = (ev: InspectionEvent) => {
    try {
      if (typeof userInspect === 'function') userInspect(ev);
      else userInspect?.next?.(ev);
    } catch (err) {
      log({ level: 'warn', msg: 'inspect observer threw', error: (err as Error)?.message });
    }
  };

  function inspectFor(callId: string) {
    const key = normalizeId(callId);
    return (ev: InspectionEvent) => {
      if (ev.type === '@xstate.actor') watchEmits(callId, ev.actorRef as AnyActorRef);
      if (ev.type === '@xstate.snapshot') {
        const name = machineOf(ev.actorRef as AnyActorRef);
        if (name) {
          persistence?.changed(key);
          const snap = ev.snapshot as { value?: unknown; status?: string };
          stateSubject.next({
            at: clock.now(),
            callId,
            actor: name === 'call' ? 'call' : (ev.actorRef as AnyActorRef).id,
            machine: name,
            value: snap.value,
            status: snap.status ?? 'active',
          });
        }
      }
      if (userInspect) inspectUser(ev);
    };
  }

  function watchEmits(callId: string, ref: AnyActorRef) {
    const name = machineOf(ref);
    if (!name) return;
    ref.on('*', (emitted: { type: string }) => {
      const entry = entryForEvent(
        callId,
        emitted,
        (ref.getSnapshot() as { context?: EmitterContext }).context,
      );
      if (entry) log(entry);
      countEvent(emitted);
      eventSubject.next({ ...emitted, at: clock.now(), callId, actor: name === 'call' ? 'call' : ref.id });
    });
  }

  function lookup(normalizedCallId: string): AnyActorRef | undefined {
    return calls.get(normalizedCallId);
  }

  function requireCall(callId: string): CallActor {
    if (stopped) throw new RuntimeError('stopped', 'runtime is stopped');
    const actor = calls.get(normalizeId(callId));
    if (!actor) throw new RuntimeError('unknownCall', `call ${callId} is not tracked`);
    return actor;
  }

  /** `requireCall` for the promise-returning API: an unknown call is a rejection, not a throw. */
  function callOrReject(callId: string): CallActor | Promise<never> {
    try {
      return requireCall(callId);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  function track(callId: string, opts: { policy?: Partial<CallPolicy> } = {}): CallActor {
    if (stopped) throw new RuntimeError('stopped', 'runtime is stopped');
    whileLogged(log, () => checkTrack(callId, opts, options.callPolicy));
    const existing = calls.get(normalizeId(callId));
    if (existing) return existing;
    const actor = startCall(callId, opts.policy);
    log({ level: 'info', msg: 'tracking call', callId });
    return actor;
  }

  /** A new call, or one restored from `snapshot`. */
  function startCall(callId: string, policy?: Partial<CallPolicy>, snapshot?: unknown): CallActor {
    const key = normalizeId(callId);
    const actor = createActor(machine, {
      clock,
      input: { callId, at: clock.now(), policy: { ...options.callPolicy, ...policy } },
      inspect: inspectFor(callId),
      ...(snapshot === undefined ? {} : { snapshot: snapshot as CallActor['_snapshot'] }),
    });
    calls.set(key, actor);
    // Loud: the app can no longer keep this call (lost permission, broken credentials, bad request).
    actor.on('keepAlive.refused', ({ type: _, ...why }) =>
      log({ level: 'error', msg: 'keepAlive refused: the call is no longer kept alive', callId, ...why }),
    );
    actor.subscribe({
      complete: () => {
        if (calls.get(key) === actor) calls.delete(key);
        const snap = actor.getSnapshot();
        // Stopped (runtime.stop(), handed over) is not ended: the snapshot stays for whoever resumes it.
        if (snap.status === 'done') persistence?.ended(key);
        const out = snap.output as CallOutput | undefined;
        log({ level: 'info', msg: 'call ended', callId, reason: out?.reason, resultInfo: out?.resultInfo });
      },
      error: (err) => {
        if (calls.get(key) === actor) calls.delete(key);
        persistence?.ended(key);
        log({ level: 'error', msg: 'call actor failed', callId, error: (err as Error)?.message });
      },
    });
    actor.start();
    return actor;
  }

  /**
   * Restore a call from its stored snapshot (what is re-run after a restore and
   * what is not: src/runtime/persistence.ts), then route `pending`.
   */
  async function adopt(stored: StoredSnapshot, pending: ParsedNotification[] = []): Promise<boolean> {
    const key = normalizeId(stored.callId);
    if (!persistence || stopped) return false;
    if (!calls.has(key)) {
      let plan: ResumePlan;
      try {
        plan = persistence.plan(stored);
        // A download cut short left a partial clip: it goes before the download runs again.
        await Promise.all(plan.deleteFirst.map((k) => store.delete(k)));
      } catch (err) {
        log({
          level: 'error',
          msg: 'call not resumed',
          callId: stored.callId,
          error: (err as Error)?.message,
        });
        return false;
      }
      if (stopped) return false;
      if (!calls.has(key)) {
        recordSeq = Math.max(recordSeq, maxRecordNumber(plan));
        renameRecords(plan, () => `rec-${++recordSeq}`);
        for (const [op, token] of plan.tokens) vault.put(op, token);
        const actor = startCall(plan.callId, undefined, plan.snapshot);
        const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
        for (const id of plan.liveRecords) {
          if (options.onResumedClip) handlers.set(id, { handler: options.onResumedClip });
          children[id]?.subscribe({ complete: () => handlers.delete(id), error: () => handlers.delete(id) });
        }
        actor.send({ type: 'RESUME', at: clock.now() });
        log({ level: 'info', msg: 'call resumed', callId: plan.callId, notes: plan.notes });
      }
    }
    if (pending.length) deliver(pending);
    return true;
  }

  /**
   * Restore every call kept in `snapshots` after a restart (with a cluster:
   * take over the calls whose owner is gone). Resolves with their ids.
   */
  async function resume(): Promise<string[]> {
    if (!persistence || !snapshots)
      throw new RuntimeError('notConfigured', 'resume() needs the `snapshots` (or `cluster`) option');
    if (stopped) throw new RuntimeError('stopped', 'runtime is stopped');
    if (options.cluster) return options.cluster.claimOrphans();
    const resumed: string[] = [];
    for (const stored of await snapshots.loadAll())
      if (await adopt(stored)) resumed.push(normalizeId(stored.callId));
    return resumed;
  }

  /** Stop the local copy of a call another instance runs now; its stored snapshot stays. */
  function drop(callId: string): void {
    const key = normalizeId(callId);
    persistence?.forget(key);
    const actor = calls.get(key);
    if (!actor) return;
    calls.delete(key);
    actor.stop();
    log({ level: 'warn', msg: 'call handed over to another instance', callId });
  }

  /** Wait for a call to end; resolves with its output. */
  function whenEnded(callId: string): Promise<CallOutput> {
    const actor = callOrReject(callId);
    if (actor instanceof Promise) return actor;
    return new Promise((resolve, reject) => {
      const done = () => {
        const snap = actor.getSnapshot();
        if (snap.status === 'done') resolve(snap.output as CallOutput);
        else reject(new RuntimeError('stopped', `call ${callId} stopped before it ended`));
      };
      if (actor.getSnapshot().status !== 'active') return done();
      actor.subscribe({ complete: done, error: reject });
    });
  }

  let recordSeq = 0;

  /**
   * Record a clip on a tracked call; `handler` gets the downloaded clip, which
   * is deleted right after. Resolves with the record's final output (and the
   * handler's return value) whatever happened; rejects only when the record
   * could not start: a `GraphError` (kind `invalidRequest`) for invalid
   * options, before any request; a `RuntimeError` for an unknown or ending call.
   */
  function record<T>(
    callId: string,
    recordOptions: RecordOptionsInput,
    handler: ClipHandler<T>,
    opts: { policy?: Partial<RecordPolicy> } = {},
  ): Promise<RecordResult<T>> {
    try {
      return startRecord(callId, recordOptions, handler, opts);
    } catch (err) {
      // Always a rejection, never a synchronous throw: `record(...).catch()` sees every failure.
      return Promise.reject(err);
    }
  }

  function startRecord<T>(
    callId: string,
    recordOptions: RecordOptionsInput,
    handler: ClipHandler<T>,
    opts: { policy?: Partial<RecordPolicy> },
  ): Promise<RecordResult<T>> {
    whileLogged(log, () => checkRecord(callId, handler, opts, options.recordPolicy));
    const actor = requireCall(callId);
    // typed GraphError before anything happens
    whileLogged(log, () => graph.validateRecordOptions(recordOptions), callId);
    const recordId = `rec-${++recordSeq}`;
    const clientContext = recordOptions.clientContext ?? randomUUID();
    // A completion that beats the POST's answer finds its record by clientContext: it must be unique.
    if (recordOptions.clientContext !== undefined && clientContextInUse(actor, clientContext))
      throw new RuntimeError(
        'recordRejected',
        `clientContext '${clientContext.slice(0, 64)}' is already used by a running record of call ${callId}`,
      );
    const storeKey = `${normalizeId(callId).slice(0, 40)}-${recordId}`;
    handlers.set(recordId, { handler: handler as ClipHandler });
    actor.send({
      type: 'RECORD',
      at: clock.now(),
      recordId,
      clientContext,
      storeKey,
      options: { ...recordOptions, clientContext },
      policy: queuedPolicy(actor, recordOptions, { ...options.recordPolicy, ...opts.policy }),
    });
    const child = (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[recordId];
    if (!child) {
      handlers.delete(recordId);
      return Promise.reject(
        new RuntimeError('recordRejected', `call ${callId} is ending; record not started`),
      );
    }
    return new Promise<RecordResult<T>>((resolve) => {
      const finish = () => {
        const snap = child.getSnapshot() as {
          status: string;
          output?: RecordOutput;
          context?: { operationId?: string | null; bytes?: number | null };
          hasTag?: (tag: string) => boolean;
        };
        const entry = handlers.get(recordId);
        handlers.delete(recordId);
        const operationId = snap.output?.operationId ?? snap.context?.operationId ?? undefined;
        if (operationId) vault.forget(operationId);
        // Stopped before its end (the call's drain timeout, runtime.stop()): a record that held
        // a clip had it deleted by its guard.
        const stoppedOutput = (): RecordOutput => ({
          callId,
          recordId,
          clientContext,
          ...(operationId ? { operationId } : {}),
          ...(typeof snap.context?.bytes === 'number' ? { bytes: snap.context.bytes } : {}),
          final: snap.hasTag?.('media') ? 'deleted' : 'failed',
          outcome: 'callEnded',
          error: { kind: 'stopped', message: 'the record was stopped before it finished' },
          at: clock.now(),
        });
        const output: RecordOutput = snap.output ?? stoppedOutput();
        resolve(recordResult<T>(output, entry));
      };
      child.subscribe({ complete: finish, error: finish });
      if (child.getSnapshot().status !== 'active') finish();
    });
  }

  function clientContextInUse(actor: CallActor, clientContext: string): boolean {
    return Object.values(actor.getSnapshot().children as Record<string, AnyActorRef | undefined>).some(
      (child) => {
        const snap = child?.getSnapshot() as
          | { status?: string; context?: { clientContext?: unknown } }
          | undefined;
        return snap?.status === 'active' && snap.context?.clientContext === clientContext;
      },
    );
  }

  /**
   * Graph runs a call's record operations one after the other: a record asked
   * for while others are still recording starts only when they end, so its
   * wait for the completion starts that much later. Without barge-in, the
   * completion margin grows by the time the records ahead may still take.
   */
  function queuedPolicy(
    actor: CallActor,
    recordOptions: RecordOptionsInput,
    policy: Partial<RecordPolicy>,
  ): Partial<RecordPolicy> {
    if (recordOptions.bargeInAllowed) return policy;
    const now = clock.now();
    let latest = now;
    for (const child of Object.values(
      actor.getSnapshot().children as Record<string, AnyActorRef | undefined>,
    )) {
      const snap = child?.getSnapshot() as
        | { status?: string; value?: unknown; context?: { completionDeadlineAt?: number } }
        | undefined;
      if (snap?.status !== 'active' || (snap.value !== 'requesting' && snap.value !== 'recording')) continue;
      const deadline = snap.context?.completionDeadlineAt;
      if (typeof deadline === 'number' && deadline > latest) latest = deadline;
    }
    if (latest === now) return policy;
    const margin = policy.completionMarginMs ?? DEFAULT_RECORD_POLICY.completionMarginMs;
    return { ...policy, completionMarginMs: margin + (latest - now) };
  }

  function cancelMedia(callId: string, clientContext?: string): void {
    requireCall(callId).send({ type: 'CANCEL_MEDIA', at: clock.now(), clientContext });
  }

  /**
   * DELETE the call; resolves with its output once it has ended. Rejects with
   * `RuntimeError('hangUpFailed')` when Graph refused the DELETE (after the
   * adapter's retries): the call is then still alive and still kept alive.
   */
  function hangUp(callId: string): Promise<CallOutput> {
    const actor = callOrReject(callId);
    if (actor instanceof Promise) return actor;
    const ended = whenEnded(callId);
    return new Promise<CallOutput>((resolve, reject) => {
      const failed = actor.on('call.hangUpFailed', (e: { status?: number; code?: string }) => {
        failed.unsubscribe();
        const why = e.status ? ` (${e.status}${e.code ? ` ${e.code}` : ''})` : '';
        reject(
          new RuntimeError('hangUpFailed', `hang-up of call ${callId} failed${why}; the call is still up`),
        );
      });
      ended.then(
        (out) => {
          failed.unsubscribe();
          resolve(out);
        },
        (err: unknown) => {
          failed.unsubscribe();
          reject(err);
        },
      );
      actor.send({ type: 'HANG_UP', at: clock.now() });
    });
  }

  const runsHere = (i: ParsedNotification) => !i.ref?.callId || calls.has(normalizeId(i.ref.callId));

  function onNotifications(items: ParsedNotification[]) {
    if (stopped) return;
    const cluster = options.cluster;
    // With a cluster, notifications of calls another instance runs go to that instance.
    const elsewhere = cluster ? items.filter((i) => !runsHere(i)) : [];
    route(elsewhere.length ? items.filter(runsHere) : items);
    if (cluster && elsewhere.length)
      trackWork(clock, cluster.forward(elsewhere)).catch((err) =>
        log({ level: 'error', msg: 'notification forwarding failed', error: (err as Error)?.message }),
      );
    for (const item of items) notificationSubject.next(scrub(item));
  }

  /** Route notifications of calls running here (from another instance); returns the others. */
  function deliver(items: ParsedNotification[]): ParsedNotification[] {
    if (stopped) return items;
    const here = items.filter(runsHere);
    const others = items.filter((i) => !runsHere(i));
    if (here.length) route(here);
    for (const item of here) notificationSubject.next(scrub(item));
    return others;
  }

  function route(items: ParsedNotification[]) {
    const result: RouteResult = routeNotifications(items, lookup, vault, clock.now());
    counters.routed += result.routed;
    counters.unknownCall += result.unknownCall;
    counters.unmatchedOperation += result.unmatchedOperation;
    if (result.unknownCall)
      log({ level: 'info', msg: 'notification for an untracked call ignored', count: result.unknownCall });
  }

  const verifier =
    options.notificationAuth === false
      ? false
      : createNotificationVerifier({ ...options.notificationAuth, clock });
  const handler = createNotificationHandler({
    verifier,
    limitBytes: options.notificationLimitBytes,
    onNotifications,
    onError: (err: NotificationError) => {
      counters.rejectedNotifications++;
      log({
        level: 'warn',
        msg: 'notification rejected',
        status: err.status,
        code: err.code,
        error: err.message,
        next: `answered ${err.status}; no call was touched`,
      });
    },
    onRejectedItem: (err: NotificationItemError) => {
      counters.rejectedNotifications++;
      counters.rejectedItems++;
      const report = rejectedItemReport(err, clock.now());
      log(report.log);
      eventSubject.next(report.event);
    },
    // Graph already has its 202; a failure here is ours to report, never to hide.
    onConsumerError: (err: unknown) =>
      log({ level: 'error', msg: 'notification handling failed', error: (err as Error)?.message }),
  });

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    // Queued snapshot writes land first: a graceful stop leaves every call resumable.
    await persistence?.flush();
    persistence?.close();
    for (const actor of calls.values()) actor.stop();
    calls.clear();
    // Guards delete clips on stop; let those deletes finish before closing the store.
    await Promise.allSettled([...pendingDeletes]);
    vault.clear();
    stateSubject.complete();
    eventSubject.complete();
    notificationSubject.complete();
    if (ownsHttp) await http.close();
    if (ownsStore) await store.close();
    await options.cluster?.stop();
  }

  if (options.cluster)
    options.cluster.attach({
      clock,
      log,
      adopt,
      deliver,
      drop,
      running: () => [...calls.keys()],
      ...notificationCodec(options.cluster.tokenKey),
    });

  return {
    clock,
    graph,
    store,
    track,
    get: (callId: string): CallActor | undefined => calls.get(normalizeId(callId)),
    calls: (): string[] => [...calls.values()].map((a) => a.getSnapshot().context.callId),
    whenEnded,
    record,
    cancelMedia,
    hangUp,
    handleNotification: handler.handle,
    nodeHandler: handler.nodeHandler,
    fetchHandler: handler.fetchHandler,
    states$: stateSubject.asObservable() as Observable<StateChange>,
    events$: eventSubject.asObservable() as Observable<RuntimeEvent>,
    notifications$: notificationSubject.asObservable() as Observable<ParsedNotification>,
    stats: () => ({
      tracked: calls.size,
      ...counters,
      tokensHeld: vault.size,
      ...(persistence ? { snapshots: { ...persistence.stats } } : {}),
    }),
    resume,
    stop,
  };
}

export type CallRuntime = ReturnType<typeof createCallRuntime>;

/** `call` or `record` for our machines' actors, undefined for helper actors (promises, guards). */
function machineOf(ref: AnyActorRef): 'call' | 'record' | undefined {
  const id = (ref as { logic?: { id?: string } }).logic?.id;
  return id === 'call' || id === 'record' ? id : undefined;
}

/** A notification as observers see it: recording tokens replaced. */
function scrub(item: ParsedNotification): ParsedNotification {
  return {
    ...item,
    resources: item.resources.map((r) =>
      r.kind === 'recordOperation' && r.data.recordingAccessToken
        ? { ...r, data: { ...r.data, recordingAccessToken: '[redacted]' } }
        : r,
    ),
    raw: undefined,
  } as ParsedNotification;
}

export { GraphError };
