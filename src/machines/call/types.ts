/** The call machine's contract: input, context, events, what it emits, its output. Plain JSON. */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { RecordOptionsInput } from '../../graph/schemas.js';
import type { NotificationEvent, ToneJson } from '../notification.js';
import type { CallPolicy, RecordPolicy } from '../policy.js';
import type { PromptOutput } from '../prompt/types.js';
import type { RecordOutput } from '../record/types.js';
import type { ErrorJson, ResultInfoJson } from '../types.js';
import type {
  CallRejectReason,
  MediaInfoJson,
  ParticipantJson,
  PlaceCallOutput,
  PlaceCallRequest,
  Timed,
} from './io.js';

/**
 * Why a call ended; the README's "How a call ends" table says what each means for the bot.
 * - `notFound`: keepAlive (or an answer/reject) got 404: Graph no longer knows the call.
 * - `expired`: no keepAlive succeeded within 45 minutes (or Graph said 408/8537).
 * - `terminated`: Graph notified the end (deleted / terminated); resultInfo says why.
 * - `hungUp`: the bot hung up (DELETE 204, or Graph's 200/7000 while it did).
 * - `keepAliveRefused`: Graph refused a keepAlive (400, 401 after a refresh, 403).
 * - `rejected`: the bot rejected the offered call (POST reject 202).
 * - `redirected`: the bot redirected the offered call; its own leg is over.
 * - `decisionTimeout`: nobody decided within the local decision deadline: the machine rejected the offer.
 * - `notAnswered`: a placed (or answered) call never got established (408, or our ring/establish deadline).
 * - `unreachable`: a placed call found no callee (480/10037, 480/10076, ...).
 * - `setupFailed`: the answer or the POST /calls failed (the error is in the output).
 */
export type CallEndReason =
  | 'notFound'
  | 'expired'
  | 'terminated'
  | 'hungUp'
  | 'keepAliveRefused'
  | 'rejected'
  | 'redirected'
  | 'decisionTimeout'
  | 'notAnswered'
  | 'unreachable'
  | 'setupFailed';

/** A key per reason, so the compiler holds CALL_END_REASONS to the union (README "How a call ends" documents each). */
const END_REASON_KEYS: Record<CallEndReason, true> = {
  notFound: true,
  expired: true,
  terminated: true,
  hungUp: true,
  keepAliveRefused: true,
  rejected: true,
  redirected: true,
  decisionTimeout: true,
  notAnswered: true,
  unreachable: true,
  setupFailed: true,
};
/** Every way a call can end. */
export const CALL_END_REASONS: ReadonlySet<string> = new Set(Object.keys(END_REASON_KEYS));

/** Where a call's life starts: `runtime.track` of an established call, an offer, or a call we place. */
export type CallStart = 'established' | 'incoming' | 'outgoing';

/** What the `created` notification of an incoming call said (plain JSON, no token). */
export interface CallOffer {
  source?: ParticipantJson;
  targets?: ParticipantJson[];
  tenantId?: string;
  callChainId?: string;
  /** A policy-based recording offer: Graph waits only 5 s for the decision. */
  policyBasedRecording?: boolean;
}

export interface CallInput {
  /** Graph's call id; for `outgoing`, a local handle until the 201 names the real one. */
  callId: string;
  /** Start of tracking: the first 45-minute window of an established call runs from here. */
  at: number;
  /** Default `established` (today's `runtime.track`). */
  start?: CallStart;
  offer?: CallOffer;
  place?: PlaceCallRequest;
  policy?: Partial<CallPolicy>;
}

export interface CallOutput {
  callId: string;
  reason: CallEndReason;
  endedAt: number;
  /** Graph's resultInfo from the call's end notification, when one came. */
  resultInfo?: ResultInfoJson;
  /** `keepAliveRefused`, `setupFailed`, a failed reject: the request that failed. */
  error?: ErrorJson;
}

export type RecordRequest = {
  type: 'RECORD';
  at: number;
  /** Child actor id; `rec-<recordSeq>` when absent. Must not name a record this call already has. */
  recordId?: string;
  /** Unique among the call's running records and prompts (Graph's rule; completions are matched by it). */
  clientContext: string;
  storeKey: string;
  options: RecordOptionsInput;
  policy?: Partial<RecordPolicy>;
};

export type PromptRequest = {
  type: 'PLAY_PROMPT';
  at: number;
  /** Child actor id; `prompt-<promptSeq>` when absent. */
  promptId?: string;
  clientContext: string;
  prompts: MediaInfoJson[];
  /** beta: play until canceled; Graph never sends a completion for it. */
  loop?: boolean;
};

export type CallEvent =
  | NotificationEvent
  | { type: 'ANSWER'; at: number; callbackUri?: string; preFetchMedia?: MediaInfoJson[] }
  | { type: 'REJECT'; at: number; reason?: CallRejectReason }
  | { type: 'REDIRECT'; at: number; targets: ParticipantJson[]; timeoutInSeconds?: number }
  | { type: 'HANG_UP'; at: number }
  | RecordRequest
  | PromptRequest
  | { type: 'CANCEL_MEDIA'; at: number; clientContext?: string }
  | { type: 'SUBSCRIBE_TONES'; at: number; clientContext?: string }
  /** From a record child: the POST's answer named its operation (completions are routed by it). */
  | { type: 'OPERATION_STARTED'; childId: string; operationId: string }
  | { type: 'RESUME'; at: number };

