/** The record machine's contract: input, context, events, what it emits, its output. Plain JSON. */
import type { RecordOptionsInput } from '../../graph/schemas.js';
import type { RecordPolicy } from '../policy.js';
import type { Completion, ErrorJson, ResultInfoJson } from '../types.js';

export interface RecordInput {
  callId: string;
  recordId: string;
  /** Unique per record: lets a completion that beats the POST's answer find its record. */
  clientContext: string;
  options: RecordOptionsInput;
  at: number;
  policy?: Partial<RecordPolicy>;
  /** Key of the clip in the RecordingStore. */
  storeKey: string;
  /** Spawned by a call: report the operation id to it (it routes completions by operation id). */
  reportToParent?: boolean;
}

export type RecordOutcome =
  | 'processed'
  | 'downloadFailed'
  | 'processingFailed'
  | 'processingTimeout'
  | 'operationFailed'
  | 'requestFailed'
  | 'invalidOptions'
  | 'completionTimeout'
  | 'callEnded';

export interface RecordOutput {
  callId: string;
  recordId: string;
  clientContext: string;
  operationId?: string;
  final: 'deleted' | 'failed';
  outcome: RecordOutcome;
  completionReason?: string;
  resultInfo?: ResultInfoJson;
  bytes?: number;
  error?: ErrorJson;
  summary?: unknown;
  at: number;
}

/** POST record / recordResponse. */
export interface StartRecordInput {
  callId: string;
  clientContext: string;
  options: RecordOptionsInput;
}

/** GET recordingLocation into the store (the token comes from the runtime's vault). */
export interface DownloadInput {
  callId: string;
  operationId: string;
  recordingLocation: string;
  storeKey: string;
}

export interface DownloadOutput {
  bytes: number;
  at: number;
}

export type RecordEvent = Completion | { type: 'CALL_ENDED'; at: number } | { type: 'RESUME'; at: number };

export interface StartRecordOutput {
  operationId: string;
  status: string;
  at: number;
  /** Present when the POST's answer was already terminal (no notification follows). */
  completion?: Completion;
}

export interface ProcessClipInput {
  callId: string;
  recordId: string;
  operationId: string;
  storeKey: string;
  bytes: number;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  clientContext: string;
  /** When the processing timeout fires (clock ms): on simulated time the handler holds the clock until then at most. */
  processingDeadlineAt: number | null;
}

export type RecordEmitted =
  | { type: 'record.started'; recordId: string; operationId: string }
  | { type: 'record.completed'; recordId: string; completionReason: string | null }
  | { type: 'record.downloaded'; recordId: string; bytes: number }
  | { type: 'record.processed'; recordId: string }
  | { type: 'record.deleted'; recordId: string }
  | { type: 'record.failed'; recordId: string; outcome: RecordOutcome }
  | { type: 'record.deleteFailed'; recordId: string; attempt: number; error: ErrorJson }
  /** The clip guard could not start: a clip would survive an outside stop. */
  | { type: 'record.guardFailed'; recordId: string; error: ErrorJson };

export interface RecordContext {
  callId: string;
  recordId: string;
  clientContext: string;
  storeKey: string;
  options: RecordOptionsInput;
  policy: RecordPolicy;
  /** Time of the latest timed event. */
  at: number;
  requestedAt: number;
  /** When the completion notification is given up on. */
  completionDeadlineAt: number;
  callEndedAt: number | null;
  operationId: string | null;
  /** A completion that arrived before the POST's answer. */
  early: Completion | null;
  status: string | null;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  recordingLocation: string | null;
  bytes: number | null;
  processingDeadlineAt: number | null;
  outcome: RecordOutcome | null;
  error: ErrorJson | null;
  summary: unknown;
  deleteAttempts: number;
  reportToParent: boolean;
  /** Which final state the record reached (the output says it). */
  final: 'deleted' | 'failed' | null;
}
