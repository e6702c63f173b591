// `graph-call-machines/testing`: test your bot against the emulator on simulated time.
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
