// `graph-call-machines/view`: a live, read-only page of a runtime's calls, served on loopback.
export { isLoopbackHost, type LiveViewAuth, LiveViewError } from './access.js';
export type { CallRow, RecordRow, RecordStep, RequestRow } from './model.js';
export {
  createLiveView,
  type Feed,
  type LiveView,
  type LiveViewOptions,
  type ViewableRuntime,
} from './server.js';
