// `graph-call-machines/notifications`: read, verify and answer Graph's change notifications yourself.
// A subpath entry (re-exports only): test/architecture/layers.test.ts treats it as one.
export { normalizeId, parseResourceUrl, sameId } from '../graph/ids.js';
// With its defaults (wall clock, an own undici adapter), which this layer may not import.
export { createNotificationVerifier } from '../runtime/standalone-verifier.js';
export {
  NotificationError,
  type NotificationErrorCode,
  type NotificationErrorStatus,
  NotificationItemError,
} from './errors.js';
export {
  createNotificationHandler,
  DEFAULT_NOTIFICATION_LIMIT_BYTES,
  type HandleResult,
  type NotificationHandler,
  type NotificationHandlerOptions,
  type NotificationHeaders,
} from './http.js';
export {
  type NotificationBatch,
  type NotificationBody,
  type ParsedNotification,
  parseNotifications,
  readNotifications,
} from './parse.js';
export {
  GRAPH_NOTIFICATION_ISSUERS,
  GRAPH_OPENID_CONFIGURATION,
  type NotificationVerifier,
  type VerifiedCaller,
  type VerifierOptions,
} from './verify.js';
