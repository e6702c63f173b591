/**
 * What the emulator's parts share: options after defaults, the clock with a
 * registry of every timer the emulator set (so close() and reset() leave no
 * timer behind on a shared SimulatedClock), and the parts themselves.
 */
import type { Clock, TimerHandle } from '../adapters/clock.js';
import type { RecordLimits } from '../graph/limits.js';
import type { CallerScript } from './caller-script.js';
import type { CallStore } from './calls.js';
import type { FaultTable } from './faults.js';
import type { Media } from './media.js';
import type { Notifier } from './notifier.js';
import type { RandomSource } from './random.js';
import type { CallSetup } from './setup.js';
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

export interface Env {
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
  calls: CallStore;
  media: Media;
  notifier: Notifier;
  setup: CallSetup;
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
