/**
 * A local Microsoft Graph calls emulator: a real HTTP server serving the
 * calls API (v1.0 and beta), signed notifications to each call's callbackUri,
 * recordings to download, and a control API for scripts and faults. All of
 * its time runs on the injected Clock, so it shares a SimulatedClock with the
 * bot under test.
 */
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../adapters/clock.js';
import { DEFAULT_LIMITS } from '../graph/limits.js';
import { checkEmulatorOptions } from '../options/emulator.js';
import { CallerScriptSchema, type EmulatedRecordOutcome } from './caller-script.js';
import { CallStore } from './calls.js';
import { type Env, Timers } from './context.js';
import { createControl, parseInput } from './control.js';
import { FaultTable } from './faults.js';
import { Media } from './media.js';
import { Notifier } from './notifier.js';
import { createRandom } from './random.js';
import { RequestLog } from './request-log.js';
import { createControlRoutes } from './routes-control.js';
import { graphHandlers } from './routes-graph.js';
import { setupHandlers } from './routes-setup.js';
import { createRequestListener } from './server.js';
import { CallSetup } from './setup.js';
import { createSigner, NOTIFICATION_ISSUER, OPENID_PATH } from './signing.js';
import type { Emulator, StartEmulatorOptions } from './types.js';
import { VariantsSchema } from './variants.js';

export { OptionsError } from '../options/error.js';
export type {
  CalleeScript,
  EstablishScript,
  KeyPress,
  OfferScript,
  RedirectScript,
  SetupScript,
} from './call-script.js';
export { DEFAULT_RING_SECONDS, SETUP_RESULTS } from './call-script.js';
export type { CallerAction, CallerScript, EmulatedRecordOutcome, ResultInfoValue } from './caller-script.js';

/** @deprecated Renamed `EmulatedRecordOutcome` (the record machine has its own `RecordOutcome`); goes in the next minor version. */
export type RecordOutcome = EmulatedRecordOutcome;
export { planRecord } from './caller-script.js';
export type { ActiveFault, FaultAction, FaultSpec, RouteName } from './faults.js';
export { ROUTES } from './faults.js';
export { NOTIFICATION_ISSUER } from './signing.js';
export type * from './types.js';
export { DEFAULT_VARIANTS, type Variants } from './variants.js';
export { BYTES_PER_SECOND, SAMPLE_RATE, WAV_HEADER_BYTES } from './wav.js';

export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 45 * 60_000;
export const DEFAULT_RECORDING_RETENTION_MS = 5 * 60_000;
export const DEFAULT_AUDIENCE = 'emulator-bot';
export const DEFAULT_TENANT_ID = '8f2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d';

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  checkEmulatorOptions(options); // OptionsError before the server listens
  const clock = options.clock ?? systemClock;
  const appToken = options.appToken;
  const retries = options.notificationRetries ?? 3;
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const initial = {
    script:
      options.defaultScript === undefined
        ? undefined
        : parseInput(CallerScriptSchema, options.defaultScript, 'defaultScript'),
    variants:
      options.variants === undefined
        ? {}
        : parseInput(VariantsSchema.partial(), options.variants, 'variants'),
  };
  const random = createRandom(options.seed);
  const stop = new AbortController();
  // Every notification POST in flight and every held (delayed) request listens to this
  // signal until it settles; dozens at once are normal, not a leak.
  setMaxListeners(0, stop.signal);

  const env = {
    clock,
    timers: new Timers(clock),
    random,
    options: {
      limits: options.limits ?? DEFAULT_LIMITS,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      recordingRetentionMs: options.recordingRetentionMs ?? DEFAULT_RECORDING_RETENTION_MS,
      audience,
      tenantId,
      notificationRetries: retries,
      acceptsAppToken:
        typeof appToken === 'function'
          ? appToken
          : appToken === undefined
            ? () => true
            : (t: string) => t === appToken,
    },
    faults: new FaultTable(random),
    // Key generation starts now and runs while the server starts listening.
    signer: createSigner(clock, { audience, tenantId }),
    origin: '',
    signal: stop.signal,
    defaults: { script: initial.script, variants: { ...initial.variants } },
  } as Env;
  env.calls = new CallStore(env);
  env.media = new Media(env);
  env.notifier = new Notifier(env);
  env.setup = new CallSetup(env);

  const log = new RequestLog();
  const control = createControl(env, log, initial);
  const server = createServer(
    { keepAliveTimeout: 5_000 },
    createRequestListener({
      env,
      log,
      handlers: { ...graphHandlers, ...setupHandlers },
      control: createControlRoutes(control),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const unspecified = addr.address === '0.0.0.0' || addr.address === '::';
  const host = unspecified ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const recordingHost = `${host}:${addr.port}`;
  env.origin = `http://${recordingHost}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${env.origin}/v1.0`,
    betaUrl: `${env.origin}/beta`,
    origin: env.origin,
    openIdConfigurationUrl: `${env.origin}${OPENID_PATH}`,
    issuer: NOTIFICATION_ISSUER,
    audience,
    tenantId,
    recordingHost,
    createCall: (opts) => control.createCall(opts),
    ring: (opts) => control.ring(opts),
    control,
    close() {
      closing ??= (async () => {
        stop.abort(new Error('emulator closed'));
        env.timers.clearAll();
        await env.notifier.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await env.signer.ready().catch(() => {});
      })();
      return closing;
    },
  };
}
