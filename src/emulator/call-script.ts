/**
 * The parts of a caller script about setting a call up and what happens in
 * it besides recording: how an offered call waits for the bot's decision,
 * how an answer establishes, who picks up a redirect, how the callee of a
 * placed call behaves, how long prompts play, and which keys the caller
 * presses. Codes marked "emulator's choice" are not documented by Graph.
 */
import { z } from 'zod';

/** The same shape as caller-script's ResultInfoValue (kept here so this file imports nothing of the emulator). */
export interface ResultInfoValue {
  code: number;
  subcode: number;
  message: string;
}

const seconds = z
  .number()
  .finite()
  .min(0)
  .max(24 * 3600);

const ResultInfoInput = z.object({ code: z.int(), subcode: z.int(), message: z.string().max(500) }).strict();

export const SETUP_RESULTS = {
  /** The bot let an offer pass its decision deadline (call-delete.md: "Callee could not be reached"). */
  offerTimedOut: { code: 480, subcode: 10076, message: 'Callee could not be reached.' },
  /** Placed call, nobody picked up before the ring timeout (call-delete.md). */
  noAnswer: {
    code: 408,
    subcode: 10057,
    message: 'Call timed out due to no signaling from callee endpoints.',
  },
  /** Placed call to nobody reachable (call-delete.md). */
  unreachable: { code: 480, subcode: 10037, message: 'No callee endpoints were found.' },
  /** Placed call declined: emulator's choice (Graph documents no code for it). */
  declined: { code: 603, subcode: 0, message: 'Call declined by the callee.' },
  /** The callee of a placed call hangs up (call-delete.md: other participant in a peer-to-peer call). */
  calleeHungUp: {
    code: 200,
    subcode: 4521,
    message: 'Call ended by the other participant in peer-to-peer call.',
  },
} as const satisfies Record<string, ResultInfoValue>;

/** An offered call (emulator.ring): the deadline, duplicates and re-offers. */
export interface OfferScript {
  /** Seconds the bot has to answer, reject or redirect (Graph: 15; 5 for policy-based recording). */
  decisionSeconds?: number;
  /** Send the `created` notification twice. */
  duplicate?: boolean;
  /** After the deadline passes unanswered, offer the call again this many times, each with a new call id. */
  reoffers?: number;
  /** resultInfo of the `deleted` that ends an offer left unanswered (default 480/10076). */
  timeoutResult?: ResultInfoValue;
}

/** What follows an answer. */
export interface EstablishScript {
  /** Seconds from the answer to the first state notification (default 0). */
  afterSeconds?: number;
  /** Graph documents both orders; default `establishingFirst`. */
  order?: 'establishingFirst' | 'establishedFirst';
  /** Seconds after `established` until `mediaState.audio` turns active (default 0). */
  mediaActiveAfterSeconds?: number;
}

/** Who picks up a redirected call. */
export interface RedirectScript {
  /** `answered` (default): a target picks up; `notAnswered`: nobody does before the redirect's timeout. */
  outcome?: 'answered' | 'notAnswered';
  /** Seconds until the target picks up (default 2). */
  afterSeconds?: number;
  /** resultInfo when nobody picks up (emulator's choice, default 408/10057). */
  resultInfo?: ResultInfoValue;
}

/** The far side of a call the bot places (POST /communications/calls). */
export type CalleeScript =
  | { kind: 'answer'; afterSeconds?: number; hangUpAfterSeconds?: number }
  | { kind: 'decline'; afterSeconds?: number; resultInfo?: ResultInfoValue }
  /** Rings until the ring timeout (the request's ringingTimeoutInSeconds, else `ringSeconds`, default 60). */
  | { kind: 'noAnswer'; ringSeconds?: number; resultInfo?: ResultInfoValue }
  | { kind: 'unreachable'; afterSeconds?: number; resultInfo?: ResultInfoValue };

/** A key the caller presses, `atSeconds` after the call is established. */
export interface KeyPress {
  atSeconds: number;
  /** `0`-`9`, `*`, `#`, `A`-`D`, or Graph's names (`tone5`, `star`, `pound`, `flash`). */
  tone: string;
}

export const DEFAULT_RING_SECONDS = 60;
export const DEFAULT_REDIRECT_PICKUP_SECONDS = 2;
/** Graph's redirect timeout default: 55 s for one target, 60 for several. */
export const redirectTimeoutDefault = (targets: number) => (targets > 1 ? 60 : 55);

const KEY_NAMES: Record<string, string> = { '*': 'star', '#': 'pound' };
for (let d = 0; d <= 9; d++) KEY_NAMES[String(d)] = `tone${d}`;
const GRAPH_TONES = new Set([...Object.values(KEY_NAMES), 'a', 'b', 'c', 'd', 'flash']);

/** The toneInfo name of a key: `5` -> `tone5`, `#` -> `pound`, `A` -> `a`. */
export function toneName(key: string): string | undefined {
  const named = KEY_NAMES[key] ?? key.toLowerCase();
  return GRAPH_TONES.has(named) ? named : undefined;
}

export const KeyPressSchema = z
  .object({
    atSeconds: seconds,
    tone: z.string().refine((t) => toneName(t) !== undefined, 'unknown tone'),
  })
  .strict();

export const SetupScriptFields = {
  offer: z
    .object({
      decisionSeconds: seconds.optional(),
      duplicate: z.boolean().optional(),
      reoffers: z.int().min(0).max(10).optional(),
      timeoutResult: ResultInfoInput.optional(),
    })
    .strict()
    .optional(),
  establish: z
    .object({
      afterSeconds: seconds.optional(),
      order: z.enum(['establishingFirst', 'establishedFirst']).optional(),
      mediaActiveAfterSeconds: seconds.optional(),
    })
    .strict()
    .optional(),
  redirect: z
    .object({
      outcome: z.enum(['answered', 'notAnswered']).optional(),
      afterSeconds: seconds.optional(),
      resultInfo: ResultInfoInput.optional(),
    })
    .strict()
    .optional(),
  callee: z
    .discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('answer'),
          afterSeconds: seconds.optional(),
          hangUpAfterSeconds: seconds.optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('decline'),
          afterSeconds: seconds.optional(),
          resultInfo: ResultInfoInput.optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('noAnswer'),
          ringSeconds: seconds.optional(),
          resultInfo: ResultInfoInput.optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('unreachable'),
          afterSeconds: seconds.optional(),
          resultInfo: ResultInfoInput.optional(),
        })
        .strict(),
    ])
    .optional(),
  /** Seconds each playPrompt prompt plays, by uri (the others: promptSeconds). */
  promptSecondsByUri: z.record(z.string().max(2048), seconds).optional(),
  keys: z.array(KeyPressSchema).max(1000).optional(),
};

export interface SetupScript {
  offer?: OfferScript;
  establish?: EstablishScript;
  redirect?: RedirectScript;
  callee?: CalleeScript;
  promptSecondsByUri?: Record<string, number>;
  keys?: KeyPress[];
}
