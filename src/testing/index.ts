// `graph-call-machines/testing`: test your bot against the emulator on simulated time.
// The machines' insides, for provide(), inspection and model-based tests: contexts, events, what
// they emit, the policy defaults, and their diagrams. The machines and their I/O are at the root.
export { eventLabel, toMermaid } from '../diagram.js';
export {
  type CallContext,
  type CallEmitted,
  type CallEndReason,
  type CallEvent,
  type CallMachine,
  type Completion,
  completionWindowMs,
  DEFAULT_CALL_POLICY,
  DEFAULT_RECORD_POLICY,
  type ErrorJson,
  type ProcessClipInput,
  type RecordContext,
  type RecordEmitted,
  type RecordEvent,
  type RecordMachine,
  type RecordOutcome,
  type ResultInfoJson,
  resolveCallPolicy,
  resolveRecordPolicy,
} from '../machines/index.js';
export { type IdSource, sequentialIds } from '../ports/ids.js';
export { createHarness, type Harness, type HarnessOptions } from './harness.js';
// Model-based testing: paths from the machines, coverage, invariants, and a driver that runs each path
// against the emulator (docs/machines.md).
export {
  type CallPath,
  type Coverage,
  callMachinePaths,
  checkInvariants,
  coverage,
  createModelHarness,
  describeTransition,
  type ModelHarness,
  type PathRun,
  type RecordPath,
  type RunRecordOptions,
  recordMachinePaths,
  runCallPath,
  runRecordPath,
} from './model.js';
