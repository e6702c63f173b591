/**
 * Transitions no emulator behaviour can produce through the real runtime,
 * with the reason. The pure-model suites (events: 'all') cover them, and
 * test/machines exercises them with fakes.
 */
const ROUTING =
  'routing inside the call machine: the model drives its record and prompt children by abstract done events; in the emulator runs the runtime routes each completion (and operation id report) through this transition, but no path step names it';

export const UNREACHABLE_CALL: Record<string, string> = {
  'call|xstate.error.actor.*|0':
    'a record (or prompt) child that crashes: record children end only in final states (every invoke has onError, canSpawnRecord rejects a bad policy before spawning); test/machines crashes one with a fake',
  'call.answering|NOTIFICATION|1':
    "the caller leaving after an early `established` but before the answer's 202: the emulator's `early` fault sends the answer's notifications right before its 202, and a held (delayed) answer sends nothing until it is handled; test/machines covers it",
  'call|NOTIFICATION|0': ROUTING,
  'call|NOTIFICATION|1': ROUTING,
  'call|NOTIFICATION|2': ROUTING,
  'call|OPERATION_STARTED|0': ROUTING,
};

export const UNREACHABLE_RECORD: Record<string, string> = {
  'record.requesting|xstate.error.actor.startRecord|1':
    'a completion that overtakes a record POST which then times out: the emulator answers the POST right after delivering an early completion, and a POST held past the timeout starts its operation only then; test/machines covers it',
  'record.requesting|xstate.error.actor.startRecord|2':
    'the same with a failed completion (see above); test/machines covers it',
  'record.holdingClip|xstate.error.actor.clipGuard|0':
    "the clip guard failing to start: the runtime's guard is a callback that cannot throw on start; test/machines covers a failing one",
};

/**
 * Transitions the emulator-driven call runs do not drive yet, with the reason: none
 * left (set-up states, prompts and key presses run since the emulator routes came).
 */
export const NOT_YET_DRIVEN_CALL: Record<string, string> = {};

const EARLY_PROMPT =
  "a prompt's completion before its POST's answer: the emulator completes a prompt only after answering the POST (a 0-s prompt too), its `early` fault moves a record's completion and a hang-up's termination only, and a cancel needs the running operation; the pure model covers all three, test/machines the completed one";

/** promptMachine transitions no emulator behaviour can produce through the real runtime. */
export const UNREACHABLE_PROMPT: Record<string, string> = {
  'prompt.requesting|OPERATION_COMPLETED|0': EARLY_PROMPT,
  'prompt.requesting|OPERATION_COMPLETED|1': EARLY_PROMPT,
  'prompt.requesting|OPERATION_COMPLETED|2': EARLY_PROMPT,
};
