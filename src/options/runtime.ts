/**
 * The options of `createCallRuntime`, `track` and `record`, checked where they
 * are given and before anything starts. Unknown top-level options are not
 * refused (a typo gets a warning), so options added later stay compatible.
 */
import { z } from 'zod';
import { type ReportSink, resolveLog } from '../runtime/report.js';
import { describeValue, OptionsError, parseOptions } from './error.js';
import { checkCallPolicy, checkRecordPolicy } from './policy.js';
import {
  clockSchema,
  fn,
  graphUrlSchema,
  hostListSchema,
  httpSchema,
  limitsSchema,
  nonEmptyString,
  policyObject,
  positiveInt,
  storeSchema,
  tokenSchema,
  withMethods,
} from './shapes.js';

const WHERE = 'createCallRuntime';
const AUTH_REQUIRED = 'is required: `{ appId }` in production, `false` in tests (skips JWT validation)';

const appIdSchema = z.custom<string | string[]>(
  (v) =>
    (typeof v === 'string' && v !== '') ||
    (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '')),
  { error: "must be the bot's app id (a non-empty string, or a non-empty array of them)" },
);

const stringList = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });

const notificationAuthSchema = z
  .object(
    {
      appId: appIdSchema,
      openIdConfigurationUrl: z.url({ error: 'must be a URL' }).optional(),
      issuers: stringList.optional(),
      tenants: stringList.optional(),
    },
    { error: 'must be `{ appId }` (production) or `false` (tests)' },
  )
  .loose();

const tokenKeySchema = z.custom<unknown>((v) => typeof v === 'string' || v instanceof Uint8Array, {
  error: 'must be 32 random bytes (a Uint8Array, or base64/hex text)',
});

const KNOWN = {
  callbackUri: z
    .string({ error: 'must be the http(s) URL Graph posts notifications to' })
    .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), {
      error: 'must be the http(s) URL Graph posts notifications to',
    })
    .optional(),
  onIncomingCall: fn('(call) => decision (or a promise of one)').optional(),
  graphUrl: graphUrlSchema.optional(),
  token: tokenSchema.optional(),
  http: httpSchema.optional(),
  clock: clockSchema.optional(),
  ids: fn('() => string (a fresh id each call)').optional(),
  store: storeSchema.optional(),
  notificationAuth: z.custom<unknown>((v) => v !== undefined, { error: AUTH_REQUIRED }),
  inspect: z
    .custom<unknown>((v) => typeof v === 'function' || (v !== null && typeof v === 'object'), {
      error: 'must be an inspection observer (a function or an object with next())',
    })
    .optional(),
  limits: limitsSchema.optional(),
  insecureRecordingHosts: hostListSchema.optional(),
  recordingHosts: z
    .custom<unknown>((v) => typeof v === 'function' || hostListSchema.safeParse(v).success, {
      error: 'must be an array of hosts or a predicate (host) => boolean',
    })
    .optional(),
  callPolicy: policyObject('call policy').optional(),
  recordPolicy: policyObject('record policy').optional(),
  notificationLimitBytes: positiveInt('a positive integer (bytes)').optional(),
  maxConcurrentDownloads: positiveInt().optional(),
  log: z
    .custom<unknown>((v) => v === false || typeof v === 'function', {
      error: 'must be a function (entry) => void, or false to silence the library',
    })
    .optional(),
  snapshots: withMethods('a SnapshotStore', ['save', 'loadAll', 'delete']).optional(),
  recordingTokenKey: tokenKeySchema.optional(),
  /** Deprecated name of recordingTokenKey. */
  tokenKey: tokenKeySchema.optional(),
  cluster: withMethods('a ClusterAdapter (createRedisCluster())', [
    'attach',
    'forward',
    'claimOrphans',
    'stop',
  ]).optional(),
  onResumedClip: fn('(clip, signal) => result').optional(),
};

