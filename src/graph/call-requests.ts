/**
 * Strict request bodies for call setup and media: answer, reject, redirect,
 * place a call, playPrompt and subscribeToTone. Inputs are plain and short
 * (`{ identity: { user: { id } } }`); the output adds every `@odata.type`
 * Graph needs (a missing `#` once cost bots a 400). Bounds are Graph's
 * documented ones and live here only.
 */
import { z } from 'zod';
import { MediaInfoSchema, MediaPromptSchema } from './schemas.js';

export const CALL_LIMITS = Object.freeze({
  /** clientContext of any operation. */
  maxClientContext: 256,
  /** redirect: more than one target rings them all, the first to pick up wins. */
  minRedirectTargets: 1,
  maxRedirectTargets: 25,
  /** redirect `timeout`, seconds (Graph's default: 55 for one target, 60 for several). */
  minRedirectTimeout: 15,
  maxRedirectTimeout: 90,
  /** playPrompt prompts per request. */
  minPrompts: 1,
  maxPrompts: 20,
  /** beta `ringingTimeoutInSeconds` of an outgoing peer-to-peer call. */
  maxRingingTimeout: 115,
  /** Group calls allow at most 5 VoIP users. */
  maxPlaceTargets: 5,
});

/** The bot must answer, reject or redirect an offered call within this many seconds. */
export const INCOMING_DECISION_SECONDS = 15;

export const REJECT_REASONS = ['none', 'busy', 'forbidden'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const CallbackUri = z
  .string()
  .max(2048)
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'must be an http(s) URL');
const ClientContext = z.string().min(1).max(CALL_LIMITS.maxClientContext);

const identity = (idSchema: z.ZodString) =>
  z
    .object({
      id: idSchema,
      displayName: z.string().max(256).optional(),
      tenantId: z.string().max(64).optional(),
    })
    .strict()
    .transform((i) => ({ '@odata.type': '#microsoft.graph.identity' as const, ...i }));

const AnyId = z.string().min(1).max(256);
/** PSTN numbers in E.164 form. */
const E164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +12345678901');

export const IdentitySetInputSchema = z
  .object({
    user: identity(AnyId).optional(),
    application: identity(AnyId).optional(),
    applicationInstance: identity(AnyId).optional(),
    phone: identity(E164).optional(),
    guest: identity(AnyId).optional(),
  })
  .strict()
  .refine((s) => Object.values(s).some((v) => v !== undefined), 'needs one identity (user, phone, ...)')
  .transform((s) => ({ '@odata.type': '#microsoft.graph.identitySet' as const, ...s }));
export type IdentitySetInput = z.input<typeof IdentitySetInputSchema>;

export const InvitationTargetSchema = z
  .object({
    identity: IdentitySetInputSchema,
    endpointType: z
      .enum(['default', 'voicemail', 'skypeForBusiness', 'skypeForBusinessVoipPhone'])
      .optional(),
  })
  .strict()
  .transform((t) => ({ '@odata.type': '#microsoft.graph.invitationParticipantInfo' as const, ...t }));
export type InvitationTargetInput = z.input<typeof InvitationTargetSchema>;

const ServiceHostedMediaConfig = z
  .object({ preFetchMedia: z.array(MediaInfoSchema.strict()).max(100).optional() })
  .strict()
  .default({})
  .transform((m) => ({ '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' as const, ...m }));

const Modalities = z
  .array(z.enum(['audio', 'video', 'videoBasedScreenSharing']))
  .min(1)
  .max(3)
  .default(['audio']);

export const AnswerRequestSchema = z
  .object({
    callbackUri: CallbackUri.optional(),
    acceptedModalities: Modalities,
    mediaConfig: ServiceHostedMediaConfig,
    callOptions: z
      .object({
        hideBotAfterEscalation: z.boolean().optional(),
        isContentSharingNotificationEnabled: z.boolean().optional(),
      })
      .strict()
      .optional(),
    participantCapacity: z.int().min(1).max(10_000).optional(),
  })
  .strict()
  .transform(({ callOptions, ...a }) => ({
    ...a,
    ...(callOptions
      ? { callOptions: { '@odata.type': '#microsoft.graph.incomingCallOptions', ...callOptions } }
      : {}),
  }));
export type AnswerInput = z.input<typeof AnswerRequestSchema>;

export const RejectRequestSchema = z
  .object({ reason: z.enum(REJECT_REASONS).default('none'), callbackUri: CallbackUri.optional() })
  .strict();
export type RejectInput = z.input<typeof RejectRequestSchema>;

export const RedirectRequestSchema = z
  .object({
    targets: z
      .array(InvitationTargetSchema)
      .min(CALL_LIMITS.minRedirectTargets)
      .max(CALL_LIMITS.maxRedirectTargets),
    timeout: z.int().min(CALL_LIMITS.minRedirectTimeout).max(CALL_LIMITS.maxRedirectTimeout).optional(),
    callbackUri: CallbackUri.optional(),
    /** beta only. */
    maskCallee: z.boolean().optional(),
    /** beta only. */
    maskCaller: z.boolean().optional(),
  })
  .strict();
export type RedirectInput = z.input<typeof RedirectRequestSchema>;

export const PlaceCallRequestSchema = z
  .object({
    callbackUri: CallbackUri,
    targets: z.array(InvitationTargetSchema).min(1).max(CALL_LIMITS.maxPlaceTargets),
    /** Needed for PSTN targets: `{ identity: { applicationInstance: { id } } }`. */
    source: z
      .object({ identity: IdentitySetInputSchema })
      .strict()
      .transform((s) => ({ '@odata.type': '#microsoft.graph.participantInfo' as const, ...s }))
      .optional(),
    tenantId: z.string().min(1).max(64).optional(),
    requestedModalities: Modalities,
    mediaConfig: ServiceHostedMediaConfig,
    callOptions: z
      .object({ isContentSharingNotificationEnabled: z.boolean().optional() })
      .strict()
      .optional(),
    /** beta: ring for at most this long (Graph's maximum 115 s). */
    ringingTimeoutInSeconds: z.int().min(1).max(CALL_LIMITS.maxRingingTimeout).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.targets.some((t) => t.identity.phone)) return;
    if (!c.source?.identity.applicationInstance)
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'identity', 'applicationInstance'],
        message: 'a PSTN target needs the bot’s applicationInstance as source',
      });
    if (!c.tenantId)
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'a PSTN target needs tenantId' });
  })
  .transform(({ callOptions, ...c }) => ({
    '@odata.type': '#microsoft.graph.call' as const,
    ...c,
    ...(callOptions
      ? { callOptions: { '@odata.type': '#microsoft.graph.outgoingCallOptions', ...callOptions } }
      : {}),
  }));
export type PlaceCallInput = z.input<typeof PlaceCallRequestSchema>;

export const PlayPromptRequestSchema = z
  .object({
    prompts: z.array(MediaPromptSchema.strict()).min(CALL_LIMITS.minPrompts).max(CALL_LIMITS.maxPrompts),
    clientContext: ClientContext.optional(),
    /** beta only: play for ever; no completion is ever sent (only cancelMediaProcessing stops it). */
    loop: z.boolean().optional(),
  })
  .strict();
export type PlayPromptInput = z.input<typeof PlayPromptRequestSchema>;

export const SubscribeToToneRequestSchema = z.object({ clientContext: ClientContext.optional() }).strict();
export type SubscribeToToneInput = z.input<typeof SubscribeToToneRequestSchema>;
