/** The prompt machine's contract: one playPrompt operation, plain JSON. */
import type { MediaInfoJson } from '../call/io.js';
import type { ErrorJson, ResultInfoJson } from '../types.js';

export interface PromptInput {
  callId: string;
  promptId: string;
  /** Unique among the call's running operations: a completion that beats the POST's answer is matched by it. */
  clientContext: string;
  prompts: MediaInfoJson[];
  /** beta `loop`: plays until canceled; Graph sends no completion for it. */
  loop: boolean;
  at: number;
  /** Spawned by a call: report the operation id to it. */
  reportToParent?: boolean;
}

/**
 * How a prompt ended:
 * - `completed`: Graph's completion said completed (beta `completionReason` `unknown` counts as success).
 * - `failed`: the POST failed, or the completion said failed for another reason than a cancel.
 * - `canceled`: cancelMediaProcessing ended it (400/8508, or `mediaOperationCanceled`),
 *   or the call ended while it played (`callEnded`). A `loop` prompt ends only this way.
 */
export type PromptFinal = 'completed' | 'failed' | 'canceled';

export interface PromptOutput {
  callId: string;
  promptId: string;
  clientContext: string;
  operationId?: string;
  final: PromptFinal;
  /** `callEnded` when the call's end stopped it; else Graph's completionReason, when given. */
  reason?: string;
  resultInfo?: ResultInfoJson;
  error?: ErrorJson;
  at: number;
}

/** A playPrompt operation's end, routed here by the call (by operation id, else clientContext). */
export interface PromptCompletion {
  type: 'OPERATION_COMPLETED';
  at: number;
  operationId: string;
  clientContext?: string | null;
  status: string;
  completionReason?: string | null;
  resultInfo?: ResultInfoJson | null;
}

export type PromptEvent =
  | PromptCompletion
  | { type: 'CALL_ENDED'; at: number }
  | { type: 'RESUME'; at: number };

export type PromptEmitted =
  | { type: 'prompt.started'; promptId: string; operationId: string }
  | { type: 'prompt.ended'; promptId: string; final: PromptFinal };

export interface PromptContext {
  callId: string;
  promptId: string;
  clientContext: string;
  prompts: MediaInfoJson[];
  loop: boolean;
  at: number;
  operationId: string | null;
  status: string | null;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  error: ErrorJson | null;
  reportToParent: boolean;
  final: PromptFinal | null;
  /** `callEnded` when the call's end stopped the prompt. */
  reason: string | null;
}
