/**
 * The one place the record limits live. The beta `call: record` page this
 * project was specified from allows 300 s per timeout (a 5-minute clip); the
 * current v1.0 and beta pages say 120 s (2 minutes, "reduced from 5 minutes").
 * Both the client-side schema and the emulator read these values.
 */
export interface RecordLimits {
  /** Upper bound of initialSilence/maxSilence/maxRecordDuration, in seconds. */
  maxSeconds: number;
  /** Prompts allowed per record request. */
  maxPrompts: number;
  /** clientContext length limit. */
  maxClientContext: number;
}

/** The specification's limits (beta `record` page): 300 s. The default. */
export const SPEC_LIMITS: RecordLimits = Object.freeze({
  maxSeconds: 300,
  maxPrompts: 1,
  maxClientContext: 256,
});

/** Today's service (v1.0 and beta docs): 120 s. */
export const CURRENT_SERVICE_LIMITS: RecordLimits = Object.freeze({ ...SPEC_LIMITS, maxSeconds: 120 });

export const DEFAULT_LIMITS = SPEC_LIMITS;

/** Default of each record timeout, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 5;
