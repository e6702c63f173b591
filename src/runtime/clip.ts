/** What the user's handler receives for each downloaded recording. */
import type { Readable } from 'node:stream';
import type { ResultInfoJson } from '../machines/types.js';
import type { WavInfo } from './wav.js';

export interface Clip {
  callId: string;
  recordId: string;
  operationId: string;
  clientContext: string;
  /** Bytes stored. */
  bytes: number;
  /** File path, when the store keeps clips on disk (deleted after the handler returns). */
  path: string | undefined;
  /** The WAV header, when the clip is a WAV file (duration, sample rate...). */
  wav: WavInfo | undefined;
  completionReason: string | undefined;
  resultInfo: ResultInfoJson | undefined;
  /** A fresh read stream over the clip. */
  open(): Readable;
  /**
   * Await something that is not this process's own work: a timer on the
   * runtime's clock, a reply from a queue, a person. On a SimulatedClock the
   * handler's real work holds time still (so the processing timeout cannot
   * fire in the middle of it); what it waits for through `wait` lets time move
   * meanwhile. On the wall clock it is a plain `await`.
   */
  wait<T>(work: Promise<T>): Promise<T>;
}

/**
 * Reads the clip and returns anything (a transcript, a summary). It must not
 * keep the clip: it is deleted as soon as the handler returns, throws, or
 * runs past the processing timeout (then `signal` aborts). On a
 * SimulatedClock, wrap waits on the clock (or on anything outside this
 * process) in `clip.wait(...)`: unwrapped, they hold simulated time still and
 * never end.
 */
export type ClipHandler<T = unknown> = (clip: Clip, signal: AbortSignal) => T | Promise<T>;