const runtimeSchema = z
  .object(KNOWN, { error: 'must be an object: createCallRuntime({ token, notificationAuth, ... })' })
  .loose()
  .superRefine((o, ctx) => {
    if (o.token === undefined && o.http === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message:
          "is required unless `http` is given: a TokenProvider such as staticToken('...') or clientCredentials(credential)",
      });
  });

const NAMES = Object.keys(KNOWN);

/** Closest known option name, for "did you mean". */
function suggest(name: string): string | undefined {
  const lower = name.toLowerCase();
  return NAMES.find((n) => {
    const k = n.toLowerCase();
    return k.startsWith(lower.slice(0, 5)) || lower.startsWith(k.slice(0, 5));
  });
}

/**
 * Check every option of createCallRuntime; throws OptionsError. Returns the
 * warnings worth a log line (options it does not know).
 */
export function checkRuntimeOptions(options: unknown): string[] {
  const o = parseOptions(WHERE, runtimeSchema, options) as Record<string, unknown>;
  if (o.notificationAuth !== false)
    parseOptions(WHERE, notificationAuthSchema, o.notificationAuth, 'notificationAuth');
  checkCallPolicy(WHERE, o.callPolicy as object | undefined);
  checkRecordPolicy(WHERE, o.recordPolicy as object | undefined);
  const unknown = Object.keys(o).filter((k) => !NAMES.includes(k));
  return unknown.map((k) => {
    const guess = suggest(k);
    return `createCallRuntime: unknown option \`${k}\` ignored${guess ? ` (did you mean \`${guess}\`?)` : ''}`;
  });
}

const callIdSchema = nonEmptyString('the call id (a non-empty string)');
const trackOptions = policyObject('track options ({ policy })');
const recordOptions = policyObject('record options ({ policy })');

/** `track(callId, { policy })`: the call's policy on top of the runtime's. */
export function checkTrack(callId: unknown, opts: unknown, runtimePolicy: object | undefined): void {
  parseOptions('track', callIdSchema, callId, 'callId');
  if (opts === undefined) return;
  parseOptions('track', trackOptions, opts, 'options');
  const policy = (opts as { policy?: object }).policy;
  // The runtime's own policy passed at creation: with no policy of the call's own there is nothing to merge.
  if (policy !== undefined) checkCallPolicy('track', runtimePolicy, { prefix: 'policy', policy });
}

/** `record(callId, options, handler, { policy })`; the record options themselves are the Graph schema's. */
export function checkRecord(
  callId: unknown,
  handler: unknown,
  opts: unknown,
  runtimePolicy: object | undefined,
): void {
  parseOptions('record', callIdSchema, callId, 'callId');
  if (typeof handler !== 'function')
    throw new OptionsError({
      where: 'record',
      path: 'handler',
      received: describeValue(handler),
      expected:
        'must be a function (clip, signal) => result: it reads the downloaded clip, which is deleted right after',
    });
  if (opts === undefined) return;
  parseOptions('record', recordOptions, opts, 'options');
  const policy = (opts as { policy?: object }).policy;
  if (policy !== undefined) checkRecordPolicy('record', runtimePolicy, { prefix: 'policy', policy });
}

/**
 * The runtime's log, once every option passed: the user's `log`, the console
 * when none is given, nothing for `false`. A refused option is logged there
 * (the console when `log` itself is the bad option) and thrown.
 */
export function startRuntimeLog(options: unknown): ReportSink {
  const given = (options as { log?: unknown } | null | undefined)?.log;
  const log = resolveLog(typeof given === 'function' || given === false ? (given as () => void) : undefined);
  const warnings = whileLogged(log, () => checkRuntimeOptions(options));
  for (const msg of warnings) log({ level: 'warn', msg, next: 'the runtime starts without it' });
  return log;
}

/** Run a check; a refusal is logged (one line, no secret) before it is thrown. */
export function whileLogged<T>(log: ReportSink, check: () => T, callId?: string): T {
  try {
    return check();
  } catch (err) {
    log({
      level: 'error',
      ...(callId ? { callId } : {}),
      msg: `refused: ${(err as Error)?.message ?? String(err)}`,
      next: 'nothing was started',
    });
    throw err;
  }
}
