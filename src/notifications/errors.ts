/** Why a notification was refused. The message never quotes the token or the body. */
export type NotificationErrorCode =
  // 401: the bearer token
  | 'missingToken'
  | 'malformedToken'
  | 'badAlgorithm'
  | 'badSignature'
  | 'wrongIssuer'
  | 'wrongAudience'
  | 'expired'
  | 'notYetValid'
  | 'missingTenant'
  | 'tenantNotAllowed'
  | 'unknownKey'
  | 'keyFetchFailed'
  /** The verifier failed in a way it did not report itself (a custom verifier's bug). */
  | 'verificationFailed'
  // 400, 413, 415: the body
  | 'malformedJson'
  | 'invalidBody'
  | 'bodyTooLarge'
  | 'unsupportedMediaType';

export type NotificationErrorStatus = 400 | 401 | 413 | 415;

export class NotificationError extends Error {
  override readonly name = 'NotificationError';
  constructor(
    readonly status: NotificationErrorStatus,
    readonly code: NotificationErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Plain JSON, safe for logs. */
  toJSON() {
    return { name: this.name, status: this.status, code: this.code, message: this.message };
  }
}
