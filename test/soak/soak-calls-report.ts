/** The soak's figures of offered and placed calls as rows and failures (issue 15). */
import type { CallTrafficFigures } from './soak-calls.js';

const kv = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

/** The broken promises among the figures (empty: all kept). */
export function callTrafficFailures(f: CallTrafficFigures): string[] {
  return [
    f.offersDecidedTwice !== 0 && 'offers decided twice',
    f.offersUndecided !== 0 && 'offers never decided',
    f.placedBadEnds.length !== 0 && 'placed calls without a documented end and resultInfo',
    f.toneOrderErrors + f.toneDuplicates !== 0 && 'tones out of order or twice',
    f.tonesLost !== 0 && 'tones lost',
    f.callsWithoutOutput !== 0 && 'offered or placed calls without an end',
  ].filter((x): x is string => typeof x === 'string');
}

/** Rows for formatFigures: label, value, check. */
export function callTrafficRows(f: CallTrafficFigures): Array<[string, string, string?]> {
  const ok = (pass: boolean) => (pass ? 'ok' : 'FAIL');
  return [
    ['offers planned', `${f.offers} (${kv(f.offersByKind)}); the emulator made ${f.emulatorOffers}`],
    ['offered calls ended', kv(f.offerEnds)],
    [
      'offers decided exactly once',
      `${f.offersDecidedTwice} decided twice${f.decidedTwice.length ? ` (${f.decidedTwice.join('; ')})` : ''}, ${f.offersUndecided} undecided (${f.decisionRequests} answer/reject/redirect requests, ${f.decisionsStoppedByFault} of them stopped by a fault)`,
      ok(f.offersDecidedTwice === 0 && f.offersUndecided === 0),
    ],
    ['placed calls', `${f.placed} planned, ${f.placeFailed} refused at the POST`],
    ['placed calls ended', kv(f.placedEnds)],
    [
      'placed calls with a documented end + resultInfo',
      `${f.placedBadEnds.length} wrong${f.placedBadEnds.length ? `: ${f.placedBadEnds.slice(0, 5).join('; ')}` : ''}`,
      ok(f.placedBadEnds.length === 0),
    ],
    ['prompts', kv(f.prompts)],
    [
      'tones in order, once each',
      `${f.tonesDelivered} delivered of ${f.tonesSent} at the webhook; ${f.toneOrderErrors} out of order, ${f.toneDuplicates} twice, ${f.tonesLost} lost${f.toneLosses.length ? ` (${f.toneLosses.join('; ')})` : ''}; ${f.tonesDroppedLate} arrived after a newer press and were dropped`,
      ok(f.toneOrderErrors + f.toneDuplicates + f.tonesLost === 0),
    ],
    [
      'offered/placed calls without an end reported',
      String(f.callsWithoutOutput),
      ok(f.callsWithoutOutput === 0),
    ],
  ];
}
