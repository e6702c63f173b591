/**
 * The operations an emulated call holds (record, playPrompt, cancel,
 * subscribeToTone) and the recordings they make: plain data shared by the
 * call store, the media queue and the prompts, so none imports another for
 * its shapes.
 */
import type { RecordOptions } from '../graph/schemas.js';
import type { TimerHandle } from '../ports/clock.js';
import type { EmulatedRecordOutcome, RecordPlan, ResultInfoValue } from './caller-script.js';
import type { Deferred } from './deferred.js';

export type GraphVersion = 'v1.0' | 'beta';

export interface Recording {
  id: string;
  callId: string;
  operationId: string;
  seconds: number;
  /** Size of the WAV file. */
  bytes: number;
  /** The recordingAccessToken: a fresh random secret per recording. */
  token: string;
  createdAt: number;
  downloads: number;
}

export interface RecordOp {
  type: 'record';
  id: string;
  callId: string;
  /** Which record request of the call (picks the caller action). */
  index: number;
  clientContext: string | undefined;
  options: RecordOptions;
  status: 'notStarted' | 'running' | 'completed' | 'failed';
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  plan: RecordPlan | undefined;
  outcome: EmulatedRecordOutcome | undefined;
  recording: Recording | undefined;
  timers: TimerHandle[];
  /** Resolves once its completion was delivered, or it ended without one. */
  done: Deferred;
}

export interface CancelOp {
  type: 'cancelMediaProcessing';
  id: string;
  clientContext: string | undefined;
  status: 'completed';
  createdAt: number;
  endedAt: number;
}

/** An operation of the call's media queue. */
export type MediaOp = RecordOp | PromptOp;

export type PromptCompletionReason = 'completedSuccessfully' | 'mediaOperationCanceled' | 'unknown';

export interface PromptOutcome {
  status: 'completed' | 'failed';
  completionReason: PromptCompletionReason;
  resultInfo: ResultInfoValue;
}

export interface PromptOp {
  type: 'playPrompt';
  id: string;
  callId: string;
  clientContext: string | undefined;
  uris: string[];
  /** beta: plays for ever, never completes on its own. */
  loop: boolean;
  status: 'notStarted' | 'running' | 'completed' | 'failed';
  createdAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  outcome: PromptOutcome | undefined;
  timers: TimerHandle[];
  done: Deferred;
}

export interface ToneOp {
  type: 'subscribeToTone';
  id: string;
  clientContext: string | undefined;
  status: 'completed';
  createdAt: number;
  endedAt: number;
}
