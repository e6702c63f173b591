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
  /** The body handed to `handle` is neither text, bytes nor a parsed object (a wiring mistake). */
  | 'unsupportedBody'
  | 'bodyTooLarge'
  | 'unsupportedMediaType'
  /** One item of an accepted batch, skipped (NotificationItemError); the POST itself got 2xx. */
  | 'invalidNotification';

export type NotificationErrorStatus = 400 | 401 | 413 | 415;

export class NotificationError extends Error {
  override readonly name: 'NotificationError' | 'NotificationItemError' = 'NotificationError';
  constructor(
    readonly status: NotificationErrorStatus,
    readonly code: NotificationErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Plain JSON, safe for logs. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, status: this.status, code: this.code, message: this.message };
  }
}

/**
 * One notification of a batch that could not be read: it is skipped and
 * reported, the others in the same POST are delivered, and the POST is still
 * answered 2xx (Graph would retry a 4xx with the same bad item). The message
 * names the field and the rule, never a value, so it cannot carry a token.
 */
export class NotificationItemError extends NotificationError {
  override readonly name = 'NotificationItemError';
  constructor(
    /** Position in the body's `value` array. */
    readonly index: number,
    message: string,
    /** The call (and operation) its resourceUrl names, when readable; ids as sent. */
    readonly callId?: string,
    readonly operationId?: string,
  ) {
    super(400, 'invalidNotification', message);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      index: this.index,
      ...(this.callId ? { callId: this.callId } : {}),
      ...(this.operationId ? { operationId: this.operationId } : {}),
    };
  }
}
