/**
 * Lenient readings of what Graph sends about a call's setup and media:
 * the call resource (state, direction, parties, mediaState, toneInfo,
 * answeredBy), identity sets, and the playPrompt and subscribeToTone
 * operations. Unknown fields are kept, enum values are matched ignoring
 * case (unknown ones come through as sent), and codes may be numbers or
 * numeric strings, `subcode` or `subCode` (graph-calls-api.md).
 *
 * The notification readers (schemas.ts `CallSchema`, notifications/hand-parse.ts)
 * keep a call's extra fields untyped; `CallResourceSchema.safeParse(data)`
 * types them when a consumer needs them.
 */
import { z } from 'zod';
import { CALL_STATES, OPERATION_STATUSES, ResultInfoSchema } from './schemas.js';

/** Map a string onto one of `known` ignoring case; unknown values come back as sent. */
export function lenientEnum<T extends string>(known: readonly T[]) {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  return z.string().transform((v): T | (string & {}) => byLower.get(v.toLowerCase()) ?? v);
}

const Int = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d{1,15}$/)
    .transform(Number),
]);

/**
 * resultInfo with both spellings of the subcode: Graph's call-transfer
 * examples write `subCode`. The output always names it `subcode`.
 */
export const CallResultInfoSchema = ResultInfoSchema.transform((r, ctx) => {
  if (r.subcode !== undefined || r.subCode === undefined) return r;
  const { subCode, ...rest } = r;
  const sub = Int.safeParse(subCode);
  if (!sub.success) {
    ctx.issues.push({
      code: 'custom',
      message: 'subCode must be an integer',
      path: ['subCode'],
      input: subCode,
    });
    return z.NEVER;
  }
  return { ...rest, subcode: sub.data };
});
export type CallResultInfo = z.output<typeof CallResultInfoSchema>;

export const IdentitySchema = z
  .object({
    '@odata.type': z.string().optional(),
    id: z.string().nullish(),
    displayName: z.string().nullish(),
    tenantId: z.string().nullish(),
  })
  .loose();

/** The members of an identitySet Graph documents for calls. */
export const IDENTITY_KINDS = [
  'user',
  'application',
  'applicationInstance',
  'phone',
  'guest',
  'device',
  'encrypted',
  'onPremises',
  'acsUser',
  'spoolUser',
  'azureCommunicationServicesUser',
] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export const IdentitySetSchema = z
  .object(Object.fromEntries(IDENTITY_KINDS.map((k) => [k, IdentitySchema.nullish()])))
  .loose() as z.ZodType<
  { [K in IdentityKind]?: z.output<typeof IdentitySchema> | null } & Record<string, unknown>
>;
export type IdentitySet = z.output<typeof IdentitySetSchema>;

export const ParticipantInfoSchema = z
  .object({
    '@odata.type': z.string().optional(),
    identity: IdentitySetSchema.nullish(),
    id: z.string().nullish(),
    region: z.string().nullish(),
    languageId: z.string().nullish(),
  })
  .loose();

export const InvitationParticipantInfoSchema = z
  .object({
    '@odata.type': z.string().optional(),
    identity: IdentitySetSchema.nullish(),
    id: z.string().nullish(),
    endpointType: z.string().nullish(),
    hidden: z.boolean().nullish(),
  })
  .loose();

export const MEDIA_STATES = ['active', 'inactive'] as const;
export const CallMediaStateSchema = z
  .object({ '@odata.type': z.string().optional(), audio: lenientEnum(MEDIA_STATES).nullish() })
  .loose();

/** DTMF names Graph uses in toneInfo. */
export const TONES = [
  'tone0',
  'tone1',
  'tone2',
  'tone3',
  'tone4',
  'tone5',
  'tone6',
  'tone7',
  'tone8',
  'tone9',
  'star',
  'pound',
  'a',
  'b',
  'c',
  'd',
  'flash',
] as const;
export type Tone = (typeof TONES)[number];

/** One key press. Order and dedupe presses by `sequenceId`. */
export const ToneInfoSchema = z
  .object({
    '@odata.type': z.string().optional(),
    sequenceId: Int.nullish(),
    tone: lenientEnum(TONES).nullish(),
  })
  .loose();
export type ToneInfo = z.output<typeof ToneInfoSchema>;

export const CALL_DIRECTIONS = ['incoming', 'outgoing'] as const;

/** The call resource as responses and notifications carry it: every field optional. */
export const CallResourceSchema = z
  .object({
    '@odata.type': z.string().optional(),
    id: z.string().min(1).max(256).optional(),
    state: lenientEnum(CALL_STATES).nullish(),
    direction: lenientEnum(CALL_DIRECTIONS).nullish(),
    callbackUri: z.string().nullish(),
    source: ParticipantInfoSchema.nullish(),
    targets: z.array(InvitationParticipantInfoSchema).max(1000).nullish(),
    tenantId: z.string().nullish(),
    callChainId: z.string().nullish(),
    myParticipantId: z.string().nullish(),
    requestedModalities: z.array(z.string()).max(16).nullish(),
    resultInfo: CallResultInfoSchema.nullish(),
    mediaState: CallMediaStateSchema.nullish(),
    toneInfo: ToneInfoSchema.nullish(),
    answeredBy: ParticipantInfoSchema.nullish(),
    ringingTimeoutInSeconds: Int.nullish(),
  })
  .loose();
export type CallResource = z.output<typeof CallResourceSchema>;

const operation = <T extends string>(type: T) =>
  z
    .object({
      '@odata.type': z
        .string()
        .refine((t) => t.toLowerCase() === type.toLowerCase(), `expected ${type}`)
        .optional(),
      id: z.string().min(1).max(256),
      clientContext: z.string().nullish(),
      status: lenientEnum(OPERATION_STATUSES),
      resultInfo: CallResultInfoSchema.nullish(),
    })
    .loose();

/** beta only; v1.0 documents no completionReason. `unknown` with `completed` has been seen for a success. */
export const PROMPT_COMPLETION_REASONS = [
  'unknown',
  'completedSuccessfully',
  'mediaOperationCanceled',
] as const;

export const PlayPromptOperationSchema = operation('#microsoft.graph.playPromptOperation').extend({
  completionReason: z.preprocess(
    (v) => (v === '' ? null : v),
    lenientEnum(PROMPT_COMPLETION_REASONS).nullish(),
  ),
});
export type PlayPromptOperation = z.output<typeof PlayPromptOperationSchema>;

export const SubscribeToToneOperationSchema = operation('#microsoft.graph.subscribeToToneOperation');
export type SubscribeToToneOperation = z.output<typeof SubscribeToToneOperationSchema>;
