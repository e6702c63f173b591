/**
 * What the emulator's parts share: options after defaults, the clock with a
 * registry of every timer the emulator set (so close() and reset() leave no
 * timer behind on a shared SimulatedClock), and the parts themselves.
 */
import type { Clock, TimerHandle } from '../adapters/clock.js';
import type { RecordLimits } from '../graph/limits.js';
import type { CallerScript } from './caller-script.js';
import type { FaultTable } from './faults.js';
import type { RandomSource } from './random.js';
import type { Signer } from './signing.js';
import type { Variants } from './variants.js';

export interface ResolvedOptions {
  limits: RecordLimits;
  keepAliveTimeoutMs: number;
  recordingRetentionMs: number;
  audience: string;
  tenantId: string;
  notificationRetries: number;
  acceptsAppToken: (token: string) => boolean;
}

export class Timers {
  #live = new Set<TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(fn: () => void, ms: number): TimerHandle {
    const box: { h?: TimerHandle } = {};
    box.h = this.clock.setTimeout(() => {
      this.#live.delete(box.h);
      fn();
    }, ms);
    this.#live.add(box.h);
    return box.h;
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle === undefined || !this.#live.delete(handle)) return;
    this.clock.clearTimeout(handle);
  }

  clearAll(): void {
    for (const h of this.#live) this.clock.clearTimeout(h);
    this.#live.clear();
  }
}

export interface EnvBase {
  clock: Clock;
  timers: Timers;
  random: RandomSource;
  options: ResolvedOptions;
  faults: FaultTable;
  signer: Signer;
  /** `http://host:port`, known once listening. */
  origin: string;
  /** Aborted by close(): ends held requests and pending retries. */
  signal: AbortSignal;
  defaults: { script: CallerScript | undefined; variants: Partial<Variants> };
}

/**
 * The parts of the emulator (calls, media, notifier, setup), each added by
 * its own file (`declare module './context.js'`), so this file names none of
 * them and no part's import of Env makes a circle.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the part files
export interface EnvParts {}

export type Env = EnvBase & EnvParts;

export { type Deferred, deferred } from './deferred.js';
