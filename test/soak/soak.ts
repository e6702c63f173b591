/**
 * The soak driver (issue 8): many calls for many simulated hours against the
 * emulator, with faults on a share of the requests, misbehaving notifications
 * and recordings with random caller scripts, on one SimulatedClock. It counts
 * what the library promises: no call lost to the 45-minute rule while the bot
 * lives, no recording left behind, no timer or promise left dangling, and (with
 * `scanSecrets`) no app token or recordingAccessToken in anything observable.
 *
 * Used by test/soak/soak.test.ts (small, in `npm test`) and scripts/soak.ts
 * (`npm run soak`, full size). Figures are measured here; the callers decide
 * what to assert and print.
 */
import { readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { getHeapSpaceStatistics } from 'node:v8';
import type { InspectionEvent } from 'xstate';
import { createFileRecordingStore, type FileRecordingStore } from '../../src/adapters/file-store.js';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import type { CallerScript, FaultAction, RequestRecord, RouteName } from '../../src/emulator/index.js';
import { ROUTES } from '../../src/emulator/index.js';
import { normalizeId } from '../../src/graph/ids.js';
import type { RecordOptionsInput } from '../../src/graph/schemas.js';
import type { CallOutput } from '../../src/machines/index.js';
import type { Clip } from '../../src/runtime/clip.js';
import type { LogEntry, RecordResult } from '../../src/runtime.js';
import { createHarness, type Harness } from '../../src/testing/harness.js';
import { type CallTrafficFigures, callTrafficRows, createCallTraffic } from './soak-calls.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const KEEPALIVE_RULE_MS = 45 * MIN;
/** The app token the harness sends; the emulator is told to accept only it, so it is provably the real one. */
export const APP_TOKEN = 'test-app-token';

export interface SoakOptions {
  calls: number;
  hours: number;
  recordings: number;
  /** Share of Graph requests that get a fault (0..1). */
  faultRate: number;
  seed: number;
  /** Where clips go between download and delete (default memory). */
  store?: 'memory' | 'file';
  /** Capture everything observable and scan it for the app token and recording tokens. */
  scanSecrets?: boolean;
  /** Forced garbage collection for the heap figures (none: heap is measured as found). */
  gc?: () => void;
  /** A short run first so module loading and JIT do not count as growth (default true). */
  warmUp?: boolean;
  /** Offered calls rung over the run (default 30% of `calls`) and calls the bot places (default 20%). */
  offers?: number;
  placed?: number;
  /** Progress lines (every simulated `progressEveryHours`). */
  progress?: (line: string) => void;
  progressEveryHours?: number;
}

export type RecordingKind =
  | 'stopTone'
  | 'silent'
  | 'pastMax'
  | 'pause'
  | 'hangUpComplete'
  | 'hangUpSilent'
  | 'vanish'
  | 'vanishComplete';

export const RECORDING_KINDS: readonly RecordingKind[] = [
  'stopTone',
  'silent',
  'pastMax',
  'pause',
  'hangUpComplete',
  'hangUpSilent',
  'vanish',
  'vanishComplete',
];

export interface SecretScan {
  /** Distinct recordingAccessTokens scanned for: from notification bodies and from downloads. */
  recordingTokens: number;
  /** Of them, seen in notification bodies reaching the bot. */
  tappedTokens: number;
  /** Tokens downloads used that no notification carried (a terminal POST answer): normally 0. */
  usedTokensNotTapped: number;
  /** Captured items per source (log, error, state, event, notification, snapshot, inspect, ...). */
  items: Record<string, number>;
  /** Characters scanned. */
  chars: number;
  /** Sources where a secret was found: `source: app token|recording token`. Must be empty. */
  leaks: string[];
  /** Tapped tokens the scanner finds in the tapped bodies themselves (= tappedTokens: the scanner works). */
  controlFound: number;
}

export interface SoakFigures {
  calls: number;
  hours: number;
  recordingsRequested: number;
  faultRate: number;
  seed: number;
  store: 'memory' | 'file';
  wallMs: number;
  cpuMs: number;
  /** Graph requests the emulator saw (faults can apply to these). */
  graphRequests: number;
  /** Of them, with a status/reset/delay fault. */
  faultedRequests: number;
  faultsByKind: Record<string, number>;
  keepAlivesOk: number;
  keepAliveFailures: number;
  notificationsDelivered: number;
  notificationsDuplicated: number;
  notificationsReordered: number;
  earlyNotificationRequests: number;
  emulatorEndedBy: Record<string, number>;
  botEndReasons: Record<string, number>;
  /** Emulator keepAliveTimeout expiries. */
  emulatorExpiries: number;
  /** Of them, where the bot had not itself concluded the deadline passed. Must be 0. */
  expiredWhileBotBelievedAlive: number;
  /** Calls the runtime never reported ended. Must be 0. */
  callsWithoutOutput: number;
  maxKeepAliveGapMin: number;
  /** Gaps >= 45 min between successful keepAlives of a live call (or its start/end). Must be 0. */
  keepAliveGapsOver45: number;
  recordOutcomes: Record<string, number>;
  recordsByKind: Record<string, number>;
  recordsNotStarted: number;
  /** Distinct operations whose completion reached the bot carrying a recording. */
  completedRecordings: number;
  /** Records that downloaded bytes and ended `deleted`. */
  downloadedAndDeleted: number;
  /** Recordings the emulator made / that were downloaded at least once. */
  emulatorRecordings: number;
  emulatorRecordingsDownloaded: number;
  /** Downloaded sizes different from the emulator's recording. Must be 0. */
  clipSizeMismatches: number;
  /** Completed recordings the bot did not download and delete, and what happened instead. */
  missedRecordings: string[];
  filesLeft: number;
  unhandledRejections: number;
  pendingTimersAfterClose: number;
  rejectedNotifications: number;
  tokensHeldAtEnd: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  /** Of the heap, compiled code (grows as the JIT optimises more of the run's paths). */
  codeBeforeMB: number;
  codeAfterMB: number;
  /** (after - before) / before. */
  heapGrowth: number;
  gcForced: boolean;
  secrets?: SecretScan;
  /** Offered and placed calls (issue 15). */
  setup: CallTrafficFigures;
}

/** mulberry32: a small seeded PRNG so a seed reproduces the same soak. */
function prng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const inc = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};

