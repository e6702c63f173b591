/**
 * The timing rules the machines follow, as plain JSON in their context so a
 * persisted call keeps them. Defaults follow Graph: keepAlive every 15 min,
 * at least one success within 45 min.
 */
import { z } from 'zod';

const MIN = 60_000;

export interface CallPolicy {
  /** Wait after a successful keepAlive before the next (Graph: 15..45 min, recommended 15). */
  keepAliveIntervalMs: number;
  /** Graph ends a call with no successful keepAlive for this long (45 min). */
  keepAliveDeadlineMs: number;
  /** First retry wait after a transient failure without Retry-After. */
  retryBaseMs: number;
  /** Longest retry wait. */
  retryMaxMs: number;
  /** The last retry goes out at least this long before the deadline. */
  finalRetryMarginMs: number;
  /** How long an ending call waits for its recordings to finish downloading, processing and deleting. */
  drainTimeoutMs: number;
  /** An offered call is rejected when the bot has not decided within this (Graph allows 15 s). */
  decisionTimeoutMs: number;
  /** The same for a policy-based recording offer (Graph allows 5 s). */
  recordingDecisionTimeoutMs: number;
  /** After the answer's 202, how long `established` may take before the bot hangs up. */
  establishTimeoutMs: number;
  /** A placed call that is not established after this is hung up (Graph rings at most 115 s). */
  ringTimeoutMs: number;
  /**
   * Allow intervals outside Graph's 15..45 min (demos and tests on the wall
   * clock). Never set it against the real service.
   */
  allowCustomIntervals: boolean;
}

export const DEFAULT_CALL_POLICY: CallPolicy = Object.freeze({
  keepAliveIntervalMs: 15 * MIN,
  keepAliveDeadlineMs: 45 * MIN,
  retryBaseMs: 5_000,
  retryMaxMs: 5 * MIN,
  finalRetryMarginMs: 30_000,
  drainTimeoutMs: 10 * MIN,
  decisionTimeoutMs: 10_000,
  recordingDecisionTimeoutMs: 4_000,
  establishTimeoutMs: 30_000,
  ringTimeoutMs: 120_000,
  allowCustomIntervals: false,
});

const positive = z.number().int().positive();

/** Exported so options are checked where they are given (src/options). */
export const CallPolicySchema = z
  .object({
    keepAliveIntervalMs: positive,
    keepAliveDeadlineMs: positive,
    retryBaseMs: positive,
    retryMaxMs: positive,
    finalRetryMarginMs: z.number().int().min(0),
    drainTimeoutMs: positive,
    // Graph's own windows (15 s, 5 s) are hard: a local decision must come before them.
    decisionTimeoutMs: positive.max(14_000),
    recordingDecisionTimeoutMs: positive.max(4_500),
    establishTimeoutMs: positive,
    ringTimeoutMs: positive,
    allowCustomIntervals: z.boolean(),
  })
  .strict()
  .refine(
    (p) => p.allowCustomIntervals || (p.keepAliveIntervalMs >= 15 * MIN && p.keepAliveIntervalMs <= 45 * MIN),
    {
      message: 'keepAliveIntervalMs must be within 15..45 minutes (Graph keepAlive rule)',
      path: ['keepAliveIntervalMs'],
    },
  )
  .refine((p) => p.allowCustomIntervals || p.keepAliveDeadlineMs === 45 * MIN, {
    message: 'keepAliveDeadlineMs is fixed by Graph at 45 minutes',
    path: ['keepAliveDeadlineMs'],
  })
  .refine((p) => p.keepAliveIntervalMs < p.keepAliveDeadlineMs, {
    message: 'keepAliveIntervalMs must be shorter than keepAliveDeadlineMs',
    path: ['keepAliveIntervalMs'],
  });

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/**
 * A resolver for one policy schema: defaults, the caller's partial on top, zod's check. Calls tracked with
 * the same settings share one frozen policy (about 0.2 KB less per call, no re-parse).
 */
function policyResolver<T extends object>(schema: z.ZodType<T>, defaults: T, what: string) {
  let last: { merged: Record<string, unknown>; policy: T } | undefined;
  return (partial: Partial<T> | undefined): T => {
    // An option given as undefined keeps its default.
    const merged: Record<string, unknown> = Object.fromEntries(Object.entries(defaults));
    for (const [k, v] of Object.entries(partial ?? {})) if (v !== undefined) merged[k] = v;
    if (last && sameValues(last.merged, merged)) return last.policy;
    const r = schema.safeParse(merged);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new PolicyError(`invalid ${what}: ${i?.path.join('.') || '(root)'}: ${i?.message}`);
    }
    const policy = Object.freeze(r.data);
    last = { merged, policy };
    return policy;
  };
}

function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.is(a[k], b[k]) && Object.hasOwn(b, k));
}

const callPolicyResolver = policyResolver(CallPolicySchema, DEFAULT_CALL_POLICY, 'call policy');
export function resolveCallPolicy(partial?: Partial<CallPolicy>): CallPolicy {
  return callPolicyResolver(partial);
}

export interface RecordPolicy {
  /** Assumed prompt length when the record carries a prompt (Graph does not say how long it plays). */
  promptSecondsEstimate: number;
  /** Slack added to the longest possible recording before giving up on the completion notification. */
  completionMarginMs: number;
  /** After the call ends, how long a running record still waits for its completion. */
  callEndGraceMs: number;
  /** The user's clip handler gets this long; then it is aborted and the clip deleted. */
  processingTimeoutMs: number;
  /** First wait before retrying a failed delete (doubles, capped at 60 s). */
  deleteRetryMs: number;
}

export const DEFAULT_RECORD_POLICY: RecordPolicy = Object.freeze({
  promptSecondsEstimate: 30,
  completionMarginMs: 30_000,
  callEndGraceMs: 10_000,
  processingTimeoutMs: 60_000,
  deleteRetryMs: 5_000,
});

export const RecordPolicySchema = z
  .object({
    promptSecondsEstimate: z.number().min(0).max(3600),
    completionMarginMs: z.number().int().min(0),
    callEndGraceMs: z.number().int().min(0),
    processingTimeoutMs: positive,
    deleteRetryMs: positive,
  })
  .strict();

const recordPolicyResolver = policyResolver(RecordPolicySchema, DEFAULT_RECORD_POLICY, 'record policy');
export function resolveRecordPolicy(partial?: Partial<RecordPolicy>): RecordPolicy {
  return recordPolicyResolver(partial);
}

/** Longest a record can run before Graph must have sent its completion. */
export function completionWindowMs(
  options: {
    prompts?: unknown[] | undefined;
    playBeep?: boolean | undefined;
    initialSilenceTimeoutInSeconds?: number | undefined;
    maxSilenceTimeoutInSeconds?: number | undefined;
    maxRecordDurationInSeconds?: number | undefined;
  },
  policy: RecordPolicy,
): number {
  const prompt = options.prompts?.length ? policy.promptSecondsEstimate : 0;
  const beep = options.playBeep === false ? 0 : 1;
  const seconds =
    prompt +
    beep +
    (options.initialSilenceTimeoutInSeconds ?? 5) +
    (options.maxRecordDurationInSeconds ?? 5) +
    (options.maxSilenceTimeoutInSeconds ?? 5);
  return seconds * 1000 + policy.completionMarginMs;
}