/** How children and helper requests report back (XState's own done/error events carry `actorId`). */
export type ChildEvent =
  | DoneActorEvent<PlaceCallOutput, 'placeCall'>
  | DoneActorEvent<RecordOutput | PromptOutput | Timed, string>
  | ErrorActorEvent<unknown, string>;

export type CallEmitted =
  | { type: 'call.offered'; callId: string; offer: CallOffer; decideBy: number }
  | { type: 'call.answered'; at: number }
  | { type: 'call.established'; at: number }
  | { type: 'call.placed'; callId: string; at: number }
  | { type: 'call.redirectFailed'; status?: number; code?: string }
  | { type: 'keepAlive.sent'; at: number; count: number }
  /** `retryInMs` is null when no retry fits before the deadline margin: the call will expire. */
  | { type: 'keepAlive.failed'; status?: number; code?: string; retryInMs: number | null }
  /** Graph refused a keepAlive (400, 401 after a token refresh, 403, ...): the call is no longer kept. */
  | {
      type: 'keepAlive.refused';
      status?: number;
      code?: string;
      requestId?: string;
      clientRequestId?: string;
      message?: string;
    }
  | { type: 'call.ended'; reason: CallEndReason; resultInfo?: ResultInfoJson }
  | { type: 'call.hangUpFailed'; status?: number; code?: string }
  | {
      type: 'call.recordRejected';
      recordId: string;
      reason: 'callEnding' | 'duplicateRecordId' | 'duplicateClientContext' | 'invalidPolicy';
      message?: string;
    }
  | {
      type: 'call.promptRejected';
      promptId: string;
      reason: 'notEstablished' | 'duplicatePromptId' | 'duplicateClientContext';
    }
  | { type: 'call.cancelMediaFailed'; status?: number; code?: string }
  | { type: 'call.toneSubscribeFailed'; status?: number; code?: string }
  /** A key press, in sequenceId order, each once. */
  | { type: 'call.tone'; sequenceId: number; tone: string; at: number }
  /** An operation notification no record or prompt of the call claims. */
  | { type: 'call.operationUnmatched'; operationId: string }
  /** A record child ended: `output` when it reached a final state, `error` when it crashed. */
  | { type: 'call.recordDone'; recordId: string; output: RecordOutput | undefined; error?: ErrorJson }
  | { type: 'call.promptDone'; promptId: string; output: PromptOutput | undefined; error?: ErrorJson };

/** A record or prompt child as the call routes to it. */
export interface ChildEntry {
  clientContext: string;
  /** Known once the POST answered (or a completion named it). */
  operationId: string | null;
  /** The operation reached completed/failed (Graph runs the next queued one). */
  operationOver: boolean;
  done: boolean;
}

export interface RecordEntry extends ChildEntry {
  storeKey: string;
  /** When this record's wait for its completion ends (the serial queue counts on it). */
  completionDeadlineAt: number;
}

/**
 * The set-up phase: the offer or placed request and the deadlines until the call is established.
 * (Grouped so the context's top level stays at most 19 fields: past that, V8 turns each copy XState's
 * `assign` makes into a dictionary-mode object, about 8x larger and 10-50x slower to copy.)
 */
export interface CallSetup {
  offer: CallOffer | null;
  place: PlaceCallRequest | null;
  /** Offered call: rejected by the machine at this time unless decided. */
  decideBy: number | null;
  /** Answered/placed call: hung up unless established by this time. */
  establishBy: number | null;
  establishedAt: number | null;
  /** `established` came before the answer's 202 (either order is allowed). */
  establishedEarly: boolean;
}

/** How the call ends: the pending reason of a hang-up or reject in flight, then the end itself. */
export interface CallEnd {
  /** The reason a pending hang-up or reject will end the call with (deadline-driven ends). */
  pendingReason: CallEndReason | null;
  reason: CallEndReason | null;
  endedAt: number | null;
  /** Graph's resultInfo from the end notification. */
  resultInfo: ResultInfoJson | null;
}

/** Sequence numbers: children spawned so far (their default ids) and the last tone emitted. */
export interface CallSeq {
  /** Records spawned so far (names `rec-<n>` when RECORD gives no id). */
  record: number;
  /** Prompts spawned so far (`prompt-<n>`). */
  prompt: number;
  /** Helper requests spawned so far (children `cancel-<n>`, `tones-<n>`). */
  cancel: number;
  /** Last DTMF sequenceId emitted (-1 before any): older and repeated tones are dropped. */
  lastTone: number;
}

/** At most 19 top-level fields (see CallSetup); group new ones. */
export interface CallContext {
  callId: string;
  start: CallStart;
  policy: CallPolicy;
  startedAt: number;
  /** Time of the latest timed event. */
  at: number;
  setup: CallSetup;
  lastSuccessAt: number;
  /** Graph ends the call if no keepAlive succeeds before this. */
  deadlineAt: number;
  nextKeepAliveAt: number;
  keepAlivesSent: number;
  /** Consecutive failures since the last success. */
  failures: number;
  /** Wait chosen after the latest failure (0 before any). */
  retryDelayMs: number;
  /** When the pending retry goes out; null when none fits before the deadline margin. */
  retryAt: number | null;
  lastError: ErrorJson | null;
  end: CallEnd;
  seq: CallSeq;
  /** Every record child by its actor id (= recordId); the runtime finds them in `snapshot.children`. */
  records: Record<string, RecordEntry>;
  prompts: Record<string, ChildEntry>;
}

export type { ToneJson };