/** Request faults and their share of the fault rate. */
const FAULT_MIX: Array<{ name: string; share: number; fault: FaultAction }> = [
  { name: '429 Retry-After 2', share: 0.15, fault: { kind: 'status', status: 429, retryAfter: '2' } },
  { name: '429 Retry-After 7.5', share: 0.05, fault: { kind: 'status', status: 429, retryAfter: '7.5' } },
  { name: '500', share: 0.2, fault: { kind: 'status', status: 500 } },
  { name: '503', share: 0.1, fault: { kind: 'status', status: 503 } },
  { name: '503 Retry-After 3', share: 0.1, fault: { kind: 'status', status: 503, retryAfter: '3' } },
  { name: 'reset', share: 0.2, fault: { kind: 'reset' } },
  { name: 'delay 2 s', share: 0.2, fault: { kind: 'delay', ms: 2_000 } },
];

/**
 * Per-fault probabilities so that about `rate` of requests get at least one:
 * the emulator draws each fault independently, so solve 1 - prod(1 - k*share) = rate.
 */
function faultProbabilities(rate: number): number[] {
  if (rate <= 0) return FAULT_MIX.map(() => 0);
  const hit = (k: number) => 1 - FAULT_MIX.reduce((p, f) => p * (1 - Math.min(1, k * f.share)), 1);
  let lo = 0;
  let hi = 1 / Math.max(...FAULT_MIX.map((f) => f.share));
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (hit(mid) < rate) lo = mid;
    else hi = mid;
  }
  return FAULT_MIX.map((f) => Math.min(1, hi * f.share));
}

/** JSON of anything captured: errors with message and stack, no cycles, buffers as text. */
export function serialise(value: unknown): string {
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, function replacer(key, v: unknown) {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'function') return undefined;
      if (v && typeof v === 'object') {
        if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
        // A state machine definition in a snapshot: config, not data.
        if (key === 'machine' || key === '_nodes') return '[machine]';
        if (seen.has(v)) return '[seen]';
        seen.add(v);
        if (v instanceof Error) {
          const out: Record<string, unknown> = { name: v.name, message: v.message, stack: v.stack };
          for (const k of Object.keys(v)) out[k] = (v as unknown as Record<string, unknown>)[k];
          if (v.cause !== undefined) out.cause = v.cause;
          return out;
        }
        if (v instanceof Map) return Object.fromEntries(v);
        if (v instanceof Set) return [...v];
      }
      return v;
    }) ?? String(value)
  );
}

/** Every string under a key that names an access token, anywhere in a notification body. */
function collectTokens(json: unknown, out: Set<string>, depth = 0): void {
  if (depth > 20 || !json || typeof json !== 'object') return;
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    if (typeof v === 'string' && /accesstoken/i.test(k) && v.length > 0) out.add(v);
    else collectTokens(v, out, depth + 1);
  }
}

interface TappedOperation {
  operationId: string;
  status: string;
  recordingLocation: string | undefined;
  hasToken: boolean;
}

/** Record operations in a notification body, whatever variant spelled them. */
function collectOperations(json: unknown, out: TappedOperation[], depth = 0): void {
  if (depth > 20 || !json || typeof json !== 'object') return;
  if (Array.isArray(json)) {
    for (const v of json) collectOperations(v, out, depth + 1);
    return;
  }
  const o = json as Record<string, unknown>;
  if (o['@odata.type'] === '#microsoft.graph.recordOperation' && typeof o.id === 'string') {
    const location = o.recordingLocation ?? o.recordResourceLocation;
    const token = o.recordingAccessToken ?? o.recordResourceAccessToken;
    out.push({
      operationId: normalizeId(o.id),
      status: String(o.status ?? '').toLowerCase(),
      recordingLocation: typeof location === 'string' && location ? location : undefined,
      hasToken: typeof token === 'string' && token.length > 0,
    });
    return;
  }
  for (const v of Object.values(o)) collectOperations(v, out, depth + 1);
}

