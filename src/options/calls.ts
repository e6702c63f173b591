/**
 * The options of the call API (`answer`, `reject`, `redirect`, `placeCall`,
 * `playPrompt`, and what `onIncomingCall` returns), checked before any
 * request and thrown as OptionsError naming the path. Bounds come from
 * src/graph/call-requests.ts (Graph's documented ones, written once).
 */
import { z } from 'zod';
import {
  CALL_LIMITS,
  IdentitySetInputSchema,
  InvitationTargetSchema,
  REJECT_REASONS,
} from '../graph/call-requests.js';
import { MediaInfoSchema } from '../graph/schemas.js';
import type { MediaInfoJson, ParticipantJson } from '../machines/call/io.js';
import { parseOptions } from './error.js';
import { checkCallPolicy } from './policy.js';
import { nonEmptyString, policyObject } from './shapes.js';

const callIdSchema = nonEmptyString('the call id (a non-empty string)');

/** A prompt or a prefetched medium: a WAV URL, or `{ uri, resourceId? }`. */
const mediaSchema = z.union([z.url(), MediaInfoSchema.strict()], {
  error: 'must be a WAV URL or { uri, resourceId? }',
});
const mediaList = z.array(mediaSchema, { error: 'must be an array of WAV URLs or { uri, resourceId? }' });

const targetsSchema = z
  .array(InvitationTargetSchema, {
    error: 'must be an array of targets such as { identity: { user: { id } } }',
  })
  .min(CALL_LIMITS.minRedirectTargets, {
    error: `must hold ${CALL_LIMITS.minRedirectTargets} target or more`,
  })
  .max(CALL_LIMITS.maxRedirectTargets, {
    error: `must hold at most ${CALL_LIMITS.maxRedirectTargets} targets (Graph's redirect limit)`,
  });

const redirectTimeoutSchema = z
  .int({ error: 'must be whole seconds' })
  .min(CALL_LIMITS.minRedirectTimeout, {
    error: `must be ${CALL_LIMITS.minRedirectTimeout}..${CALL_LIMITS.maxRedirectTimeout} seconds`,
  })
  .max(CALL_LIMITS.maxRedirectTimeout, {
    error: `must be ${CALL_LIMITS.minRedirectTimeout}..${CALL_LIMITS.maxRedirectTimeout} seconds`,
  });

const rejectReasonSchema = z.enum(REJECT_REASONS, { error: "must be 'none', 'busy' or 'forbidden'" });

const answerSchema = z
  .object({ preFetchMedia: mediaList.max(100).optional() }, { error: 'must be { preFetchMedia? }' })
  .strict();

export interface AnswerOptions {
  /** Prompts Graph fetches while the call is set up (WAV, mono, 16-bit, 16 kHz). */
  preFetchMedia?: Array<string | MediaInfoJson>;
}

export interface RedirectDecision {
  targets: ParticipantJson[];
  /** Seconds the targets ring, 15..90 (Graph: 55 for one target, 60 for several). */
  timeout?: number;
}

/** What `onIncomingCall` returns (or resolves to). */
export type IncomingDecision =
  | { answer: AnswerOptions }
  | { reject: 'none' | 'busy' | 'forbidden' }
  | { redirect: RedirectDecision };

/** What `onIncomingCall` is told about an offered call (plain JSON). */
export interface IncomingCall {
  callId: string;
  /** The caller (`identity.user`, `identity.phone`, ...), as Graph sent it. */
  caller?: ParticipantJson;
  targets: ParticipantJson[];
  tenantId?: string;
  callChainId?: string;
  /** A policy-based recording invite: Graph waits 5 s, the runtime decides within `recordingDecisionTimeoutMs`. */
  policyBasedRecording: boolean;
  /** Clock time at which the runtime rejects the offer if nobody decided. */
  decideBy: number;
}

export type OnIncomingCall = (call: IncomingCall) => IncomingDecision | Promise<IncomingDecision>;

const DECISION =
  "must be { answer: { preFetchMedia? } }, { reject: 'busy' | 'forbidden' | 'none' } or { redirect: { targets, timeout? } }";
const decisionParts = {
  answer: answerSchema,
  reject: rejectReasonSchema,
  redirect: z
    .object(
      { targets: targetsSchema, timeout: redirectTimeoutSchema.optional() },
      { error: 'must be { targets, timeout? }' },
    )
    .strict(),
};
const oneKey = z.custom<Record<string, unknown>>(
  (v) => !!v && typeof v === 'object' && Object.keys(v).length === 1 && Object.keys(v)[0]! in decisionParts,
  { error: DECISION },
);

export const toMediaInfo = (m: string | MediaInfoJson): MediaInfoJson =>
  typeof m === 'string' ? { uri: m } : m;

