/**
 * zod schemas for the Graph calls API payloads we send and receive.
 * Requests are strict (a bad record option is caught before any request);
 * responses and notifications are lenient, because field shapes vary in the
 * wild (string codes, capitalised enums, legacy names, arrays), and unknown
 * fields or resource types are kept rather than rejected.
 */
import { z } from 'zod';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUT_SECONDS, type RecordLimits } from './limits.js';

// ---------- shared pieces ----------

/** Any 8-4-4-4-12 hex id (Graph ids are not always RFC-4122 UUIDs). */
export const GraphId = z.guid();

/** Map `value` onto one of `known` ignoring case; unknown values come back as-is. */
function canonical<T extends string>(known: readonly T[]) {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  return (value: string): T | (string & {}) => byLower.get(value.toLowerCase()) ?? value;
}

/** A number, or a numeric string as some payloads send (`"200"`). */
const NumberLike = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

export const ResultInfoSchema = z
  .object({
    code: NumberLike.optional(),
    subcode: NumberLike.optional(),
    message: z.string().nullish(),
  })
  .loose();
export type ResultInfo = z.infer<typeof ResultInfoSchema>;

export const OPERATION_STATUSES = ['notStarted', 'running', 'completed', 'failed'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export const OperationStatusSchema = z.string().transform(canonical(OPERATION_STATUSES));

export const COMPLETION_REASONS = [
  'operationCanceled',
  'stopToneDetected',
  'maxRecordDurationReached',
  'initialSilenceTimeout',
  'maxSilenceTimeout',
  'playPromptFailed',
  'playBeepFailed',
  'mediaReceiveTimeout',
  'unspecifiedError',
  'none',
] as const;
export type RecordCompletionReason = (typeof COMPLETION_REASONS)[number];
export const CompletionReasonSchema = z.string().transform(canonical(COMPLETION_REASONS));

export const CALL_STATES = [
  'incoming',
  'establishing',
  'ringing',
  'established',
  'hold',
  'transferring',
  'transferAccepted',
  'redirecting',
  'terminating',
  'terminated',
] as const;
export type CallState = (typeof CALL_STATES)[number];
export const CallStateSchema = z.string().transform(canonical(CALL_STATES));

// ---------- requests ----------

export const STOP_TONES = [
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '*',
  '#',
  'A',
  'B',
  'C',
  'D',
] as const;

export const MediaInfoSchema = z.object({
  uri: z.url(),
  resourceId: z.string().max(256).optional(),
});

export const MediaPromptSchema = z.object({
  '@odata.type': z.literal('#microsoft.graph.mediaPrompt').default('#microsoft.graph.mediaPrompt'),
  mediaInfo: MediaInfoSchema,
});
export type MediaPrompt = z.output<typeof MediaPromptSchema>;

/** Record options schema for a given set of limits (bounds are never written twice). */
export function recordOptionsSchema(limits: RecordLimits = DEFAULT_LIMITS) {
  const seconds = z.int().min(1).max(limits.maxSeconds).default(DEFAULT_TIMEOUT_SECONDS);
  return z
    .object({
      prompts: z.array(MediaPromptSchema).max(limits.maxPrompts).optional(),
      bargeInAllowed: z.boolean().default(false),
      initialSilenceTimeoutInSeconds: seconds,
      maxSilenceTimeoutInSeconds: seconds,
      maxRecordDurationInSeconds: seconds,
      playBeep: z.boolean().default(true),
      stopTones: z.array(z.enum(STOP_TONES)).max(STOP_TONES.length).optional(),
      clientContext: z.string().min(1).max(limits.maxClientContext).optional(),
    })
    .strict();
}
export const RecordOptionsSchema = recordOptionsSchema();
/** What a caller passes (defaults optional). */
export type RecordOptionsInput = z.input<typeof RecordOptionsSchema>;
/** After validation: defaults applied. */
export type RecordOptions = z.output<typeof RecordOptionsSchema>;

export const CancelMediaProcessingSchema = z
  .object({ clientContext: z.string().max(256).optional() })
  .strict();

// ---------- resources ----------

const emptyToNull = (v: unknown) => (v === '' ? null : v);
const OptionalText = z.preprocess(emptyToNull, z.string().nullish());

/**
 * recordOperation as Graph sends it (POST response or completion notification).
 * Legacy names `recordResourceLocation`/`recordResourceAccessToken` are mapped
 * to the current ones; empty strings (the cancellation shape) become null.
 */
export const RecordOperationSchema = z
  .object({
    '@odata.type': z.literal('#microsoft.graph.recordOperation'),
    id: z.string().min(1).max(256),
    clientContext: z.string().nullish(),
    status: OperationStatusSchema,
    resultInfo: ResultInfoSchema.nullish(),
    recordingLocation: OptionalText,
    recordingAccessToken: OptionalText,
    recordResourceLocation: OptionalText,
    recordResourceAccessToken: OptionalText,
    completionReason: z.preprocess(emptyToNull, CompletionReasonSchema.nullish()),
  })
  .loose()
  .transform(({ recordResourceLocation, recordResourceAccessToken, ...op }) => ({
    ...op,
    recordingLocation: op.recordingLocation ?? recordResourceLocation ?? null,
    recordingAccessToken: op.recordingAccessToken ?? recordResourceAccessToken ?? null,
  }));
export type RecordOperation = z.output<typeof RecordOperationSchema>;

/** Any other operation (playPrompt, cancelMediaProcessing, ...). */
export const CommsOperationSchema = z
  .object({
    '@odata.type': z.string().regex(/Operation$/i),
    id: z.string().min(1).max(256),
    clientContext: z.string().nullish(),
    status: OperationStatusSchema,
    resultInfo: ResultInfoSchema.nullish(),
  })
  .loose();
export type CommsOperation = z.output<typeof CommsOperationSchema>;

export const CallSchema = z
  .object({
    '@odata.type': z.literal('#microsoft.graph.call'),
    id: z.string().min(1).max(256).optional(),
    state: CallStateSchema.optional(),
    resultInfo: ResultInfoSchema.nullish(),
    callbackUri: z.string().nullish(),
  })
  .loose();
export type Call = z.output<typeof CallSchema>;

const RECORD_TYPE = '#microsoft.graph.recordOperation';
const CALL_TYPE = '#microsoft.graph.call';
const RECORD_LOWER = RECORD_TYPE.toLowerCase();
const CALL_LOWER = CALL_TYPE.toLowerCase();

const CallResource = CallSchema.transform((data) => ({ kind: 'call' as const, data }));
const RecordResource = RecordOperationSchema.transform((data) => ({
  kind: 'recordOperation' as const,
  data,
}));
const CommsOperationResource = CommsOperationSchema.transform((data) => ({
  kind: 'commsOperation' as const,
  data,
}));
const UnknownResource = z
  .object({ '@odata.type': z.string() })
  .loose()
  .transform((data) => ({ kind: 'unknown' as const, data }));
type ResourceMember =
  | typeof CallResource
  | typeof RecordResource
  | typeof CommsOperationResource
  | typeof UnknownResource;

/**
 * The one schema a resource's `@odata.type` selects: a lookup, not a union
 * that tries (and builds errors for) each member in turn. Exact known types
 * must be valid; a known type in other letter case is refused (undefined), so
 * a miscased completion is never silently kept as unknown; other
 * `...operation` types are commsOperations, anything else is kept as unknown.
 */
export function resourceMemberFor(type: string): ResourceMember | undefined {
  if (type === CALL_TYPE) return CallResource;
  if (type === RECORD_TYPE) return RecordResource;
  const lower = type.toLowerCase();
  if (lower === CALL_LOWER || lower === RECORD_LOWER) return undefined;
  return lower.endsWith('operation') ? CommsOperationResource : UnknownResource;
}

/**
 * One resourceData item, discriminated on `@odata.type`. Known types must be
 * valid; resources of other types are kept as `unknownResource`.
 */
export const ResourceDataSchema = z
  .object({ '@odata.type': z.string().max(256) })
  .loose()
  .transform((resource, ctx): z.output<ResourceMember> => {
    const member = resourceMemberFor(resource['@odata.type']);
    if (!member) {
      ctx.issues.push({
        code: 'custom',
        message: 'a known @odata.type must be spelt exactly',
        path: ['@odata.type'],
        input: resource,
      });
      return z.NEVER;
    }
    const parsed = member.safeParse(resource);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: undefined });
    return z.NEVER;
  });
