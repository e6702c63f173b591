/**
 * The webhook endpoint: size limit, then the token (401 before the body is
 * parsed, and for Node before it is even read), then the body (400), then 202
 * at once; the consumer runs after the answer, so a slow or throwing consumer
 * never delays Graph or turns into a 5xx. Node (`nodeHandler`) and
 * fetch-style (`fetchHandler`) frameworks share it; `handle` is for
 * frameworks that read the body themselves. A sound batch is answered 202
 * even when some of its items are malformed: those are skipped and reported
 * (`onRejectedItem`), since Graph would retry a 4xx with the same bad item.
 * A body a parser already read (Express `req.body`) is validated the same way,
 * but its byte size can only be checked from Content-Length.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  checkContentType,
  checkDeclaredLength,
  consumed,
  header,
  ignore,
  type NotificationHeaders,
  parsedSize,
  readNodeBody,
  readWebStream,
  sizeOf,
  tooLarge,
} from './body.js';
import { NotificationError, type NotificationItemError } from './errors.js';
import { type NotificationBody, type ParsedNotification, readNotifications } from './parse.js';
import type { NotificationVerifier, VerifiedCaller } from './verify.js';

export const DEFAULT_NOTIFICATION_LIMIT_BYTES = 1024 * 1024;
export { type NotificationHeaders, readBody } from './body.js';

export interface NotificationHandlerOptions {
  /** Verifies the bearer token; `false` skips verification (tests only). Required in practice. */
  verifier?: NotificationVerifier | false;
  /** Largest body accepted (default 1 MiB). */
  limitBytes?: number | undefined;
  /** Called after the 202 is decided, in a microtask; what it throws is caught. */
  onNotifications: (items: ParsedNotification[], caller: VerifiedCaller | undefined) => void;
  /** Every refused notification (for logs and counters); what it throws is caught. */
  onError?: (err: NotificationError) => void;
  /** Every item skipped from an accepted batch (after the answer, before onNotifications); what it throws is caught. */
  onRejectedItem?: (err: NotificationItemError) => void;
  /** What `onNotifications` threw (it never changes the answer). */
  onConsumerError?: (err: unknown) => void;
}

export interface HandleResult {
  status: number;
  /** Why the body was refused (with `message`), absent on 202. */
  code?: string;
  message?: string;
  /** Items of an accepted batch that were skipped as malformed, when there were any. */
  rejected?: number;
}

export interface NotificationHandler {
  /**
   * For frameworks that already read the body: the raw text or bytes, or the
   * object their JSON parser made (`express.json()`, Fastify, Nest). Anything
   * else (undefined, a number, a stream) is a 400 `unsupportedBody`: typed
   * `unknown` because that is what Fastify's `request.body` is.
   */
  handle(body: unknown, headers: NotificationHeaders): Promise<HandleResult>;
  /** `(req, res)` for node:http and Express-style servers; never throws, always answers. */
  nodeHandler(req: IncomingMessage, res: ServerResponse): void;
  /** For fetch-style servers (Request in, Response out). */
  fetchHandler(request: Request): Promise<Response>;
}

type Outcome =
  | {
      status: 202;
      items: ParsedNotification[];
      rejected: NotificationItemError[];
      caller: VerifiedCaller | undefined;
    }
  | { status: number; error: NotificationError };

const isCaller = (v: unknown): v is VerifiedCaller =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as VerifiedCaller).tenantId === 'string' &&
  typeof (v as VerifiedCaller).appId === 'string' &&
  typeof (v as VerifiedCaller).issuer === 'string';

const errorJson = (e: NotificationError) => JSON.stringify({ error: { code: e.code, message: e.message } });

