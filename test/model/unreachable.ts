/**
 * Transitions no emulator behaviour can produce through the real runtime,
 * with the reason. The pure-model suites (events: 'all') cover them, and
 * test/machines exercises them with fakes.
 */
export const UNREACHABLE_CALL: Record<string, string> = {
  'call|xstate.error.actor.*|0':
    'a record (or prompt) child that crashes: record children end only in final states (every invoke has onError, canSpawnRecord rejects a bad policy before spawning); test/machines crashes one with a fake',
};

export const UNREACHABLE_RECORD: Record<string, string> = {
  'record.requesting|xstate.error.actor.startRecord|1':
    'a completion that overtakes a record POST which then times out: the emulator answers the POST right after delivering an early completion, and a POST held past the timeout starts its operation only then; test/machines covers it',
  'record.requesting|xstate.error.actor.startRecord|2':
    'the same with a failed completion (see above); test/machines covers it',
  'record.holdingClip|xstate.error.actor.clipGuard|0':
    "the clip guard failing to start: the runtime's guard is a callback that cannot throw on start; test/machines covers a failing one",
};

const SETUP =
  'set-up states: the emulator has no incoming offer, answer/reject/redirect or POST /calls routes yet and the runtime no answer/reject/redirect/placeCall API (branch h8, then the runtime wiring); the pure model (all events, starts incoming and outgoing) and test/machines cover them';
const ROUTING =
  'the call model drives its record child by abstract done events; in the emulator runs the runtime routes each completion through this transition, but no path step names it';
const TONES =
  'tones: the emulator sends no toneInfo notifications and has no subscribeToTone route yet (branch h8)';
const PROMPTS =
  'prompts: the emulator has no playPrompt route and the runtime no playPrompt API yet (branch h8, then the runtime wiring)';

/**
 * Transitions the emulator-driven call runs do not drive yet, with the reason. Each is
 * covered by the pure model (test/model/invariants.test.ts) and by test/machines.
 */
export const NOT_YET_DRIVEN_CALL: Record<string, string> = {
  'call.start||0': SETUP,
  'call.start||1': SETUP,
  'call.offered|ANSWER|0': SETUP,
  'call.offered|REJECT|0': SETUP,
  'call.offered|HANG_UP|0': SETUP,
  'call.offered|REDIRECT|0': SETUP,
  'call.offered|NOTIFICATION|0': SETUP,
  'call.offered|RESUME|0': SETUP,
  'call.offered|xstate.after.DECISION_DEADLINE.call.offered|0': SETUP,
  'call.answering|NOTIFICATION|0': SETUP,
  'call.answering|NOTIFICATION|1': SETUP,
  'call.answering|RESUME|0': SETUP,
  'call.answering|xstate.done.actor.answer|0': SETUP,
  'call.answering|xstate.done.actor.answer|1': SETUP,
  'call.answering|xstate.error.actor.answer|0': SETUP,
  'call.answering|xstate.error.actor.answer|1': SETUP,
  'call.establishing|NOTIFICATION|0': SETUP,
  'call.establishing|NOTIFICATION|1': SETUP,
  'call.establishing|HANG_UP|0': SETUP,
  'call.establishing|RESUME|0': SETUP,
  'call.establishing|xstate.after.ESTABLISH_DEADLINE.call.establishing|0': SETUP,
  'call.placing|xstate.done.actor.placeCall|0': SETUP,
  'call.placing|xstate.error.actor.placeCall|0': SETUP,
  'call.ringing|NOTIFICATION|0': SETUP,
  'call.ringing|NOTIFICATION|1': SETUP,
  'call.ringing|HANG_UP|0': SETUP,
  'call.ringing|RESUME|0': SETUP,
  'call.ringing|xstate.after.ESTABLISH_DEADLINE.call.ringing|0': SETUP,
  'call.rejecting|NOTIFICATION|0': SETUP,
  'call.rejecting|RESUME|0': SETUP,
  'call.rejecting|xstate.done.actor.reject|0': SETUP,
  'call.rejecting|xstate.error.actor.reject|0': SETUP,
  'call.redirecting|NOTIFICATION|0': SETUP,
  'call.redirecting|RESUME|0': SETUP,
  'call.redirecting|xstate.done.actor.redirect|0': SETUP,
  'call.redirecting|xstate.error.actor.redirect|0': SETUP,
  'call.terminating|xstate.error.actor.hangUp|3': SETUP,
  'call|NOTIFICATION|0': ROUTING,
  'call|NOTIFICATION|1': ROUTING,
  'call|NOTIFICATION|2': ROUTING,
  'call|OPERATION_STARTED|0': ROUTING,
  'call|xstate.error.actor.*|1': TONES,
  'call.established|NOTIFICATION|1': TONES,
  'call.established|SUBSCRIBE_TONES|0': TONES,
  'call.established|PLAY_PROMPT|0': PROMPTS,
  'call.established|PLAY_PROMPT|1': PROMPTS,
  'call.terminating|PLAY_PROMPT|0': PROMPTS,
  'call.draining|PLAY_PROMPT|0': PROMPTS,
};

/** States those runs never enter (the set-up states, see SETUP). */
export const NOT_YET_DRIVEN_CALL_STATES = [
  'call.offered',
  'call.answering',
  'call.establishing',
  'call.placing',
  'call.ringing',
  'call.rejecting',
  'call.redirecting',
];
