/**
 * What the parts of one runtime share (the calls registry, the record API,
 * the notification intake): its settings, adapters and the tracked calls.
 */
import type { Subject } from 'rxjs';
import type { Actor } from 'xstate';
import type { GraphClient } from '../graph/client.js';
import type { Clock } from '../ports/clock.js';
import type { HttpAdapter } from '../ports/http.js';
import type { IdSource } from '../ports/ids.js';
import type { RecordingStore } from '../ports/stores.js';
import type { provideMachines } from './actors.js';
import type { ClipHandler } from './clip.js';
import type { Persistence } from './persistence.js';
import type { ReportSink } from './report.js';
import type { RuntimeStreams } from './streams.js';
import type { CallRuntimeOptions } from './types.js';
import type { TokenVault } from './vault.js';

export type CallMachine = ReturnType<typeof provideMachines>;
export type CallActor = Actor<CallMachine>;

export interface HandlerEntry {
  handler: ClipHandler;
  result?: unknown;
  resultSet?: boolean;
}

/** A caller's key press: `tone` is Graph's name (tone0..tone9, star, pound, a..d, flash). */
export interface ToneEvent {
  callId: string;
  tone: string;
  sequenceId: number;
  at: number;
}

export interface RuntimeContext {
  readonly options: CallRuntimeOptions;
  readonly log: ReportSink;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly graph: GraphClient;
  /** The runtime's HTTP adapter (traced): Graph's requests and the notification keys go through it. */
  readonly http: HttpAdapter;
  readonly store: RecordingStore;
  readonly persistence: Persistence | undefined;
  readonly vault: TokenVault;
  /** The clip handler of each running record, by record id. */
  readonly handlers: Map<string, HandlerEntry>;
  readonly machine: CallMachine;
  /** Tracked calls by normalised id. */
  readonly calls: Map<string, CallActor>;
  readonly streams: RuntimeStreams;
  /** Set by stop(); every entry point refuses from then on. */
  stopped: boolean;
  /** Outputs of the latest ended calls (at most ENDED_KEPT), so `whenEnded` after the end still answers. */
  readonly ended: Map<string, unknown>;
  /** Every call's key presses, in sequenceId order per call (`runtime.tones$`). */
  readonly tones: Subject<ToneEvent>;
  /** Last record number handed out (`rec-<n>`); restored calls move it past theirs. */
  recordSeq: number;
}
