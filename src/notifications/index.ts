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
  readBody,
} from './http.js';
export {
  MAX_JSON_DEPTH,
  MAX_RESOURCES_PER_BODY,
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
