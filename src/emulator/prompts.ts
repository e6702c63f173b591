import type { CallerScript, ResultInfoValue } from './caller-script.js';
import { DEFAULT_PROMPT_SECONDS } from './caller-script.js';
import type { GraphVersion, PromptOp, PromptOutcome, ToneOp } from './operations.js';
import { resultInfoData } from './result-info.js';

export type { PromptCompletionReason, PromptOp, PromptOutcome, ToneOp } from './operations.js';

const PROMPT_RESULTS = {
  // playpromptoperation.md / call-playprompt.md example.
  completed: { code: 200, subcode: 0, message: 'Action completed successfully.' },
  // Documented for records (call-cancelmediaprocessing.md); the same is expected of prompts.
  canceled: { code: 400, subcode: 8508, message: 'Action failed, the operation was cancelled.' },
  // Emulator's choice: the call ended while the prompt played.
  callEnded: { code: 410, subcode: 0, message: 'Action failed, the call ended.' },
} as const satisfies Record<string, ResultInfoValue>;

export const promptCompleted = (): PromptOutcome => ({
  status: 'completed',
  completionReason: 'completedSuccessfully',
  resultInfo: { ...PROMPT_RESULTS.completed },
});
export const promptCanceled = (): PromptOutcome => ({
  status: 'failed',
  completionReason: 'mediaOperationCanceled',
  resultInfo: { ...PROMPT_RESULTS.canceled },
});
export const promptCallEnded = (): PromptOutcome => ({
  status: 'failed',
  completionReason: 'unknown',
  resultInfo: { ...PROMPT_RESULTS.callEnded },
});

/** How long the prompts of `op` play, in ms; undefined for a loop (it never ends). */
export function promptPlayMs(op: PromptOp, script: CallerScript | undefined): number | undefined {
  if (op.loop) return undefined;
  let total = 0;
  for (const uri of op.uris)
    total += script?.promptSecondsByUri?.[uri] ?? script?.promptSeconds ?? DEFAULT_PROMPT_SECONDS;
  return Math.round(total * 1000);
}

/** The playPromptOperation resource; v1.0 has no completionReason. */
export function promptResource(op: PromptOp, version?: GraphVersion): Record<string, unknown> {
  const data: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.playPromptOperation',
    id: op.id,
    clientContext: op.clientContext ?? null,
    status: op.status,
    resultInfo: op.outcome ? resultInfoData(op.outcome.resultInfo) : null,
  };
  if (version !== 'v1.0') data.completionReason = op.outcome?.completionReason ?? null;
  return data;
}

export function toneResource(op: ToneOp): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.subscribeToToneOperation',
    id: op.id,
    clientContext: op.clientContext ?? null,
    status: op.status,
    resultInfo: null,
  };
}
