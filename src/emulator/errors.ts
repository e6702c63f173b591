/**
 * Graph-shaped errors: `{ error: { code, message, innerError: { request-id,
 * date, client-request-id } } }`. Calls errors use numeric-string codes
 * (`"8522"` Call not found); generic ones use Graph's names.
 */

export interface GraphFailure {
  status: number;
  code: string;
  message: string;
  /** Extra innerError members (429 carries its own code/status there). */
  inner?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
  /** Clock time of the request, epoch ms. */
  now: number;
}

/** Graph's innerError date: seconds precision, no zone letter. */
export const graphDate = (ms: number) => new Date(ms).toISOString().slice(0, 19);

export function errorBody(f: GraphFailure, ids: RequestIds) {
  return {
    error: {
      code: f.code,
      message: f.message,
      innerError: {
        ...f.inner,
        date: graphDate(ids.now),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

export const callNotFound = (): GraphFailure => ({ status: 404, code: '8522', message: 'Call not found.' });

export const unauthorized = (message: string): GraphFailure => ({
  status: 401,
  code: 'InvalidAuthenticationToken',
  message,
  headers: { 'www-authenticate': 'Bearer realm="", error="invalid_token"' },
});

export const badRequest = (message: string): GraphFailure => ({ status: 400, code: 'BadRequest', message });

export const notFound = (message: string): GraphFailure => ({ status: 404, code: 'itemNotFound', message });

export const methodNotAllowed = (method: string): GraphFailure => ({
  status: 405,
  code: 'MethodNotAllowed',
  message: `The HTTP method '${method}' is not allowed for this resource.`,
});

/** The error an injected status fault answers with, as Graph words it. */
export function statusFailure(status: number, retryAfter?: string): GraphFailure {
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
  if (status === 429)
    return {
      status,
      code: 'TooManyRequests',
      message: 'Please retry again later.',
      inner: { code: '429', message: 'Please retry after', status: '429' },
      headers,
    };
  const known: Record<number, [string, string]> = {
    500: ['generalException', 'An internal server error occurred.'],
    502: ['badGateway', 'Bad gateway.'],
    503: ['serviceNotAvailable', 'The service is temporarily unavailable. Please retry later.'],
    504: ['gatewayTimeout', 'The gateway timed out.'],
    401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
    403: ['accessDenied', 'Insufficient privileges to complete the operation.'],
    404: ['8522', 'Call not found.'],
    409: ['conflict', 'The request conflicts with the current state of the resource.'],
  };
  const [code, message] =
    known[status] ?? (status >= 500 ? ['generalException', 'Server error.'] : ['BadRequest', 'Bad request.']);
  return { status, code, message, headers };
}
