/**
 * Transitions no emulator behaviour can produce through the real runtime,
 * with the reason. The pure-model suites (events: 'all') cover them, and
 * test/machines exercises them with fakes.
 */
export const UNREACHABLE_CALL: Record<string, string> = {
  'call|xstate.error.actor.*|0':
    'a record child that crashes: record children end only in final states (every invoke has onError, canSpawnRecord rejects a bad policy before spawning); test/machines crashes one with a fake',
};

export const UNREACHABLE_RECORD: Record<string, string> = {
  'record.requesting|xstate.error.actor.startRecord|1':
    'a completion that overtakes a record POST which then times out: the emulator answers the POST right after delivering an early completion, and a POST held past the timeout starts its operation only then; test/machines covers it',
  'record.requesting|xstate.error.actor.startRecord|2':
    'the same with a failed completion (see above); test/machines covers it',
  'record.holdingClip|xstate.error.actor.clipGuard|0':
    "the clip guard failing to start: the runtime's guard is a callback that cannot throw on start; test/machines covers a failing one",
};
