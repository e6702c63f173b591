/**
 * The shapes the HTTP adapter's parts pass to each other. One logical request
 * goes through a chain of layers (retry -> timeout -> auth -> transport), the
 * way undici composes a dispatcher from interceptors; each layer is a
 * `Send -> Send` function in its own file and each attempt ends in an
 * `Outcome` (never a rejection), so a layer can look at it and decide.
 */
import type { Readable } from 'node:stream';
import type { HttpRequest } from '../http.js';

/** The per-attempt abort switch: one listener, no EventTarget bookkeeping on the success path. */
export interface AttemptControl {
  aborted: boolean;
  reason: unknown;
  /** Why it aborted: the Clock deadline or the caller's signal. */
  cause: 'timeout' | 'user' | undefined;
  /** The current phase's handler (the token wait or the exchange), called once on abort. */
  onAbort: (() => void) | undefined;
  /**
   * The attempt is over: release its deadline and its link to the caller's signal. Whoever
   * runs the chain (retry.ts) calls it once each attempt's outcome is in.
   */
  end(): void;
}

export interface Attempt {
  readonly req: HttpRequest;
  /** `https://host:port` of the URL. */
  readonly origin: string;
  /** Path and query string. */
  readonly path: string;
  readonly bodyText: string | undefined;
  /**
   * Built once per logical request (the client-request-id stays the same on
   * every attempt); the auth layer sets `authorization` before each dispatch.
   */
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  /** Ask the token provider for a new app token (after a 401). */
  forceRefresh: boolean;
  /** A 503 will be retried: drop its connection, so the retry takes a new one (Graph's advice). */
  reset503: boolean;
  /** Set by the timeout layer. */
  control: AttemptControl;
}

export type Outcome =
  | {
      type: 'ok';
      status: number;
      headers: Record<string, string | undefined>;
      json?: unknown;
      body?: Readable;
    }
  | {
      type: 'status';
      status: number;
      statusText: string;
      headers: Record<string, string | undefined>;
      code?: string;
      message?: string;
      innerRequestId?: string;
    }
  | {
      type: 'error';
      kind: 'network' | 'timeout' | 'aborted' | 'auth' | 'invalidResponse';
      code: string;
      message: string;
    };

/** One attempt. Never rejects: every ending is an Outcome. */
export type Send = (attempt: Attempt) => Promise<Outcome>;
/** A behaviour wrapped around the next part of the chain. */
export type Layer = (next: Send) => Send;

/** `compose(a, b, c)(send)` runs a, then b, then c around `send`: the first layer is the outermost. */
export function compose(...layers: Layer[]): (send: Send) => Send {
  return (send) => layers.reduceRight((next, layer) => layer(next), send);
}

export const ABORTED: Outcome = Object.freeze({
  type: 'error',
  kind: 'aborted',
  code: 'ABORTED',
  message: 'aborted',
});
