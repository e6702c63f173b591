/**
 * The runtime's public interface, written out rather than inferred from
 * createCallRuntime's closure, so the closure's parts can change without
 * changing what users see (and the API docs name each member).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { Actor } from 'xstate';
import type { GraphClient } from '../graph/client.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import type {
  CallMachine,
  CallOutput,
  CallPolicy,
  MediaInfoJson,
  ParticipantJson,
  PromptOutput,
  RecordPolicy,
} from '../machines/index.js';
import type { HandleResult, NotificationHeaders, ParsedNotification } from '../notifications/index.js';
import type { AnswerOptions, PlaceCallOptions, PlayPromptOptions } from '../options/calls.js';
import type { Clock } from '../ports/clock.js';
import type { RecordingStore } from '../ports/stores.js';
import type { ClipHandler } from './clip.js';
import type { ToneEvent } from './context.js';
import type { RecordResult, RuntimeEvent, StateChange } from './types.js';

/** What `stats()` counts: calls tracked here, notifications refused or not routed, tokens, snapshots. */
export interface CallRuntimeStats {
  tracked: number;
  unknownCall: number;
  unmatchedOperation: number;
  /** Refused POSTs plus skipped items (`rejectedItems`: the latter alone). */
  rejectedNotifications: number;
  rejectedItems: number;
  routed: number;
  tokensHeld: number;
  /** Only with the `snapshots` (or `cluster`) option. */
  snapshots?: { writes: number; writeErrors: number; deletes: number; conflicts: number; bytes: number };
}

export interface CallRuntime {
  readonly clock: Clock;
  readonly graph: GraphClient;
  readonly store: RecordingStore;
  /** Start keeping a call alive; returns its actor (the same one when already tracked). */
  track(callId: string, opts?: { policy?: Partial<CallPolicy> }): Actor<CallMachine>;
  get(callId: string): Actor<CallMachine> | undefined;
  /** Ids of the calls running here. */
  calls(): string[];
  whenEnded(callId: string): Promise<CallOutput>;
  /** Record, download, hand the clip to `handler`, delete it; see RecordResult. */
  record<T>(
    callId: string,
    recordOptions: RecordOptionsInput,
    handler: ClipHandler<T>,
    opts?: { policy?: Partial<RecordPolicy> },
  ): Promise<RecordResult<T>>;
  /** cancelMediaProcessing: running records end `operationCanceled`. */
  cancelMedia(callId: string, clientContext?: string): void;
  hangUp(callId: string): Promise<CallOutput>;
  /** Answer an offered call (resolves at Graph's 202); takes the offer if it is not tracked yet. */
  answer(callId: string, answerOptions?: AnswerOptions): Promise<void>;
  /** Reject an offered call; resolves with its end (`rejected`). */
  reject(callId: string, reason?: 'none' | 'busy' | 'forbidden'): Promise<CallOutput>;
  /** Redirect an offered call to 1..25 targets (timeout 15..90 s); resolves with its end (`redirected`). */
  redirect(callId: string, targets: ParticipantJson[], timeout?: number): Promise<CallOutput>;
  /** Place a call and track it; resolves with Graph's call id at the 201. */
  placeCall(placeOptions: PlaceCallOptions): Promise<string>;
  /** Resolves once the call is established; rejects with RuntimeError('callEnded') (its output attached). */
  whenEstablished(callId: string): Promise<void>;
  /** playPrompt: 1..20 prompts; resolves with the prompt's outcome (`loop` prompts end only by cancelMedia). */
  playPrompt(
    callId: string,
    prompts: Array<string | MediaInfoJson>,
    promptOptions?: PlayPromptOptions,
  ): Promise<PromptOutput>;
  /** subscribeToTone: the caller's key presses then arrive on `tones$`. */
  subscribeToTones(callId: string, clientContext?: string): Promise<void>;
  /** Key presses, once each, in sequenceId order per call. */
  readonly tones$: Observable<ToneEvent>;
  /** The webhook for a body already read (string, bytes, or a parser's object). */
  handleNotification(body: unknown, headers: NotificationHeaders): Promise<HandleResult>;
  nodeHandler(req: IncomingMessage, res: ServerResponse): void;
  fetchHandler(request: Request): Promise<Response>;
  readonly states$: Observable<StateChange>;
  readonly events$: Observable<RuntimeEvent>;
  /** Parsed notifications, tokens redacted. */
  readonly notifications$: Observable<ParsedNotification>;
  stats(): CallRuntimeStats;
  /** Restore the calls kept in `snapshots` after a restart (with a cluster: the orphans); their ids. */
  resume(): Promise<string[]>;
  /** Stop every call; clips held are deleted first. */
  stop(): Promise<void>;
}
