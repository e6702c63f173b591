// `graph-call-machines/notifications`: read, verify and answer Graph's change notifications yourself.
export { normalizeId, parseResourceUrl, sameId } from '../graph/ids.js';
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
  createNotificationVerifier,
  GRAPH_NOTIFICATION_ISSUERS,
  GRAPH_OPENID_CONFIGURATION,
  type NotificationVerifier,
  type VerifiedCaller,
  type VerifierOptions,
} from './verify.js';
