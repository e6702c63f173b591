/**
 * How the live view takes the runtime's stream values: by reference into a
 * bounded queue, folded into the model when a frame is built. Folding each
 * value as it came cost the runtime 3-4 µs a value at 1,000 calls (the model's
 * maps and rows were out of cache between values); a push costs a fraction of
 * that, and a frame folds its ~200 values in one warm loop (issue 17).
 *
 * A call that is ending is folded at once, with everything queued before it:
 * its actor leaves the runtime soon after, and the model reads the end from it.
 * The queue never holds more than `max` values: past that it is folded, so a
 * view with no browser connected (no frames) stays bounded too.
 */
import type { HttpAttemptEvent } from '../adapters/http.js';
import type { RuntimeEvent, StateChange } from '../runtime.js';
import type { ViewModel } from './model.js';
import { stepOf } from './rows.js';

const STATE = 0;
const EVENT = 1;
const ATTEMPT = 2;

export interface ViewIntake {
  state(s: StateChange): void;
  event(e: RuntimeEvent): void;
  /** A Graph request attempt: stamped with the runtime's clock now, folded later. */
  attempt(a: HttpAttemptEvent): void;
  /** Fold everything queued into the model (before a frame, a snapshot, a count). */
  drain(): void;
}

export function createViewIntake(
  model: ViewModel,
  opts: {
    now: () => number;
    /** Requests come from the adapter: the keepAlive events do not also stand in for them. */
    attempts: boolean;
    /** A value the model could not read (skipped; the others go on). */
    unreadable: () => void;
    max?: number;
  },
): ViewIntake {
  const max = opts.max ?? 4096;
  /** Flat triples: kind, value, time (attempts only). */
  const queue: unknown[] = [];

  function fold(kind: unknown, value: unknown, at: unknown) {
    try {
      if (kind === STATE) model.onState(value as StateChange);
      else if (kind === EVENT) {
        model.onEvent(value as RuntimeEvent);
        if (!opts.attempts) model.onEventAsRequest(value as RuntimeEvent);
      } else model.onAttempt(value as HttpAttemptEvent, at as number);
    } catch {
      opts.unreadable();
    }
  }

  function drain() {
    // Indexes, not shift(): one pass, then the array is emptied in place.
    for (let i = 0; i < queue.length; i += 3) fold(queue[i], queue[i + 1], queue[i + 2]);
    queue.length = 0;
  }

  function push(kind: number, value: unknown, at: number, urgent: boolean) {
    queue.push(kind, value, at);
    if (urgent || queue.length >= max * 3) drain();
  }

  // Nothing here may throw into the runtime's Subjects (rxjs rethrows on a timer and the process
  // dies): a value that cannot even be classified is counted and skipped.
  return {
    state(s) {
      try {
        push(STATE, s, 0, ending(s));
      } catch {
        opts.unreadable();
      }
    },
    event(e) {
      try {
        const type = (e as { type?: unknown } | null)?.type;
        // With requests from the adapter, a keepAlive.sent only marks its row for a re-read, which
        // the call's own state change (keepAliveDue -> active) always does too (model.ts onState).
        if (type === 'keepAlive.sent' && opts.attempts) return;
        push(EVENT, e, 0, type === 'call.ended');
      } catch {
        opts.unreadable();
      }
    },
    attempt(a) {
      try {
        push(ATTEMPT, a, opts.now(), false);
      } catch {
        opts.unreadable();
      }
    },
    drain,
  };
}

/** A call machine entering its end: the model must read the actor before it goes. */
function ending(s: StateChange): boolean {
  if (s?.machine !== 'call') return false;
  // As the model reads it (model.ts onState).
  const state = typeof s.value === 'string' ? s.value : stepOf(s.value);
  return state === 'draining' || state === 'ended';
}
