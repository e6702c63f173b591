/**
 * What the soak's offered and placed calls do: the kinds and their shares, and the caller/callee
 * script, decision and length of each (issue 15).
 */
import type { CallerScript } from '../../src/emulator/index.js';
import { CALL_END_REASONS } from '../../src/machines/index.js';
import type { IncomingDecision } from '../../src/options/calls.js';

export const SEC = 1000;
export const MIN = 60 * SEC;

export type OfferKind = 'answer' | 'reject' | 'redirect' | 'late' | 'duplicate' | 'reoffer';
export type PlaceKind = 'answer' | 'decline' | 'noAnswer' | 'ringTimeout' | 'unreachable';

export const OFFER_MIX: Array<[OfferKind, number]> = [
  ['answer', 0.5],
  ['reject', 0.1],
  ['redirect', 0.1],
  ['late', 0.1],
  ['duplicate', 0.1],
  ['reoffer', 0.1],
];
export const PLACE_MIX: Array<[PlaceKind, number]> = [
  ['answer', 0.5],
  ['decline', 0.15],
  ['noAnswer', 0.1],
  ['ringTimeout', 0.1],
  ['unreachable', 0.15],
];

/** Every reason "How a call ends" documents: the machines' own list. */
export const DOCUMENTED_REASONS = CALL_END_REASONS;
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
export const PROMPT = 'https://bot.example/prompts/menu.wav';

export interface OfferPlan {
  kind: OfferKind;
  at: number;
  script: CallerScript;
  decision: IncomingDecision;
  /** Milliseconds before onIncomingCall resolves. */
  decideAfterMs: number;
  media: boolean;
  /** The call's length once established (ms), and who ends it. */
  holdMs: number;
  callerHangsUp: boolean;
  /** onIncomingCall saw this chain already: a later offer is a re-offer. */
  seen?: boolean;
}

export interface PlacePlan {
  kind: PlaceKind;
  at: number;
  script: CallerScript;
  policy?: Record<string, unknown>;
  media: boolean;
  holdMs: number;
}

export const pick = <T>(mix: Array<[T, number]>, r: number): T => {
  let acc = 0;
  for (const [k, share] of mix) {
    acc += share;
    if (r < acc) return k;
  }
  return (mix[mix.length - 1] as [T, number])[0];
};
export const inc = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

const keys = (rnd: () => number): CallerScript['keys'] =>
  Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => ({
    atSeconds: 30 + i * (1 + Math.floor(rnd() * 3)),
    tone: KEYS[Math.floor(rnd() * KEYS.length)] as string,
  }));

export function planOffer(rnd: () => number, at: number, share: number): OfferPlan {
  const kind = pick(OFFER_MIX, share);
  const media = kind !== 'reject' && kind !== 'redirect' && kind !== 'late' && rnd() < 0.5;
  const script: CallerScript = {
    establish: {
      order: rnd() < 0.5 ? 'establishedFirst' : 'establishingFirst',
      afterSeconds: Math.floor(rnd() * 3),
    },
    promptSecondsByUri: { [PROMPT]: 2 + Math.floor(rnd() * 8) },
    ...(media ? { keys: keys(rnd) } : {}),
  };
  if (kind === 'duplicate') script.offer = { duplicate: true };
  // Graph drops the first offer at 4 s, before the bot's answer at 6 s, and offers it again.
  if (kind === 'reoffer') script.offer = { decisionSeconds: 4, reoffers: 1 };
  if (kind === 'redirect') script.redirect = { outcome: rnd() < 0.7 ? 'answered' : 'notAnswered' };
  const reasons = ['busy', 'forbidden', 'none'] as const;
  const decision: IncomingDecision =
    kind === 'reject'
      ? { reject: reasons[Math.floor(rnd() * 3)] as (typeof reasons)[number] }
      : kind === 'redirect'
        ? {
            redirect: {
              targets: Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, i) => ({
                identity: { user: { id: `operator-${i}` } },
              })),
              timeout: 20,
            },
          }
        : { answer: {} };
  return {
    kind,
    at,
    script,
    decision,
    // late: past the runtime's 10-s decision deadline, inside Graph's 15 s.
    decideAfterMs: kind === 'late' ? 12 * SEC : kind === 'reoffer' ? 6 * SEC : Math.floor(rnd() * 3 * SEC),
    media,
    holdMs: (1 + Math.floor(rnd() * 120)) * MIN,
    callerHangsUp: rnd() < 0.5,
  };
}

export function planPlace(rnd: () => number, at: number, share: number): PlacePlan {
  const kind = pick(PLACE_MIX, share);
  const media = kind === 'answer' && rnd() < 0.5;
  const callee: CallerScript['callee'] =
    kind === 'answer'
      ? {
          kind: 'answer',
          afterSeconds: Math.floor(rnd() * 20),
          ...(rnd() < 0.3 ? { hangUpAfterSeconds: 60 + Math.floor(rnd() * 3600) } : {}),
        }
      : kind === 'decline'
        ? { kind: 'decline', afterSeconds: 1 + Math.floor(rnd() * 10) }
        : kind === 'noAnswer'
          ? { kind: 'noAnswer', ringSeconds: 30 }
          : kind === 'ringTimeout'
            ? { kind: 'noAnswer', ringSeconds: 90 }
            : { kind: 'unreachable', afterSeconds: Math.floor(rnd() * 3) };
  return {
    kind,
    at,
    script: {
      callee,
      promptSecondsByUri: { [PROMPT]: 2 + Math.floor(rnd() * 8) },
      ...(media ? { keys: keys(rnd) } : {}),
    },
    // ringTimeout: the bot gives up (20 s) before the callee's 90 s of ringing.
    ...(kind === 'ringTimeout' ? { policy: { ringTimeoutMs: 20 * SEC } } : {}),
    media,
    holdMs: (1 + Math.floor(rnd() * 120)) * MIN,
  };
}
