/**
 * The machines as test models (docs/machines.md): paths from `xstate/graph`
 * over explicit, payload-carrying event lists (model-call, model-record,
 * model-prompt on the engine in model-core), what a set of paths covers
 * (model-coverage), the lifecycle invariants on the pure machines
 * (model-invariants), and (model-run) each path replayed against the
 * emulator with the real runtime on simulated time.
 *
 * Two event sets: `realizable` (the default) holds only what the emulator and
 * the runtime can be steered to produce; `all` adds every other event the
 * machines handle, for the pure invariants and the 100 % model coverage.
 */
export { type CallPath, type CallSnapshot, callMachinePaths, callStateKey } from './model-call.js';
export {
  callModelInput,
  MODEL_CALL_ID,
  MODEL_CALL_POLICY,
  MODEL_CALL_RECORD_POLICY,
  MODEL_RECORD_ID,
  MODEL_RECORD_OPTIONS,
  type ModelEvent,
  type ModelPath,
  type PathOptions,
  promptModelInput,
  recordModelInput,
  shortEvent,
  stepLabel,
} from './model-core.js';
export {
  type Coverage,
  coverage,
  describeTransition,
  machineElements,
  type ReplayResult,
  replay,
} from './model-coverage.js';
export { checkInvariants, type InvariantViolation } from './model-invariants.js';
export { type PromptPath, promptMachinePaths, promptStateKey } from './model-prompt.js';
export { type RecordPath, type RecordSnapshot, recordMachinePaths, recordStateKey } from './model-record.js';
export { createModelHarness, type ModelHarness, type PathRun, type RunRecordOptions } from './model-run.js';
export { callMediaPaths, runCallPath } from './model-run-call.js';
export { runPromptPath } from './model-run-prompt.js';
export { runRecordPath } from './model-run-record.js';
export { callSetupPaths, runCallSetupPath } from './model-run-setup.js';
