/**
 * The per-call write queue of persistence: a call's writes and its delete run
 * one at a time, in order, each tracked on the clock (so simulated time waits
 * for the store). A slot lives while it has work; a retired slot (the call
 * moved to another instance) keeps its tail until that work is done, so a
 * slot made anew for the same call waits for it.
 */
import { type Clock, trackWork } from '../ports/clock.js';

export interface WriteSlot {
  /** The last queued operation of the call. */
  tail: Promise<void>;
  /** A write is queued and not started yet (later changes join it). */
  queued: boolean;
  /** The call ended or moved: no more writes. */
  ended: boolean;
  /** Failed writes in a row. */
  failures: number;
  /** The clock timer of the next retry, if one is armed. */
  retry: unknown;
}

export class WriteQueues {
  readonly #slots = new Map<string, WriteSlot>();
  readonly #retired = new Map<string, Promise<void>>();

  constructor(private readonly clock: Clock) {}

  get(key: string): WriteSlot | undefined {
    return this.#slots.get(key);
  }

  slotOf(key: string): WriteSlot {
    let s = this.#slots.get(key);
    if (!s) {
      const tail = this.#retired.get(key) ?? Promise.resolve();
      s = { tail, queued: false, ended: false, failures: 0, retry: undefined };
      this.#slots.set(key, s);
    }
    return s;
  }

  /** Run `op` after the slot's work; the slot goes once idle. */
  enqueue(key: string, s: WriteSlot, op: () => Promise<void>): void {
    const p = s.tail.then(op);
    s.tail = p;
    void trackWork(this.clock, p).then(() => {
      if (s.tail === p && !s.queued && s.retry === undefined && this.#slots.get(key) === s)
        this.#slots.delete(key);
    });
  }

  /** Drop the slot; its work in flight still finishes before a new slot of the key starts. */
  retire(key: string): WriteSlot | undefined {
    const s = this.#slots.get(key);
    if (!s) return undefined;
    this.#slots.delete(key);
    const tail = s.tail;
    this.#retired.set(key, tail);
    void tail.then(() => {
      if (this.#retired.get(key) === tail) this.#retired.delete(key);
    });
    return s;
  }

  slots(): IterableIterator<WriteSlot> {
    return this.#slots.values();
  }

  /** Wait until every slot is idle (work queued meanwhile included). */
  async flush(): Promise<void> {
    for (;;) {
      const seen = new Map([...this.#slots.values()].map((s) => [s, s.tail] as const));
      await Promise.all(seen.values());
      if ([...this.#slots.values()].every((s) => seen.get(s) === s.tail && !s.queued)) return;
    }
  }
}
