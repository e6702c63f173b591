// The `schemas` namespace of the root entry: Graph's payloads as zod schemas, their types and
// constants (strict for requests, lenient for Graph's field variants), and the record limits.
export * from './graph/call-requests.js';
export * from './graph/call-resources.js';
export { CURRENT_SERVICE_LIMITS, DEFAULT_LIMITS, type RecordLimits, SPEC_LIMITS } from './graph/limits.js';
export * from './graph/schemas.js';
