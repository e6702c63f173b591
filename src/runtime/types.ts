/**
 * The runtime's public types: its options, what its streams carry, what
 * `record()` resolves with, and its error.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { RecordLimits } from '../graph/limits.js';
import type { CallOutput, CallPolicy, RecordOutput, RecordPolicy } from '../machines/index.js';
import type { OnIncomingCall } from '../options/calls.js';
import type { Clock } from '../ports/clock.js';
import type { ClusterAdapter } from '../ports/cluster.js';
import type { HttpAdapter } from '../ports/http.js';
import type { IdSource } from '../ports/ids.js';
import type { LogEntry } from '../ports/log.js';
import type { RecordingTokenKey } from '../ports/recording-token-key.js';
import type { RecordingStore, SnapshotStore } from '../ports/stores.js';
import type { TokenProvider } from '../ports/token.js';
import type { ClipHandler } from './clip.js';

export type { LogEntry } from '../ports/log.js';

export interface NotificationAuthOptions {
  /** The bot's app id: the audience of Graph's notification tokens. */
  appId: string | string[];
  openIdConfigurationUrl?: string;
  issuers?: string[];
  tenants?: string[];
}

export interface CallRuntimeOptions {
  /**
   * The bot's notification URL: answers and placed calls name it, so Graph
   * sends their notifications there. Required by `placeCall`.
   */
  callbackUri?: string;
  /**
   * Decides on each offered call (in the background; the webhook has answered 202):
   * `{ answer: {...} }`, `{ reject: 'busy' }` or `{ redirect: { targets } }`. Without it,
   * offers are left alone (logged once) unless `runtime.answer()` takes them.
   */
  onIncomingCall?: OnIncomingCall;
  /** Graph base URL with version (default `https://graph.microsoft.com/v1.0`; `/beta` uses `record`). */
  graphUrl?: string;
  /** App token source; required unless `http` is given. */
  token?: TokenProvider;
  http?: HttpAdapter;
  clock?: Clock;
  /** Where fresh ids come from (a record's default clientContext); default random UUIDs. */
  ids?: IdSource;
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
  recordingTokenKey?: RecordingTokenKey;
  /** @deprecated Renamed `recordingTokenKey`; this alias goes in the next minor version. */
  tokenKey?: RecordingTokenKey;
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

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code:
      | 'unknownCall'
      | 'callEnded'
      | 'recordRejected'
      | 'hangUpFailed'
      | 'stopped'
      | 'notConfigured'
      | 'notOffered'
      | 'notEstablished'
      | 'redirectFailed'
      | 'placeFailed'
      | 'promptRejected',
    message: string,
    /** How the call ended, when its end is why (`callEnded`, `placeFailed`). */
    readonly output?: CallOutput,
  ) {
    super(message);
  }
}