export function createNotificationHandler(options: NotificationHandlerOptions): NotificationHandler {
  const limit = options.limitBytes ?? DEFAULT_NOTIFICATION_LIMIT_BYTES;
  const { verifier } = options;
  // Secure by default: skipping verification must be asked for with `false`.
  if (verifier === undefined)
    throw new TypeError(
      'createNotificationHandler: pass a verifier, or verifier: false to skip (tests only)',
    );
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new TypeError('createNotificationHandler: limitBytes must be a positive integer');

  async function authorize(headers: NotificationHeaders): Promise<VerifiedCaller | undefined> {
    if (verifier === false) return undefined;
    try {
      return await verifier!.verify(header(headers, 'authorization'));
    } catch (err) {
      if (err instanceof NotificationError) throw err;
      throw new NotificationError(401, 'verificationFailed', 'notification token could not be verified');
    }
  }

  /**
   * size -> type -> token -> (read) -> parse. `size` is the body's length when
   * it is already read. `read(source)` rather than a closure: nothing is made
   * per request just to pass the body along.
   */
  async function admit<S>(
    headers: NotificationHeaders,
    read: (source: S) => unknown,
    source: S,
    size?: number,
  ): Promise<Outcome> {
    try {
      checkDeclaredLength(headers, limit);
      if (size !== undefined && size > limit) throw tooLarge(limit);
      checkContentType(headers);
      const caller = await authorize(headers);
      return accepted(await read(source), caller);
    } catch (err) {
      return refused(err);
    }
  }

  /** Hand the items to the consumer after the answer; its failures stay its own. */
  function deliver(outcome: Outcome): void {
    if (!('items' in outcome)) return;
    queueMicrotask(() => {
      for (const err of outcome.rejected) {
        try {
          options.onRejectedItem?.(err);
        } catch {
          // an observer must not stop the valid items
        }
      }
      if (!outcome.items.length) return;
      try {
        options.onNotifications(outcome.items, outcome.caller);
      } catch (err) {
        try {
          options.onConsumerError?.(err);
        } catch {
          // nothing left to tell
        }
      }
    });
  }

  const same = (body: unknown) => body;
  const readWeb = (request: Request) => {
    if (request.bodyUsed) throw consumed('the Request body was already read');
    return readWebStream(request.body, limit);
  };

  async function handle(body: unknown, headers: NotificationHeaders): Promise<HandleResult> {
    const outcome: Outcome = await admit(headers, same, body, sizeOf(body));
    deliver(outcome);
    if ('error' in outcome)
      return { status: outcome.status, code: outcome.error.code, message: outcome.error.message };
    return outcome.rejected.length ? { status: 202, rejected: outcome.rejected.length } : { status: 202 };
  }

  function answerNode(req: IncomingMessage, res: ServerResponse, outcome: Outcome): void {
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    if (!('error' in outcome)) {
      res.writeHead(202, { 'content-length': '0' }).end();
      return;
    }
    const body = errorJson(outcome.error);
    // A body we did not read to the end (413, or refused before reading): close the connection
    // rather than let Node read the rest.
    const unread = !req.complete;
    res.writeHead(outcome.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(unread ? { connection: 'close' } : {}),
    });
    res.end(body);
  }

  /** What a refusal becomes: the answer, after onError heard of it. */
  function refused(err: unknown): Outcome {
    const error =
      err instanceof NotificationError
        ? err
        : new NotificationError(400, 'invalidBody', 'notification could not be read');
    try {
      options.onError?.(error);
    } catch {
      // an observer must not change the answer
    }
    return { status: error.status, error };
  }

  function accepted(body: unknown, caller: VerifiedCaller | undefined): Outcome {
    try {
      const { items, rejected } = readNotifications(body as NotificationBody);
      return { status: 202, items, rejected, caller };
    } catch (err) {
      return refused(err);
    }
  }

  /** Answer, then hand over. Runs from the request's own events: nothing may throw out of it. */
  function finish(req: IncomingMessage, res: ServerResponse, outcome: Outcome): void {
    try {
      answerNode(req, res, outcome);
    } catch {
      answerFailed(res);
    }
    deliver(outcome);
  }

  /** Our own failure: a 500 if nothing was sent yet. */
  function answerFailed(res: ServerResponse): void {
    try {
      if (!res.headersSent) res.writeHead(500, { 'content-length': '0' }).end();
    } catch {
      // the connection is gone; nothing left to answer
    }
  }

  /**
   * The body from the stream, or, when a body parser already read the stream
   * (Express with express.json() first), what it left in `req.body`. Only a
   * consumed stream counts: Express 4 sets `req.body = {}` without reading.
   */
  function readAndAnswer(req: IncomingMessage, res: ServerResponse, caller: VerifiedCaller | undefined) {
    if (req.readableEnded) {
      const parsed = (req as { body?: unknown }).body;
      finish(
        req,
        res,
        parsed === undefined
          ? refused(
              consumed('the request body was already read by another middleware, which left no req.body'),
            )
          : accepted(parsed, caller),
      );
      return;
    }
    readNodeBody(req, limit, (err, body) => finish(req, res, err ? refused(err) : accepted(body, caller)));
  }

  /**
   * admit's order (size, type, token, then the body) without a Promise when the
   * token needs none: no verifier, or one that proved this header before (what
   * Graph sends again and again). Token before body: an unauthenticated sender
   * never gets its body read.
   */
  function respondNode(req: IncomingMessage, res: ServerResponse): void {
    const { headers } = req;
    try {
      checkDeclaredLength(headers, limit);
      const size = parsedSize(req);
      if (size !== undefined && size > limit) throw tooLarge(limit);
      checkContentType(headers);
    } catch (err) {
      finish(req, res, refused(err));
      return;
    }
    if (verifier === false) {
      readAndAnswer(req, res, undefined);
      return;
    }
    const known = verifiedBefore(headers);
    if (known) {
      readAndAnswer(req, res, known);
      return;
    }
    authorize(headers)
      .then(
        (caller) => readAndAnswer(req, res, caller),
        (err) => finish(req, res, refused(err)),
      )
      .catch(() => answerFailed(res));
  }

  /**
   * The verifier's short path, trusted only for what it is typed to return: a
   * caller. Anything else (a throw, a Promise from an `async` implementation,
   * any other value) means "ask verify()", so a faulty verifier fails closed.
   */
  function verifiedBefore(headers: NotificationHeaders): VerifiedCaller | undefined {
    try {
      const known: unknown = (verifier as NotificationVerifier).verifiedBefore?.(
        header(headers, 'authorization'),
      );
      return isCaller(known) ? known : undefined;
    } catch {
      return undefined;
    }
  }

  function nodeHandler(req: IncomingMessage, res: ServerResponse): void {
    // Errors after the client left are expected; they must not become uncaught exceptions.
    req.on('error', ignore);
    res.on('error', ignore);
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-length': '0' }).end();
        return;
      }
      respondNode(req, res);
    } catch {
      answerFailed(res);
    }
  }

  async function fetchHandler(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const headers: NotificationHeaders = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const outcome: Outcome = await admit(headers, readWeb, request);
    deliver(outcome);
    if (!('error' in outcome)) return new Response(null, { status: 202 });
    return new Response(errorJson(outcome.error), {
      status: outcome.status,
      headers: { 'content-type': 'application/json' },
    });
  }

  return { handle, nodeHandler, fetchHandler };
}
