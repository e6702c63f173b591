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
   * Await `work` while simulated time runs on: on a SimulatedClock the
   * handler's own work holds time still (so the processing timeout cannot fire
   * in the middle of it), and this releases that hold while `work` is pending.
   * Use it for waits on the runtime's clock (`sleep(clock, ms)`, a timer the
   * emulator fires, a reply that simulated time produces). Do not use it for
   * real-time work (a wall-clock timer, a real service, disk): simulated time
   * would race ahead to the processing timeout meanwhile. On the wall clock
   * it is a plain `await`.
   */
  letTimeRun<T>(work: Promise<T>): Promise<T>;
  /** @deprecated Renamed `letTimeRun` (what it does); this alias goes in 0.3.0. */
  wait<T>(work: Promise<T>): Promise<T>;
}

/**
 * Reads the clip and returns anything (a transcript, a summary). It must not
 * keep the clip: it is deleted as soon as the handler returns, throws, or
 * runs past the processing timeout (then `signal` aborts). On a
 * SimulatedClock the handler's own work holds simulated time still, for at
 * most the processing timeout in real milliseconds; a handler that runs
 * longer (or never settles) is abandoned at the timeout, as on the wall clock.
 * Waits on the clock itself go in `clip.letTimeRun(...)`.
 */
export type ClipHandler<T = unknown> = (clip: Clip, signal: AbortSignal) => T | Promise<T>;
