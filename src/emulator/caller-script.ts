/**
 * What the far side of an emulated call does while the bot records, and the
 * pure function that turns it, plus the record options, into a timeline:
 * when the record operation ends, how, how much speech it holds, and whether
 * the caller hangs up. No clock and no I/O here, so every branch is easy to test.
 */
import { z } from 'zod';
import type { RecordCompletionReason, RecordOptions } from '../graph/schemas.js';
import { STOP_TONES } from '../graph/schemas.js';
import { type SetupScript, SetupScriptFields } from './call-script.js';
import { type Variants, VariantsSchema } from './variants.js';

/** What the caller does once recording starts (after prompt and beep). */
export type CallerAction =
  /**
   * Speaks `seconds`, then presses `thenTone` if given. A tone listed in the
   * request's stopTones ends the recording (stopToneDetected); any other tone
   * is ignored and the caller keeps talking to the maximum. Without a tone the
   * caller falls silent, so maxSilenceTimeout ends it. Speaking for at least
   * maxRecordDurationInSeconds ends it at the maximum (maxRecordDurationReached).
   */
  | { kind: 'speak'; seconds: number; thenTone?: string }
  /** Says nothing: initialSilenceTimeout, status failed, no recording. */
  | { kind: 'silent' }
  /**
   * Hangs up `afterSeconds` into the recording, having spoken `speechSeconds`
   * (default: all the time). The call ends with 200/5001. `complete`: the
   * record completes with what was said; `silent`: no completion notification
   * at all (Graph comms-samples issue #376).
   */
  | { kind: 'hangUp'; afterSeconds: number; speechSeconds?: number; mode: 'complete' | 'silent' };

export interface CallerScript extends SetupScript {
  /** Length of a prompt (a record's, or each of a playPrompt's) (default 3 s). */
  promptSeconds?: number;
  /** Length of the beep when playBeep is true (default 1 s). */
  beepSeconds?: number;
  /** The caller's behaviour; an array gives one entry per record request, the last repeating. */
  caller?: CallerAction | CallerAction[];
  /**
   * What a running record does when the call ends another way (bot DELETE,
   * keepAlive expiry, hangUpByCaller): complete with what was said so far, or
   * send nothing. Default `complete`.
   */
  onCallEnd?: 'complete' | 'silent';
  /** Seconds until an outgoing call (POST /communications/calls) is answered (default 0); `callee` says more. */
  answerAfterSeconds?: number;
  /** Notification field variants for this call (merged over the global ones). */
  variants?: Partial<Variants>;
}

export const DEFAULT_PROMPT_SECONDS = 3;
export const DEFAULT_BEEP_SECONDS = 1;
/** Without a script the caller speaks 3 s and falls silent. */
export const DEFAULT_CALLER: CallerAction = { kind: 'speak', seconds: 3 };

const seconds = z
  .number()
  .finite()
  .min(0)
  .max(24 * 3600);

export const CallerActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('speak'), seconds, thenTone: z.enum(STOP_TONES).optional() }).strict(),
  z.object({ kind: z.literal('silent') }).strict(),
  z
    .object({
      kind: z.literal('hangUp'),
      afterSeconds: seconds,
      speechSeconds: seconds.optional(),
      mode: z.enum(['complete', 'silent']),
    })
    .strict(),
]);

export const CallerScriptSchema = z
  .object({
    promptSeconds: seconds.optional(),
    beepSeconds: seconds.optional(),
    caller: z.union([CallerActionSchema, z.array(CallerActionSchema).min(1).max(1000)]).optional(),
    onCallEnd: z.enum(['complete', 'silent']).optional(),
    answerAfterSeconds: seconds.optional(),
    variants: VariantsSchema.partial().optional(),
    ...SetupScriptFields,
  })
  .strict();

/** The action for the `index`-th record request (0-based) of a call. */
export function actionFor(script: CallerScript | undefined, index: number): CallerAction {
  const c = script?.caller;
  if (!c) return DEFAULT_CALLER;
  if (!Array.isArray(c)) return c;
  return c[Math.min(index, c.length - 1)] ?? DEFAULT_CALLER;
}

export interface ResultInfoValue {
  code: number;
  subcode: number;
  message: string;
}

/** How a record operation ends in the emulator (what Graph sends in its completion; not the record machine's `RecordOutcome`). */
export interface EmulatedRecordOutcome {
  status: 'completed' | 'failed';
  completionReason: RecordCompletionReason;
  resultInfo: ResultInfoValue;
  /** Seconds of speech in the clip (the WAV length); no clip when the status is failed. */
  recordedSeconds: number;
}

export interface RecordPlan {
  /** Prompt + beep, before the caller is heard. */
  leadMs: number;
  /** When the operation ends, from the moment it started running. */
  endAfterMs: number;
  /** Undefined: no completion notification is ever sent (silent hang-up). */
  outcome: EmulatedRecordOutcome | undefined;
  /** When the caller hangs up (ends the call), from the moment the operation started running. */
  hangUpAfterMs?: number;
  /** Seconds of speech the caller has produced `ms` after the recording began (for early call ends). */
  speechAt(ms: number): number;
}

