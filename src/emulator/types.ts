/**
 * The emulator's public types: options, the running Emulator, its control
 * surface, and the records it keeps of requests, notifications and calls.
 */
import type { Clock } from '../adapters/clock.js';
import type { RecordLimits } from '../graph/limits.js';
import type { CallState } from '../graph/schemas.js';
import type { CallerScript, ResultInfoValue } from './caller-script.js';
import type { ActiveFault, FaultSpec, RouteName } from './faults.js';
import type { Variants } from './variants.js';

export interface StartEmulatorOptions {
  /** Default: the wall clock. Tests pass the SimulatedClock they share with the bot. */
  clock?: Clock;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Record option bounds (default DEFAULT_LIMITS = the specification's 300 s). */
  limits?: RecordLimits;
  /** The app token Graph routes accept: exact value or predicate (default: any non-empty bearer). */
  appToken?: string | ((token: string) => boolean);
  /** A call without a successful keepAlive for this long ends (default 45 min). */
  keepAliveTimeoutMs?: number;
  /** A recording is downloadable until this long after its call ended (default 5 min). */
  recordingRetentionMs?: number;
  /** `aud` of the notification JWTs: the bot's app id (default 'emulator-bot'). */
  audience?: string;
  /** `tid` of the notification JWTs (default a fixed GUID). */
  tenantId?: string;
  /** Retries of a notification the bot answers with 5xx/429 or cannot be reached for (default 3). */
  notificationRetries?: number;
  /** Seed for generated ids and probabilistic faults. */
  seed?: number;
  /** Notification field variants for every call (per call: the script's `variants`). */
  variants?: Partial<Variants>;
  /** Script of calls that have none (default: the caller speaks 3 s, then falls silent). */
  defaultScript?: CallerScript;
}

export interface CreateCallOptions {
  /** Where Graph posts this call's notifications (the bot's webhook). */
  callbackUri: string;
  /** A GUID in any spelling (default: a new one). */
  id?: string;
  script?: CallerScript;
  variants?: Partial<Variants>;
}

export interface EmulatedCallInfo {
  /** Lower-case hyphenated GUID. */
  id: string;
  callbackUri: string;
  /** The call's Graph URL on /v1.0. */
  url: string;
  /** Clock time the call started (its first keepAlive window starts here). */
  startedAt: number;
}

/** Who ended the call: `offerTimeout` the bot let an offer pass its deadline; `redirected` the bot redirected it. */
export type CallEndCause = 'bot' | 'caller' | 'keepAliveTimeout' | 'offerTimeout' | 'redirected';

export interface RecordingSummary {
  id: string;
  operationId: string;
  seconds: number;
  bytes: number;
  createdAt: number;
  /** Clock time after which the download answers 404 (undefined while the call lives). */
  availableUntil: number | undefined;
  downloads: number;
}

export interface OperationSummary {
  id: string;
  type: 'record' | 'cancelMediaProcessing' | 'playPrompt' | 'subscribeToTone';
  status: string;
  completionReason: string | undefined;
  createdAt: number;
  endedAt: number | undefined;
}

export interface CallSummary {
  id: string;
  state: CallState;
  direction: 'incoming' | 'outgoing';
  callbackUri: string;
  /** Shared by an offer and its re-offers. */
  callChainId: string;
  mediaAudio: 'active' | 'inactive';
  toneSubscribed: boolean;
  startedAt: number;
  lastKeepAliveAt: number | undefined;
  /** When the call ends unless a keepAlive succeeds first (undefined once ended). */
  expiresAt: number | undefined;
  endedAt: number | undefined;
  endReason: ResultInfoValue | undefined;
  endedBy: CallEndCause | undefined;
  operations: OperationSummary[];
  recordings: RecordingSummary[];
}

export type RequestRoute = RouteName | 'openIdConfiguration' | 'jwks' | 'unknown';

export interface RequestRecord {
  seq: number;
  /** Clock time the request arrived. */
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  route: RequestRoute;
  /** Response status; 0 when the connection was reset (or the answer never finished). */
  status: number;
  callId: string | undefined;
  requestId: string;
  clientRequestId: string | undefined;
  /** Ids of the injected faults that applied. */
  faults: string[];
}

export interface RequestFilter {
  route?: RequestRoute;
  callId?: string;
  method?: string;
  status?: number;
}

export interface NotificationRecord {
  id: number;
  /** Clock time it was produced. */
  at: number;
  callId: string;
  changeType: 'created' | 'updated' | 'deleted';
  /** resourceUrl as sent (variants applied). */
  resourceUrl: string;
  resource: 'call' | 'operation';
  operationId: string | undefined;
  /** Call state, or operation status, carried. */
  state: string | undefined;
  completionReason: string | undefined;
  resultInfo: ResultInfoValue | undefined;
  delivery: 'pending' | 'delivered' | 'failed' | 'dropped';
  attempts: number;
  /** The bot's last answer (undefined: unreachable). */
  httpStatus: number | undefined;
  deliveredAt: number | undefined;
  /** Notifications in the same POST. */
  batchSize: number;
  /** The notification fault that hit it (`duplicate` marks the second copy). */
  fault: 'drop' | 'duplicate' | 'reorder' | undefined;
}

export interface RingOptions {
  /** Where Graph posts the offer and the call's notifications (the bot's webhook). */
  callbackUri: string;
  /** The caller: an E.164 number (`+12345678901`), a user id, or an identitySet (`{ user: { id } }`). */
  from?: string | Record<string, unknown>;
  script?: CallerScript;
  variants?: Partial<Variants>;
}

export interface HangUpByCallerOptions {
  /** Default 200/5001 "The conversation has ended." */
  resultInfo?: Partial<ResultInfoValue>;
  /** The far side vanishes without a word: no notifications at all. */
  silent?: boolean;
}

export interface EmulatorControl {
  createCall(opts: CreateCallOptions): EmulatedCallInfo;
  /** Offer a call to the bot: a signed `created` notification, the call `incoming` until the bot decides. */
  ring(opts: RingOptions): EmulatedCallInfo;
  /**
   * The caller presses keys now (`'12#'`, or names such as `['tone1', 'pound']`); returns how many were
   * reported (0 before subscribeToTone or outside `established`).
   */
  pressKeys(callId: string, keys: string | string[]): number;
  setCallerScript(callId: string, script: CallerScript): void;
  setDefaultScript(script: CallerScript | undefined): void;
  /** Variants for one call, or for all calls when `callId` is omitted. */
  setVariants(variants: Partial<Variants>, callId?: string): void;
  /** Returns the fault's id. */
  injectFault(fault: FaultSpec): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): ActiveFault[];
  /** Advance the emulator's SimulatedClock; throws when it runs on another clock. */
  advance(ms: number): Promise<void>;
  now(): number;
  /** Due time of the emulator's next timer on a SimulatedClock (undefined: none, or the wall clock). */
  nextDue(): number | undefined;
  calls(): CallSummary[];
  call(callId: string): CallSummary | undefined;
  requests(filter?: RequestFilter): RequestRecord[];
  notifications(filter?: { callId?: string }): NotificationRecord[];
  /** The remote side ends the call. Returns false when the call had already ended. */
  hangUpByCaller(callId: string, opts?: HangUpByCallerOptions): boolean;
  /** Resolves when no notification is waiting to be delivered (retries included). */
  idle(): Promise<void>;
  /** Forget calls, recordings, faults, logs and scripts (keys and options stay). */
  reset(): void;
}

export interface Emulator {
  /** Graph base for createGraphClient: `http://127.0.0.1:PORT/v1.0`. */
  url: string;
  betaUrl: string;
  origin: string;
  openIdConfigurationUrl: string;
  issuer: string;
  audience: string;
  tenantId: string;
  /** host:port serving recordings (for the client's insecureRecordingHosts). */
  recordingHost: string;
  /** An established call; the clock's current time is its start. */
  createCall(opts: CreateCallOptions): EmulatedCallInfo;
  /** An incoming call offered to the bot (see EmulatorControl.ring). */
  ring(opts: RingOptions): EmulatedCallInfo;
  control: EmulatorControl;
  close(): Promise<void>;
}
