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

const INTEGER = /^-?\d+$/;

/**
 * A number, or a numeric string as some payloads send (`"200"`). A number must
 * be finite (JSON.parse makes 1e400 Infinity) and a string must convert
 * exactly, as a safe integer (400 digits would become Infinity too). One
 * transform rather than a union, so a refusal says which rule it broke.
 */
const NumberLike = z.unknown().transform((v, ctx): number => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && INTEGER.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  const message =
    typeof v === 'number'
      ? 'number out of range'
      : typeof v === 'string' && INTEGER.test(v)
        ? 'numeric string out of range (not a safe integer)'
        : 'expected a number or an integer string';
  ctx.issues.push({ code: 'custom', message, input: undefined });
  return z.NEVER;
});

export const ResultInfoSchema = z
  .object({
    code: NumberLike.optional(),
    subcode: NumberLike.optional(),
    /** Spelling seen in the field (call-transfer examples); read and coerced like `subcode`. */
    subCode: NumberLike.optional(),
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

/** A known `@odata.type` in any letter case, read as its canonical spelling. */
const odataType = <T extends string>(type: T) => {
  const lower = type.toLowerCase();
  return z
    .string()
    .refine((v) => v.toLowerCase() === lower, { message: `expected ${type}` })
    .transform((): T => type);
};

/**
 * recordOperation as Graph sends it (POST response or completion notification).
 * Legacy names `recordResourceLocation`/`recordResourceAccessToken` are mapped
 * to the current ones; empty strings (the cancellation shape) become null.
 */
export const RecordOperationSchema = z
  .object({
    '@odata.type': odataType('#microsoft.graph.recordOperation'),
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
    '@odata.type': odataType('#microsoft.graph.call'),
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
 * that tries (and builds errors for) each member in turn. Known types are
 * matched in any letter case (`#microsoft.graph.RecordOperation` is a
 * recordOperation, never silently an unknown resource) and must be valid;
 * other `...operation` types are commsOperations, anything else is kept as unknown.
 */
export function resourceMemberFor(type: string): ResourceMember {
  if (type === CALL_TYPE) return CallResource;
  if (type === RECORD_TYPE) return RecordResource;
  const lower = type.toLowerCase();
  if (lower === CALL_LOWER) return CallResource;
  if (lower === RECORD_LOWER) return RecordResource;
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
    // resourceData arrives as an object or an array of objects; always an array here. Wrapped
    // before validation (not a union), so an issue names its field (`resourceData.0.status`).
    resourceData: z.preprocess(
      (d) => (d === undefined ? [] : Array.isArray(d) ? d : [d]),
      z.array(ResourceDataSchema).max(100),
    ),
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

/**
 * The envelope alone, for per-item reading: one malformed item must not cost
 * the valid ones beside it, so each item of `value` is checked on its own
 * (CommsNotificationSchema) and only a broken envelope refuses the body.
 */
export const CommsNotificationsEnvelopeSchema = z
  .object({
    '@odata.type': z.string().optional(),
    value: z.array(z.unknown()).min(1).max(1000),
  })
  .loose();

// ---------- errors ----------

export { type GraphErrorBody, GraphErrorBodySchema } from './errors.js';
