/**
 * The per-attempt deadline, on the injected Clock (undici's own headers/body
 * timeouts run on real time, so they are only a backstop). The deadline covers
 * the token fetch and the exchange up to the parsed body (or the headers, for
 * a stream). The caller's AbortSignal ends the attempt the same way.
 *
 * Attempts with the same timeout fall due in the order they start, so they
 * share one Clock timer (a FIFO per timeout length): a finished attempt is
 * only marked, and the timer is re-armed for the oldest live attempt when it
 * fires. Arming and clearing a timer per request cost about a tenth of a
 * keepAlive's client CPU; with nothing in flight the timer is cleared, so an
 * idle adapter holds no timer.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Attempt, AttemptControl, Layer } from './attempt.js';

class Control implements AttemptControl {
  aborted = false;
  reason: unknown = undefined;
  cause: 'timeout' | 'user' | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** When the deadline passes (clock ms); -1 once the attempt is over. */
  due: number;
  /** Removes the listener on the caller's signal. */
  unlink: (() => void) | undefined = undefined;
  #queue: DeadlineQueue;
  constructor(due: number, queue: DeadlineQueue) {
    this.due = due;
    this.#queue = queue;
  }
  end(): void {
    this.#queue.remove(this);
    this.unlink?.();
    this.unlink = undefined;
  }
  abort(cause: 'timeout' | 'user', reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.cause = cause;
    this.reason = reason;
    const handler = this.onAbort;
    this.onAbort = undefined;
    handler?.();
  }
}

/** Attempts of one timeout length, oldest first, behind one Clock timer. */
class DeadlineQueue {
  #clock: Clock;
  #items: Control[] = [];
  #head = 0;
  #live = 0;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(control: Control): void {
    this.#items.push(control);
    this.#live++;
    if (this.#timer === undefined) this.#arm(control.due);
  }

  remove(control: Control): void {
    if (this.#finish(control)) {
      this.#reset();
      return;
    }
    // Drop finished entries from the front as they finish (mostly in order), so the queue
    // holds about what is in flight, not every attempt of the last timeout period.
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.due < 0) this.#head++;
    if (this.#head > 64 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Mark an attempt over; true when none is left in flight. */
  #finish(control: Control): boolean {
    if (control.due < 0) return false;
    control.due = -1;
    return --this.#live === 0;
  }

  /** Nothing in flight: drop the timer and the finished entries. */
  #reset() {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#head = 0;
  }

  #arm(due: number) {
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, due - this.#clock.now()));
  }

  #fire() {
    this.#timer = undefined;
    const now = this.#clock.now();
    const items = this.#items;
    const due: Control[] = [];
    while (this.#head < items.length) {
      const c = items[this.#head]!;
      if (c.due > now) break;
      this.#head++;
      if (c.due >= 0) {
        this.#finish(c);
        due.push(c);
      }
    }
    if (this.#live === 0) this.#reset();
    else this.#arm(this.#items[this.#head]!.due);
    // Aborting last: an abort handler may start the next attempt, which adds to this queue.
    for (const c of due) c.abort('timeout', new Error('attempt timed out'));
  }
}

export function timeoutLayer(clock: Clock): Layer {
  const queues = new Map<number, DeadlineQueue>();
  return (next) => (a: Attempt) => {
    let queue = queues.get(a.timeoutMs);
    if (!queue) {
      queue = new DeadlineQueue(clock);
      queues.set(a.timeoutMs, queue);
    }
    const control = new Control(clock.now() + a.timeoutMs, queue);
    a.control = control;
    queue.add(control);
    const signal = a.req.signal;
    if (signal) {
      const onUserAbort = () => control.abort('user', signal.reason);
      if (signal.aborted) onUserAbort();
      else {
        signal.addEventListener('abort', onUserAbort, { once: true });
        control.unlink = () => signal.removeEventListener('abort', onUserAbort);
      }
    }
    // No `then` of our own here: the chain's runner calls control.end() with the outcome
    // in hand (a promise per attempt less on the success path).
    return next(a);
  };
}
