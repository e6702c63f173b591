/**
 * Reading a notification request's body within a byte limit: the Content-Type
 * and Content-Length checks, Node and web streams read chunk by chunk (stopped
 * as soon as the limit is passed), and what a body parser already left behind.
 */
import type { IncomingMessage } from 'node:http';
import { NotificationError } from './errors.js';

export type NotificationHeaders = Record<string, string | string[] | undefined>;

/** Case-insensitive header lookup; the first value of a repeated header. */
export function header(h: NotificationHeaders, name: string): string | undefined {
  const direct = h[name];
  const v = direct !== undefined ? direct : Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/** 415 unless the content type is absent or JSON (`application/json`, `...+json`, any parameters). */
export function checkContentType(h: NotificationHeaders): void {
  const type = header(h, 'content-type');
  // What Graph sends, without the split/trim/lowercase below.
  if (type === undefined || type === 'application/json') return;
  const media = type.split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))) return;
  throw new NotificationError(415, 'unsupportedMediaType', 'notifications must be sent as application/json');
}

export const tooLarge = (limit: number) =>
  new NotificationError(413, 'bodyTooLarge', `notification body exceeds ${limit} bytes`);

const DIGITS = /^\d+$/;

/** 413 when a declared Content-Length is over the limit (nothing read). */
export function checkDeclaredLength(h: NotificationHeaders, limit: number): void {
  const declared = header(h, 'content-length');
  if (declared !== undefined && DIGITS.test(declared.trim()) && Number(declared) > limit)
    throw tooLarge(limit);
}

const unreadable = () => new NotificationError(400, 'invalidBody', 'notification body could not be read');

/**
 * Read a Node request body, counting bytes: stops (pauses the request, drops
 * its 'data' listener) as soon as the count passes `limit`, so the rest is never
 * read into memory. The request is not destroyed, so a 413 can still be sent.
 * `done` is called once, with the body or the refusal. A callback, not a
 * Promise: the webhook's hot path answers from the request's own 'end' event.
 */
export function readNodeBody(
  req: IncomingMessage,
  limit: number,
  done: (err: NotificationError | undefined, body?: Buffer) => void,
): void {
  const parts: Buffer[] = [];
  let n = 0;
  let settled = false;
  // Our listeners stay until the request is gone, guarded by `settled`: cheaper
  // than removing four per request, and the 'error' one keeps a late socket
  // error from becoming an uncaught exception. Methods of one object rather than
  // named arrow functions: under tsx (esbuild keepNames) each of those costs an
  // Object.defineProperty, per request.
  const on = {
    data(chunk: Buffer) {
      if (settled) return;
      n += chunk.length;
      if (n > limit) {
        settled = true;
        req.off('data', on.data);
        req.pause();
        parts.length = 0;
        done(tooLarge(limit));
        return;
      }
      parts.push(chunk);
    },
    end() {
      if (settled) return;
      settled = true;
      // A notification is usually one chunk: no copy then.
      done(undefined, parts.length === 1 ? parts[0]! : Buffer.concat(parts, n));
    },
    error() {
      if (settled) return;
      settled = true;
      done(unreadable());
    },
    // Closed without 'end': the client went away mid-body.
    close() {
      if (!req.complete) on.error();
    },
  };
  if (req.readableEnded) {
    done(undefined, Buffer.alloc(0));
    return;
  }
  // Gone while we were checking the token: no event would ever come.
  if (req.destroyed) {
    done(unreadable());
    return;
  }
  req.on('data', on.data);
  req.on('end', on.end);
  req.on('error', on.error);
  req.on('close', on.close);
}

/** readNodeBody as a Promise. */
export function readNodeStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) =>
    readNodeBody(req, limit, (err, body) => (err ? reject(err) : resolve(body!))),
  );
}

/** For listeners that only keep a late error from becoming an uncaught exception. */
export const ignore = () => {};

/**
 * A Node request's body within `limit` bytes: 415 if Content-Type is present
 * and not JSON, 413 at once when Content-Length is over the limit (nothing
 * read), else 413 as soon as the bytes read pass it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  try {
    checkContentType(req.headers);
    checkDeclaredLength(req.headers, limitBytes);
  } catch (err) {
    return Promise.reject(err);
  }
  return readNodeStream(req, limitBytes);
}

/** A web stream's body within `limit` bytes; cancels the stream once it is over. */
export async function readWebStream(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > limit) {
        reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (err) {
    if (err instanceof NotificationError) throw err;
    throw new NotificationError(400, 'invalidBody', 'notification body could not be read');
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(parts, n);
}

export const consumed = (what: string) =>
  new NotificationError(
    400,
    'invalidBody',
    `${what}: mount the notification handler before any body parser, or pass the parsed body to handle()`,
  );

/** Byte size of a body already in memory: text and bytes have one, a parsed object has none we can know. */
export function sizeOf(body: unknown): number | undefined {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return undefined;
}

/** The size of what a body parser left in `req.body`, when it read the stream. */
export const parsedSize = (req: IncomingMessage) =>
  req.readableEnded ? sizeOf((req as { body?: unknown }).body) : undefined;
