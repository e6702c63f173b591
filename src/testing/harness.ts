/**
 * A ready test bench for bots: a SimulatedClock shared by the emulator and a
 * CallRuntime, the runtime's notification handler on a real loopback server,
 * the real undici adapter, and a memory (or file) store. Users get it from
 * `graph-call-machines/testing`; our own integration tests use it too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from '../adapters/clock.js';
import type { HttpAdapter, HttpAttemptEvent, HttpRequest } from '../adapters/http.js';
import { createMemoryRecordingStore } from '../adapters/memory-store.js';
import type { RecordingStore } from '../adapters/recording-store.js';
import { staticToken } from '../adapters/token.js';
import { createUndiciHttp } from '../adapters/undici-http.js';
import { type Emulator, type StartEmulatorOptions, startEmulator } from '../emulator/index.js';
import { type CallRuntimeOptions, createCallRuntime } from '../runtime.js';

export interface HarnessOptions {
  /** Verify notification JWTs against the emulator's keys (default true: as in production). */
  verifyNotifications?: boolean;
  /** Use `/beta` (record) instead of `/v1.0` (recordResponse). */
  beta?: boolean;
  store?: RecordingStore;
  emulator?: Omit<StartEmulatorOptions, 'clock'>;
  runtime?: Partial<Omit<CallRuntimeOptions, 'clock' | 'http' | 'store' | 'graphUrl' | 'notificationAuth'>>;
  retry?: { maxAttempts?: number };
  onAttempt?: (e: HttpAttemptEvent) => void;
  /**
   * Sees every request the runtime sends, as it is handed to the HTTP adapter
   * (auth included: a test can learn the recordingAccessToken a download used).
   */
  onRequest?: (req: HttpRequest) => void;
  /** The app id the bot checks as the notifications' audience (default: the emulator's audience). */
  notificationAppId?: string;
  /** `notificationAuth.tenants`: accept notifications of these tenants only. */
  notificationTenants?: string[];
  start?: number;
}

export interface Harness {
  clock: SimulatedClock;
  emulator: Emulator;
  runtime: ReturnType<typeof createCallRuntime>;
  store: RecordingStore;
  callbackUri: string;
  bot: Server;
  /** Create an established call in the emulator and track it in the runtime. */
  call(opts?: Parameters<Emulator['createCall']>[0] extends infer P ? Partial<P> : never): string;
  close(): Promise<void>;
}

export async function createHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const clock = new SimulatedClock(opts.start === undefined ? {} : { start: opts.start });
  const emulator = await startEmulator({ ...opts.emulator, clock });
  const store = opts.store ?? createMemoryRecordingStore();
  const token = staticToken('test-app-token');
  const undici = createUndiciHttp({ token, clock, retry: opts.retry, onAttempt: opts.onAttempt });
  const onRequest = opts.onRequest;
  const http: HttpAdapter = onRequest
    ? {
        request(req) {
          onRequest(req);
          return undici.request(req);
        },
        close: () => undici.close(),
      }
    : undici;
  // The bot listens first: the runtime names its URL as callbackUri (answers, placed calls).
  let handle: ReturnType<typeof createCallRuntime>['nodeHandler'] | undefined;
  const bot = createServer((req, res) => handle?.(req, res));
  await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
  const callbackUri = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/callback`;
  const runtime = createCallRuntime({
    callbackUri,
    ...opts.runtime,
    clock,
    http,
    store,
    graphUrl: opts.beta ? emulator.betaUrl : emulator.url,
    notificationAuth:
      opts.verifyNotifications === false
        ? false
        : {
            appId: opts.notificationAppId ?? emulator.audience,
            openIdConfigurationUrl: emulator.openIdConfigurationUrl,
            issuers: [emulator.issuer],
            ...(opts.notificationTenants ? { tenants: opts.notificationTenants } : {}),
          },
    insecureRecordingHosts: [emulator.recordingHost],
  });
  handle = runtime.nodeHandler;
  return {
    clock,
    emulator,
    runtime,
    store,
    callbackUri,
    bot,
    call(callOpts = {}) {
      const info = emulator.createCall({ callbackUri, ...callOpts } as Parameters<Emulator['createCall']>[0]);
      runtime.track(info.id);
      return info.id;
    },
    async close() {
      await runtime.stop();
      await http.close();
      bot.closeAllConnections();
      await new Promise<void>((resolve) => bot.close(() => resolve()));
      await emulator.close();
    },
  };
}