// Only 200/8515 and 400/8508 are documented for record operations; the other
// pairs are the emulator's choice, distinct so tests can tell them apart.
const RESULTS = {
  stopToneDetected: { code: 200, subcode: 0, message: 'Action completed, stop tone detected.' },
  maxRecordDurationReached: {
    code: 200,
    subcode: 8515,
    message: 'Action completed, max record duration reached.',
  },
  maxSilenceTimeout: { code: 200, subcode: 0, message: 'Action completed, max silence timeout reached.' },
  initialSilenceTimeout: { code: 408, subcode: 0, message: 'Action failed, initial silence timeout.' },
  hungUp: { code: 200, subcode: 0, message: 'Action completed, the call ended.' },
  hungUpEmpty: {
    code: 410,
    subcode: 0,
    message: 'Action failed, the call ended before anything was recorded.',
  },
  operationCanceled: { code: 400, subcode: 8508, message: 'Action failed, the operation was cancelled.' },
} as const satisfies Record<string, ResultInfoValue>;

export function canceledOutcome(): EmulatedRecordOutcome {
  return {
    status: 'failed',
    completionReason: 'operationCanceled',
    resultInfo: { ...RESULTS.operationCanceled },
    recordedSeconds: 0,
  };
}

/** The record ended because the call ended, with `speech` seconds said so far. */
export function callEndedOutcome(speech: number): EmulatedRecordOutcome {
  return speech > 0
    ? {
        status: 'completed',
        completionReason: 'none',
        resultInfo: { ...RESULTS.hungUp },
        recordedSeconds: speech,
      }
    : {
        status: 'failed',
        completionReason: 'none',
        resultInfo: { ...RESULTS.hungUpEmpty },
        recordedSeconds: 0,
      };
}

const ms = (s: number) => Math.round(s * 1000);

/**
 * The record timeline. Times in the plan count from the moment the operation
 * starts running; the caller's seconds count from the end of the beep (the
 * initial-silence timer starts after the prompt, as Graph documents).
 */
export function planRecord(
  action: CallerAction,
  options: Pick<
    RecordOptions,
    | 'prompts'
    | 'playBeep'
    | 'stopTones'
    | 'initialSilenceTimeoutInSeconds'
    | 'maxSilenceTimeoutInSeconds'
    | 'maxRecordDurationInSeconds'
  >,
  script: Pick<CallerScript, 'promptSeconds' | 'beepSeconds'> = {},
): RecordPlan {
  const lead =
    (options.prompts?.length ? (script.promptSeconds ?? DEFAULT_PROMPT_SECONDS) : 0) +
    (options.playBeep ? (script.beepSeconds ?? DEFAULT_BEEP_SECONDS) : 0);
  const initial = options.initialSilenceTimeoutInSeconds;
  const maxSilence = options.maxSilenceTimeoutInSeconds;
  const max = options.maxRecordDurationInSeconds;
  const stopTones = new Set<string>(options.stopTones ?? []);

  // Seconds the caller would keep talking if nothing stopped the recording.
  const talk =
    action.kind === 'silent'
      ? 0
      : action.kind === 'hangUp'
        ? Math.min(action.speechSeconds ?? action.afterSeconds, action.afterSeconds)
        : action.kind === 'speak' && action.thenTone && !stopTones.has(action.thenTone)
          ? Number.POSITIVE_INFINITY
          : action.seconds;
  const tone = action.kind === 'speak' && action.thenTone && stopTones.has(action.thenTone);

  const natural = ((): { at: number; outcome: EmulatedRecordOutcome } => {
    const done = (at: number, reason: keyof typeof RESULTS, recorded: number) => {
      const r = RESULTS[reason];
      return {
        at,
        outcome: {
          status: r.code < 300 ? ('completed' as const) : ('failed' as const),
          completionReason: reason as RecordCompletionReason,
          resultInfo: { ...r },
          recordedSeconds: r.code < 300 ? recorded : 0,
        },
      };
    };
    if (tone && talk < max) return done(talk, 'stopToneDetected', talk);
    if (talk >= max) return done(max, 'maxRecordDurationReached', max);
    if (talk <= 0) {
      // Nobody speaks: the first timer to run out decides.
      return initial <= max
        ? done(initial, 'initialSilenceTimeout', 0)
        : done(max, 'maxRecordDurationReached', 0);
    }
    if (talk + maxSilence >= max) return done(max, 'maxRecordDurationReached', talk);
    return done(talk + maxSilence, 'maxSilenceTimeout', talk);
  })();

  const speechAt = (atMs: number) => Math.max(0, Math.min(talk, (atMs - ms(lead)) / 1000));

  if (action.kind === 'hangUp' && action.afterSeconds <= natural.at) {
    const at = ms(lead + action.afterSeconds);
    return {
      leadMs: ms(lead),
      endAfterMs: at,
      outcome: action.mode === 'silent' ? undefined : callEndedOutcome(talk),
      hangUpAfterMs: at,
      speechAt,
    };
  }
  return {
    leadMs: ms(lead),
    endAfterMs: ms(lead + natural.at),
    outcome: natural.outcome,
    ...(action.kind === 'hangUp' ? { hangUpAfterMs: ms(lead + action.afterSeconds) } : {}),
    speechAt,
  };
}