/** heapUsed, and the part of it that is compiled code (JIT output, not data the library keeps). */
async function heapMB(gc: (() => void) | undefined): Promise<{ used: number; code: number }> {
  // undici's timer wheel (a module-level list, one tick per ~500 ms of real time) keeps its
  // cleared timers, and through them the last connections and all they reach, until its next
  // tick: measured at once after the run, that is the whole run (~77 MB), released 1-2 ticks
  // later with no handle left. Let the wheel tick twice before measuring.
  if (gc) await new Promise((r) => setTimeout(r, 1_500));
  for (let i = 0; i < (gc ? 4 : 1); i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const code = getHeapSpaceStatistics()
    .filter((s) => s.space_name.startsWith('code_'))
    .reduce((n, s) => n + s.space_used_size, 0);
  return { used: process.memoryUsage().heapUsed / 2 ** 20, code: code / 2 ** 20 };
}

/** Run the soak: an optional warm-up, then the measured run with heap before and after. */
export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  let unhandled = 0;
  const onUnhandled = () => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    if (options.warmUp !== false)
      await soakOnce({
        ...options,
        // Big enough that the hot paths (faults, every caller script) are compiled before `before`.
        calls: Math.min(100, options.calls),
        hours: Math.min(4, options.hours),
        recordings: Math.min(100, options.recordings),
        scanSecrets: false,
        progress: undefined,
        seed: options.seed + 1,
      });
    const before = await heapMB(options.gc);
    const figures = await soakOnce(options);
    const after = await heapMB(options.gc);
    figures.heapBeforeMB = before.used;
    figures.heapAfterMB = after.used;
    figures.heapGrowth = (after.used - before.used) / before.used;
    figures.codeBeforeMB = before.code;
    figures.codeAfterMB = after.code;
    figures.gcForced = Boolean(options.gc);
    figures.unhandledRejections = unhandled;
    return figures;
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

interface PlannedRecording {
  callIndex: number;
  at: number;
  kind: RecordingKind;
  options: RecordOptionsInput;
  script: CallerScript;
  /** vanish kinds: the far side drops silently this long after the record request. */
  vanishAfterMs?: number;
  handlerThrows: boolean;
}

function planRecordings(opts: SoakOptions, rnd: () => number, t0: number): PlannedRecording[] {
  const plans: PlannedRecording[] = [];
  const order = Array.from({ length: opts.calls }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  // Recordings between 20 min in and 40 min before the end (the final hang-up).
  const from = t0 + 20 * MIN;
  const span = Math.max(MIN, opts.hours * HOUR - 60 * MIN);
  // Caller scripts in turn from a random start, so every kind runs once there are 8 recordings.
  const firstKind = Math.floor(rnd() * RECORDING_KINDS.length);
  for (let i = 0; i < opts.recordings; i++) {
    const kind = RECORDING_KINDS[(firstKind + i) % RECORDING_KINDS.length] as RecordingKind;
    const max = 10 + Math.floor(rnd() * 20);
    const withPrompt = rnd() < 0.5;
    const options: RecordOptionsInput = {
      playBeep: true,
      stopTones: ['#'],
      maxRecordDurationInSeconds: max,
      initialSilenceTimeoutInSeconds: 5,
      maxSilenceTimeoutInSeconds: 3,
      ...(withPrompt
        ? { prompts: [{ mediaInfo: { uri: 'https://bot.example/prompts/leave-a-message.wav' } }] }
        : {}),
    };
    const speak = 2 + Math.round(rnd() * 60) / 10;
    const script: CallerScript = { promptSeconds: 2 };
    let vanishAfterMs: number | undefined;
    switch (kind) {
      case 'stopTone':
        script.caller = { kind: 'speak', seconds: speak, thenTone: '#' };
        break;
      case 'silent':
        script.caller = { kind: 'silent' };
        break;
      case 'pastMax':
        // A tone the request does not list is ignored: the caller talks to the maximum.
        script.caller =
          rnd() < 0.5 ? { kind: 'speak', seconds: max + 10 } : { kind: 'speak', seconds: 5, thenTone: '*' };
        break;
      case 'pause':
        script.caller = { kind: 'speak', seconds: speak };
        break;
      case 'hangUpComplete':
        script.caller = { kind: 'hangUp', afterSeconds: speak, mode: 'complete' };
        break;
      case 'hangUpSilent':
        script.caller = { kind: 'hangUp', afterSeconds: speak, mode: 'silent' };
        break;
      case 'vanish':
      case 'vanishComplete':
        // The far side drops without a word mid-recording; `vanish` sends nothing at all,
        // `vanishComplete` still completes the record (but no call termination follows).
        script.caller = { kind: 'speak', seconds: max + 10 };
        script.onCallEnd = kind === 'vanish' ? 'silent' : 'complete';
        vanishAfterMs = 8_000 + Math.round(rnd() * 4_000);
        break;
    }
    plans.push({
      callIndex: order[i % order.length] as number,
      // Later rounds (more recordings than calls) go to later times on the same calls.
      at: from + Math.floor(((i / opts.recordings) * 0.5 + rnd() * 0.5) * span),
      kind,
      options,
      script,
      vanishAfterMs,
      handlerThrows: rnd() < 0.1,
    });
  }
  return plans;
}

/** One soak run from start to close. Everything it allocates is dropped when it returns. */
async function soakOnce(opts: SoakOptions): Promise<SoakFigures> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rnd = prng(opts.seed);
  const storeKind = opts.store ?? 'memory';
  // The runtime tracks every store operation on its clock, so the store needs none of its own.
  const store: RecordingStore =
    storeKind === 'file' ? createFileRecordingStore({}) : createMemoryRecordingStore();
  const scan = opts.scanSecrets === true;

  // ---- capture (secret scan) ----
  const captured: Array<{ source: string; text: string }> = [];
  const items: Record<string, number> = {};
  const capture = (source: string, value: unknown) => {
    if (!scan) return;
    inc(items, source);
    captured.push({ source, text: typeof value === 'string' ? value : serialise(value) });
  };
  const tapped: string[] = [];
  /** recordingAccessTokens in notification bodies, and those downloads actually sent. */
  const tokens = new Set<string>();
  const usedTokens = new Set<string>();
  const carried = new Set<string>();
  let rejectedLogs = 0;
  const traffic = createCallTraffic({
    offers: opts.offers ?? Math.round(opts.calls * 0.3),
    placed: opts.placed ?? Math.round(opts.calls * 0.2),
    rnd,
    capture,
    schedule: (at, fn) => schedule(at, fn),
  });

  const h: Harness = await createHarness({
    store,
    emulator: { seed: opts.seed, appToken: APP_TOKEN, notificationRetries: 5 },
    onAttempt: (e: HttpAttemptEvent) => capture('httpAttempt', e),
    // The tokens downloads really use (a POST answer that was already terminal can carry one too).
    onRequest: (req) => {
      if (typeof req.auth === 'object') usedTokens.add(req.auth.bearer);
    },
    runtime: {
      log: (entry: LogEntry) => {
        if (entry.msg === 'notification rejected') rejectedLogs++;
        capture('log', entry);
      },
      ...(scan ? { inspect: (ev: InspectionEvent) => capture('inspect', ev) } : {}),
      onIncomingCall: traffic.onIncomingCall,
    },
  });
  const { clock, emulator, runtime } = h;
  const control = emulator.control;
  const t0 = clock.now();
  const end = t0 + opts.hours * HOUR;

  // Tap: see each notification body before the runtime does, for the real tokens and the truth
  // about which completions carried a recording. The runtime still reads a request stream.
  const handler = runtime.nodeHandler;
  h.bot.removeAllListeners('request');
  h.bot.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return handler(req, res);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      try {
        const json = JSON.parse(body) as unknown;
        collectTokens(json, tokens);
        traffic.observeBody(json);
        const ops: TappedOperation[] = [];
        collectOperations(json, ops);
        for (const op of ops)
          if (op.status === 'completed' && op.recordingLocation && op.hasToken) carried.add(op.operationId);
      } catch {
        // not JSON: the runtime answers it
      }
      if (scan) tapped.push(body);
    });
    const copy = new PassThrough();
    req.on('error', (err) => copy.destroy(err));
    req.pipe(copy);
    Object.assign(copy, { method: req.method, headers: req.headers, url: req.url, socket: req.socket });
    handler(copy as unknown as IncomingMessage, res);
  });

  if (scan) {
    runtime.states$.subscribe((s) => {
      capture('state', s);
      // The parent call's persisted snapshot at every step of a recording's life.
      if (s.machine === 'record') {
        const actor = runtime.get(s.callId);
        queueMicrotask(() => {
          try {
            if (actor) capture('snapshot', actor.getPersistedSnapshot());
          } catch (err) {
            capture('error', err);
          }
        });
      }
    });
    runtime.events$.subscribe((e) => capture('event', e));
    runtime.notifications$.subscribe((n) => capture('notification', n));
  }

  // ---- faults ----
  const probabilities = faultProbabilities(opts.faultRate);
  const faultNames = new Map<string, string>();
  FAULT_MIX.forEach((f, i) => {
    const p = probabilities[i] ?? 0;
    if (p > 0) faultNames.set(control.injectFault({ route: '*', probability: p, fault: f.fault }), f.name);
  });
  const earlyIds = new Set<string>();
  if (opts.faultRate > 0) {
    for (const route of ['record', 'recordResponse', 'hangUp'] as const)
      earlyIds.add(
        control.injectFault({ route, probability: 0.25, fault: { kind: 'notification', mode: 'early' } }),
      );
    control.injectFault({ probability: 0.05, fault: { kind: 'notification', mode: 'duplicate' } });
    control.injectFault({ probability: 0.05, fault: { kind: 'notification', mode: 'reorder' } });
  }

  // ---- calls, staggered over the first 15 minutes ----
  const callIds: string[] = [];
  const outputs = new Map<string, CallOutput>();
  const stagger = Math.floor((15 * MIN) / Math.max(1, opts.calls));
  for (let i = 0; i < opts.calls; i++) {
    const variants =
      rnd() < 0.3
        ? {
            upperCaseIds: rnd() < 0.5,
            arrayResourceData: rnd() < 0.3,
            batch: rnd() < 0.5,
            legacyRecordingFields: rnd() < 0.3,
            stringCodes: rnd() < 0.3,
            capitalisedStatus: rnd() < 0.3,
          }
        : undefined;
    const id = h.call(variants ? { variants } : {});
    callIds.push(id);
    runtime.whenEnded(id).then(
      (out) => {
        outputs.set(normalizeId(id), out);
        capture('callOutput', out);
      },
      (err) => capture('error', err),
    );
    await clock.advance(stagger);
  }
  opts.progress?.(
    `  ${opts.calls} calls started over ${((clock.now() - t0) / MIN).toFixed(0)} simulated min, ${((performance.now() - wall0) / 1000).toFixed(1)} s wall`,
  );

  // ---- recordings ----
  const plans = planRecordings(opts, rnd, t0);
  const results: Array<{ plan: PlannedRecording; result?: RecordResult; error?: unknown }> = [];
  const clipBytes = new Map<string, number>();
  const scheduled = new Set<unknown>();
  const schedule = (at: number, fn: () => void) => {
    const handle = clock.setTimeout(() => {
      scheduled.delete(handle);
      fn();
    }, at - clock.now());
    scheduled.add(handle);
  };
  for (const plan of plans) {
    schedule(plan.at, () => {
      const callId = callIds[plan.callIndex] as string;
      const entry: (typeof results)[number] = { plan };
      results.push(entry);
      if (!runtime.get(callId)) {
        entry.error = new Error('call already ended');
        return;
      }
      control.setCallerScript(callId, plan.script);
      let recordPromise: Promise<RecordResult>;
      try {
        recordPromise = runtime.record(callId, plan.options, async (clip: Clip) => {
          let n = 0;
          for await (const chunk of clip.open()) n += (chunk as Buffer).length;
          clipBytes.set(normalizeId(clip.operationId), n);
          if (plan.handlerThrows) throw new Error(`handler for ${clip.recordId} fails on purpose`);
          return { bytes: n, seconds: clip.wav?.durationSeconds };
        });
      } catch (err) {
        entry.error = err;
        capture('error', err);
        return;
      }
      recordPromise.then(
        (r) => {
          entry.result = r;
          capture('recordResult', r);
        },
        (err) => {
          entry.error = err;
          capture('error', err);
        },
      );
      if (plan.vanishAfterMs !== undefined)
        schedule(clock.now() + plan.vanishAfterMs, () => {
          control.hangUpByCaller(callId, { silent: true });
        });
    });
  }

  // ---- offered and placed calls, over the run but for its last 2 hours ----
  traffic.start(h, clock.now(), Math.max(clock.now() + 15 * MIN, end - 2 * HOUR));

  // ---- request log, read as it grows (it keeps the latest 100k entries) ----
  const graphRoutes = new Set<string>(ROUTES);
  const keepAliveTimes = new Map<string, number[]>();
  const recordRequests = new Map<string, string[]>();
  const decisionRequests: RequestRecord[] = [];
  const faultsByKind: Record<string, number> = {};
  let lastSeq = 0;
  let graphRequests = 0;
  let faultedRequests = 0;
  let keepAlivesOk = 0;
  let keepAliveFailures = 0;
  let earlyRequests = 0;
  const readLog = (final: boolean) => {
    const cutoff = final ? Number.POSITIVE_INFINITY : clock.now() - 10 * MIN;
    const log: RequestRecord[] = control.requests();
    const first = log[0];
    if (first && first.seq > lastSeq + 1)
      throw new Error(`request log lost entries ${lastSeq + 1}..${first.seq - 1}`);
    for (const r of log) {
      if (r.seq <= lastSeq) continue;
      if (r.at > cutoff) break;
      lastSeq = r.seq;
      if (!graphRoutes.has(r.route)) continue;
      graphRequests++;
      let faulted = false;
      for (const f of r.faults) {
        if (earlyIds.has(f)) earlyRequests++;
        const name = faultNames.get(f);
        if (name) {
          faulted = true;
          inc(faultsByKind, name);
        }
      }
      if (faulted) faultedRequests++;
      if (r.route === 'answer' || r.route === 'reject' || r.route === 'redirect') decisionRequests.push(r);
      if ((r.route === 'record' || r.route === 'recordResponse') && r.callId) {
        const key = normalizeId(r.callId);
        const what = `${r.route} ${r.status || 'reset'}${r.faults.length ? ` [${r.faults.map((f) => faultNames.get(f) ?? (earlyIds.has(f) ? 'early' : f)).join(', ')}]` : ''}`;
        recordRequests.set(key, [...(recordRequests.get(key) ?? []), what]);
      }
      if ((r.route as RouteName) === 'keepAlive' && r.callId) {
        if (r.status >= 200 && r.status < 300) {
          keepAlivesOk++;
          const key = normalizeId(r.callId);
          const times = keepAliveTimes.get(key) ?? [];
          times.push(r.at);
          keepAliveTimes.set(key, times);
        } else keepAliveFailures++;
      }
    }
  };

  // ---- run ----
  const every = Math.max(1, opts.progressEveryHours ?? 2) * HOUR;
  let snapshotsAt = t0 + HOUR;
  let progressAt = t0 + every;
  while (clock.now() < end) {
    const next = Math.min(end, clock.now() + HOUR);
    await clock.advanceTo(next);
    readLog(false);
    if (scan && clock.now() >= snapshotsAt) {
      snapshotsAt += HOUR;
      for (const id of runtime.calls()) capture('snapshot', runtime.get(id)?.getPersistedSnapshot());
    }
    if (opts.progress && clock.now() >= progressAt) {
      progressAt += every;
      opts.progress(
        `  ${((clock.now() - t0) / HOUR).toFixed(0).padStart(3)} h simulated  ${((performance.now() - wall0) / 1000).toFixed(0).padStart(4)} s wall  ` +
          `${runtime.stats().tracked} calls tracked  ${keepAlivesOk} keepAlives ok  heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`,
      );
    }
  }

  // ---- the bot hangs up what is left; faults still apply, so a failed hang-up is tried again ----
  for (let round = 0; round < 60 && runtime.calls().length > 0; round++) {
    for (const id of runtime.calls()) {
      if (runtime.get(id)?.getSnapshot().matches('established'))
        runtime.hangUp(id).catch((err: unknown) => capture('error', err));
    }
    await clock.advance(MIN);
  }
  // Notification retries, downloads of the last recordings, retention timers.
  await clock.advance(15 * MIN);
  readLog(true);
  if (scan) for (const id of runtime.calls()) capture('snapshot', runtime.get(id)?.getPersistedSnapshot());

  // ---- figures ----
  const emulatorCalls = control.calls();
  const notifications = control.notifications();
  const emulatorEndedBy: Record<string, number> = {};
  const botEndReasons: Record<string, number> = {};
  let emulatorExpiries = 0;
  let expiredWhileAlive = 0;
  let maxGap = 0;
  let gapsOver = 0;
  let emulatorRecordings = 0;
  let emulatorRecordingsDownloaded = 0;
  let clipSizeMismatches = 0;
  for (const call of emulatorCalls) {
    const key = normalizeId(call.id);
    const out = outputs.get(key) ?? traffic.output(key);
    inc(emulatorEndedBy, call.endedBy ?? 'still live');
    inc(botEndReasons, out?.reason ?? 'no output');
    if (call.endedBy === 'keepAliveTimeout') {
      emulatorExpiries++;
      // Acceptable only where the bot itself concluded its 45 minutes had run out.
      if (out?.reason !== 'expired') expiredWhileAlive++;
    }
    const stop = call.endedAt ?? clock.now();
    const marks = [call.startedAt, ...(keepAliveTimes.get(key) ?? []).filter((t) => t <= stop), stop];
    for (let i = 1; i < marks.length; i++) {
      const gap = (marks[i] as number) - (marks[i - 1] as number);
      if (gap > maxGap) maxGap = gap;
      if (gap >= KEEPALIVE_RULE_MS) gapsOver++;
    }
    for (const rec of call.recordings) {
      emulatorRecordings++;
      if (rec.downloads > 0) emulatorRecordingsDownloaded++;
      const got = clipBytes.get(normalizeId(rec.operationId));
      if (got !== undefined && got !== rec.bytes) clipSizeMismatches++;
    }
  }
  const recordOutcomes: Record<string, number> = {};
  const recordsByKind: Record<string, number> = {};
  let downloadedAndDeleted = 0;
  const fetched = new Set<string>();
  let notStarted = 0;
  for (const r of results) {
    if (!r.result) {
      notStarted++;
      inc(recordOutcomes, 'notStarted');
      continue;
    }
    inc(recordOutcomes, `${r.result.final}/${r.result.outcome}`);
    inc(recordsByKind, `${r.plan.kind}: ${r.result.outcome}`);
    if (r.result.final === 'deleted' && (r.result.bytes ?? 0) > 0) {
      downloadedAndDeleted++;
      if (r.result.operationId) fetched.add(normalizeId(r.result.operationId));
    }
  }
  // What became of each completed recording the bot did not fetch (for the report).
  const missedRecordings: string[] = [];
  for (const opId of carried) {
    if (fetched.has(opId)) continue;
    const r = results.find((x) => x.result?.operationId && normalizeId(x.result.operationId) === opId);
    const call = emulatorCalls.find((c) => c.recordings.some((rec) => normalizeId(rec.operationId) === opId));
    const out = call ? outputs.get(normalizeId(call.id)) : undefined;
    missedRecordings.push(
      r?.result
        ? `${r.plan.kind}: ${r.result.final}/${r.result.outcome} ${r.result.error ? serialise(r.result.error) : ''} (call ${out?.reason ?? '?'})`
        : `operation ${opId}: no record result names it (call ${out?.reason ?? '?'}; ` +
            `requests: ${(call && recordRequests.get(normalizeId(call.id))?.join('; ')) ?? '?'}; ` +
            `results: ${results
              .filter((x) => call && normalizeId(callIds[x.plan.callIndex] ?? '') === normalizeId(call.id))
              .map(
                (x) =>
                  `${x.plan.kind} ${x.result?.final}/${x.result?.outcome} ${serialise(x.result?.error ?? x.error ?? null)}`,
              )
              .join('; ')})`,
    );
  }
  // Recordings planned after their call ended never produced a result entry: count them too.
  notStarted += plans.length - results.length;

  let filesLeft = (await store.list()).length;
  if (storeKind === 'file') {
    const dir = await (store as FileRecordingStore).dir;
    filesLeft = Math.max(filesLeft, (await readdir(dir).catch(() => [])).length);
  }
  const stats = runtime.stats();
  const setup = traffic.figures(decisionRequests, (id) => {
    const name = faultNames.get(id);
    return name !== undefined && !name.startsWith('delay');
  });

  // ---- close, then nothing may remain on the clock ----
  for (const handle of scheduled) clock.clearTimeout(handle);
  await h.close();
  await store.close();
  const pendingTimersAfterClose = clock.pendingTimers;

  let secrets: SecretScan | undefined;
  if (scan) {
    capture('stats', stats);
    secrets = scanCaptured(captured, tapped, tokens, usedTokens, items);
  }

  const cpu = process.cpuUsage(cpu0);
  return {
    calls: opts.calls,
    hours: opts.hours,
    recordingsRequested: opts.recordings,
    faultRate: opts.faultRate,
    seed: opts.seed,
    store: storeKind,
    wallMs: Math.round(performance.now() - wall0),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    graphRequests,
    faultedRequests,
    faultsByKind,
    keepAlivesOk,
    keepAliveFailures,
    notificationsDelivered: notifications.filter((n) => n.delivery === 'delivered').length,
    notificationsDuplicated: notifications.filter((n) => n.fault === 'duplicate').length,
    notificationsReordered: notifications.filter((n) => n.fault === 'reorder').length,
    earlyNotificationRequests: earlyRequests,
    emulatorEndedBy,
    botEndReasons,
    emulatorExpiries,
    expiredWhileBotBelievedAlive: expiredWhileAlive,
    callsWithoutOutput: callIds.length - outputs.size,
    maxKeepAliveGapMin: maxGap / MIN,
    keepAliveGapsOver45: gapsOver,
    recordOutcomes,
    recordsByKind,
    recordsNotStarted: notStarted,
    completedRecordings: carried.size,
    downloadedAndDeleted,
    emulatorRecordings,
    emulatorRecordingsDownloaded,
    clipSizeMismatches,
    missedRecordings,
    filesLeft,
    unhandledRejections: 0,
    pendingTimersAfterClose,
    rejectedNotifications: Math.max(stats.rejectedNotifications, rejectedLogs),
    tokensHeldAtEnd: stats.tokensHeld,
    heapBeforeMB: 0,
    heapAfterMB: 0,
    codeBeforeMB: 0,
    codeAfterMB: 0,
    heapGrowth: 0,
    gcForced: false,
    setup,
    ...(secrets ? { secrets } : {}),
  };
}