export type ResourceData = z.output<typeof ResourceDataSchema>;

export const CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const CommsNotificationSchema = z
  .object({
    '@odata.type': z.string().optional(),
    changeType: z.string().transform(canonical(CHANGE_TYPES)).pipe(z.enum(CHANGE_TYPES)),
    resourceUrl: z.string().max(2048).optional(),
    resource: z.string().max(2048).optional(),
    // resourceData arrives as an object or an array of objects; always an array here.
    resourceData: z
      .union([ResourceDataSchema, z.array(ResourceDataSchema).max(100)])
      .optional()
      .transform((d) => (d === undefined ? [] : Array.isArray(d) ? d : [d])),
  })
  .loose()
  .refine((n) => n.resourceUrl !== undefined || n.resource !== undefined, {
    message: 'resourceUrl or resource is required',
    path: ['resourceUrl'],
  });
export type CommsNotification = z.output<typeof CommsNotificationSchema>;

export const CommsNotificationsSchema = z
  .object({
    '@odata.type': z.string().optional(),
    value: z.array(CommsNotificationSchema).min(1).max(1000),
  })
  .loose();
export type CommsNotifications = z.output<typeof CommsNotificationsSchema>;

// ---------- errors ----------

const InnerErrorSchema = z.record(z.string(), z.unknown());

/** `{ error: { code, message, innerError | innererror } }`; codes may be numeric strings. */
export const GraphErrorBodySchema = z
  .object({
    error: z
      .object({
        code: z.union([z.string(), z.number().transform(String)]),
        message: z.string().optional().default(''),
        innerError: InnerErrorSchema.optional(),
        innererror: InnerErrorSchema.optional(),
      })
      .loose(),
  })
  .loose();
export type GraphErrorBody = z.output<typeof GraphErrorBodySchema>;