export function checkAnswer(callId: unknown, options: unknown): AnswerOptions {
  parseOptions('answer', callIdSchema, callId, 'callId');
  return parseOptions('answer', answerSchema, options ?? {}, 'options') as AnswerOptions;
}

export function checkReject(callId: unknown, reason: unknown): 'none' | 'busy' | 'forbidden' {
  parseOptions('reject', callIdSchema, callId, 'callId');
  return parseOptions('reject', rejectReasonSchema, reason ?? 'none', 'reason');
}

export function checkRedirect(callId: unknown, targets: unknown, timeout: unknown): void {
  parseOptions('redirect', callIdSchema, callId, 'callId');
  parseOptions('redirect', targetsSchema, targets, 'targets');
  if (timeout !== undefined) parseOptions('redirect', redirectTimeoutSchema, timeout, 'timeout');
}

/** A decision of `onIncomingCall`; throws OptionsError (where: `onIncomingCall`). */
export function checkDecision(decision: unknown): IncomingDecision {
  const d = parseOptions('onIncomingCall', oneKey, decision, 'result');
  const [key, value] = Object.entries(d)[0] as [keyof typeof decisionParts, unknown];
  parseOptions('onIncomingCall', decisionParts[key], value, `result.${key}`);
  return decision as IncomingDecision;
}

export interface PlaceCallOptions {
  targets: ParticipantJson[];
  /** PSTN: `{ identity: { applicationInstance: { id } } }` with a top-level tenantId. */
  source?: ParticipantJson;
  tenantId?: string;
  preFetchMedia?: Array<string | MediaInfoJson>;
  /** This call's timing rules on top of the runtime's `callPolicy` (ringTimeoutMs, ...). */
  policy?: Record<string, unknown>;
}

const placeSchema = z
  .object(
    {
      targets: z
        .array(InvitationTargetSchema, {
          error: 'must be an array of targets such as { identity: { user: { id } } }',
        })
        .min(1, { error: 'must hold 1 target or more' })
        .max(CALL_LIMITS.maxPlaceTargets, {
          error: `must hold at most ${CALL_LIMITS.maxPlaceTargets} targets`,
        }),
      source: z.object({ identity: IdentitySetInputSchema }).strict().optional(),
      tenantId: z.string().min(1).max(64).optional(),
      preFetchMedia: mediaList.max(100).optional(),
      policy: policyObject('a call policy').optional(),
    },
    { error: 'must be { targets, source?, tenantId?, preFetchMedia?, policy? }' },
  )
  .strict()
  .superRefine((o, ctx) => {
    // Graph's rule for PSTN targets (the Graph client checks it too; here it is an OptionsError).
    if (!o.targets.some((t) => t.identity.phone)) return;
    if (!o.source?.identity.applicationInstance)
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message:
          "is required for a phone target: { identity: { applicationInstance: { id: '<bot instance id>' } } }",
      });
    else if (!o.tenantId)
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'is required for a phone target' });
  });

export function checkPlaceCall(options: unknown, runtimePolicy: object | undefined): PlaceCallOptions {
  const o = parseOptions('placeCall', placeSchema, options, 'options');
  if (o.policy !== undefined)
    checkCallPolicy('placeCall', runtimePolicy, { prefix: 'options.policy', policy: o.policy as object });
  return options as PlaceCallOptions;
}

const promptsSchema = z
  .array(mediaSchema, { error: 'must be an array of WAV URLs or { uri, resourceId? }' })
  .min(CALL_LIMITS.minPrompts, {
    error: `must hold ${CALL_LIMITS.minPrompts}..${CALL_LIMITS.maxPrompts} prompts`,
  })
  .max(CALL_LIMITS.maxPrompts, {
    error: `must hold ${CALL_LIMITS.minPrompts}..${CALL_LIMITS.maxPrompts} prompts`,
  });

const promptOptionsSchema = z
  .object(
    {
      loop: z.boolean().optional(),
      clientContext: z
        .string()
        .min(1)
        .max(CALL_LIMITS.maxClientContext, {
          error: `must be at most ${CALL_LIMITS.maxClientContext} characters`,
        })
        .optional(),
    },
    { error: 'must be { loop?, clientContext? }' },
  )
  .strict();

export interface PlayPromptOptions {
  /** beta only: play until canceled (Graph sends no completion for it). */
  loop?: boolean;
  clientContext?: string;
}

export function checkPlayPrompt(callId: unknown, prompts: unknown, options: unknown): MediaInfoJson[] {
  parseOptions('playPrompt', callIdSchema, callId, 'callId');
  const list = parseOptions('playPrompt', promptsSchema, prompts, 'prompts');
  parseOptions('playPrompt', promptOptionsSchema, options ?? {}, 'options');
  return list.map(toMediaInfo);
}