/** Look for the app token and every recording token in everything captured. */
function scanCaptured(
  captured: Array<{ source: string; text: string }>,
  tapped: string[],
  tokens: Set<string>,
  usedTokens: Set<string>,
  items: Record<string, number>,
): SecretScan {
  const secrets: Array<{ name: string; value: string }> = [
    { name: 'app token', value: APP_TOKEN },
    ...[...new Set([...tokens, ...usedTokens])].map((value) => ({ name: 'recording token', value })),
  ];
  const leaks = new Set<string>();
  let chars = 0;
  for (const { source, text } of captured) {
    chars += text.length;
    for (const s of secrets) if (text.includes(s.value)) leaks.add(`${source}: ${s.name}`);
  }
  const bodies = tapped.join('\n');
  const controlFound = [...tokens].filter((t) => bodies.includes(t)).length;
  return {
    recordingTokens: secrets.length - 1,
    tappedTokens: tokens.size,
    usedTokensNotTapped: [...usedTokens].filter((t) => !tokens.has(t)).length,
    items,
    chars,
    leaks: [...leaks].sort(),
    controlFound,
  };
}

/** The figures as an aligned table, with each promise's check. */
export function formatFigures(f: SoakFigures, heapLimit?: number): string {
  const rows: Array<[string, string, string?]> = [];
  const ok = (pass: boolean) => (pass ? 'ok' : 'FAIL');
  const kv = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '-';
  rows.push([
    'size',
    `${f.calls} calls x ${f.hours} h, ${f.recordingsRequested} recordings, seed ${f.seed}, ${f.store} store`,
  ]);
  rows.push(['time', `${(f.wallMs / 1000).toFixed(1)} s wall, ${(f.cpuMs / 1000).toFixed(1)} s CPU`]);
  rows.push([
    'graph requests',
    `${f.graphRequests}, faulted ${f.faultedRequests} (${((100 * f.faultedRequests) / Math.max(1, f.graphRequests)).toFixed(1)}%, target ${(100 * f.faultRate).toFixed(0)}%)`,
  ]);
  rows.push(['faults', kv(f.faultsByKind)]);
  rows.push(['keepAlives', `${f.keepAlivesOk} ok, ${f.keepAliveFailures} failed`]);
  rows.push([
    'notifications',
    `${f.notificationsDelivered} delivered, ${f.notificationsDuplicated} duplicated, ${f.notificationsReordered} reordered, ${f.earlyNotificationRequests} requests answered after their notifications (early)`,
  ]);
  rows.push(['emulator call ends', kv(f.emulatorEndedBy)]);
  rows.push(['bot call ends', kv(f.botEndReasons)]);
  rows.push(['calls without an end reported', String(f.callsWithoutOutput), ok(f.callsWithoutOutput === 0)]);
  rows.push([
    'expired by emulator while bot believed alive',
    `${f.expiredWhileBotBelievedAlive} (of ${f.emulatorExpiries} expiries)`,
    ok(f.expiredWhileBotBelievedAlive === 0),
  ]);
  rows.push([
    'keepAlive gaps >= 45 min',
    `${f.keepAliveGapsOver45} (longest ${f.maxKeepAliveGapMin.toFixed(1)} min)`,
    ok(f.keepAliveGapsOver45 === 0),
  ]);
  rows.push(...callTrafficRows(f.setup));
  rows.push(['record outcomes', kv(f.recordOutcomes)]);
  rows.push(['records by caller script', kv(f.recordsByKind)]);
  rows.push([
    'completed recordings (completion carried one)',
    `${f.completedRecordings} (emulator made ${f.emulatorRecordings}, downloaded ${f.emulatorRecordingsDownloaded})`,
  ]);
  rows.push([
    'recordings downloaded and deleted',
    String(f.downloadedAndDeleted),
    ok(
      f.downloadedAndDeleted === f.completedRecordings &&
        f.emulatorRecordingsDownloaded === f.completedRecordings,
    ),
  ]);
  for (const m of f.missedRecordings.slice(0, 10)) rows.push(['  not downloaded', m]);
  rows.push(['clip size mismatches', String(f.clipSizeMismatches), ok(f.clipSizeMismatches === 0)]);
  rows.push(['files left in the store', String(f.filesLeft), ok(f.filesLeft === 0)]);
  rows.push(['recording tokens held at end', String(f.tokensHeldAtEnd), ok(f.tokensHeldAtEnd === 0)]);
  rows.push([
    'notifications rejected by the bot',
    String(f.rejectedNotifications),
    ok(f.rejectedNotifications === 0),
  ]);
  rows.push(['unhandled rejections', String(f.unhandledRejections), ok(f.unhandledRejections === 0)]);
  rows.push([
    'pending timers after close',
    String(f.pendingTimersAfterClose),
    ok(f.pendingTimersAfterClose === 0),
  ]);
  rows.push([
    'heap before -> after',
    `${f.heapBeforeMB.toFixed(1)} -> ${f.heapAfterMB.toFixed(1)} MB (${f.heapGrowth >= 0 ? '+' : ''}${(100 * f.heapGrowth).toFixed(1)}%${f.gcForced ? ', after gc' : ', no forced gc'}; of it JIT code ${f.codeBeforeMB.toFixed(1)} -> ${f.codeAfterMB.toFixed(1)} MB)`,
    heapLimit === undefined ? 'printed' : ok(f.heapGrowth <= heapLimit),
  ]);
  if (f.secrets)
    rows.push([
      'secret scan',
      `${f.secrets.leaks.length} leaks in ${f.secrets.chars} chars (${kv(f.secrets.items)}); ${f.secrets.recordingTokens} recording tokens (${f.secrets.tappedTokens} from notifications, ${f.secrets.usedTokensNotTapped} only in downloads) + app token`,
      ok(f.secrets.leaks.length === 0 && f.secrets.controlFound === f.secrets.tappedTokens),
    ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v, c]) => `${k.padEnd(w)}  ${c ? `[${c}] ` : ''}${v}`).join('\n');
}
