/**
 * One emulator on a SimulatedClock and any number of runtimes ("instances")
 * on that clock, behind one loopback notification endpoint that plays the
 * load balancer: each notification goes to the next live instance. Runtimes
 * can be stopped and new ones started against the same emulator, which is
 * what a restart or a failover looks like from Graph's side.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAdapter, HttpAttemptEvent } from '../../src/adapters/http.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { type Emulator, type StartEmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { normalizeId } from '../../src/graph/ids.js';
import {
  type CallRuntime,
  type CallRuntimeOptions,
  createCallRuntime,
  type RuntimeEvent,
} from '../../src/runtime.js';

export const SEC = 1_000;
export const MIN = 60_000;

export interface Instance {
  name: string;
  runtime: CallRuntime;
  http: HttpAdapter;
  /** Receives notifications from the load balancer. */
  alive: boolean;
  events: RuntimeEvent[];
  logs: Array<{ level: string; msg: string; [k: string]: unknown }>;
}

export interface World {
  clock: SimulatedClock;
  emulator: Emulator;
  callbackUri: string;
  /** Every recordingAccessToken seen in a notification body (to prove none is stored in clear). */
  tokens: Set<string>;
  /** keepAlive attempts by instance: [instance, callId, clock time, status, clientRequestId]. */
  attempts: Array<{ instance: string; callId: string; at: number; status: number | undefined; id: string }>;
  instances: Instance[];
  start(name: string, options?: Partial<CallRuntimeOptions>): Instance;
  /** Stop routing notifications to it (a dead or leaving instance). */
  detach(instance: Instance): void;
  newCall(): string;
  /** keepAlive requests the emulator saw for a call: [clock time, status]. */
  keepAlives(callId: string): Array<[number, number]>;
  close(): Promise<void>;
}

export async function createWorld(
  opts: { emulator?: Omit<StartEmulatorOptions, 'clock'> } = {},
): Promise<World> {
  const clock = new SimulatedClock();
  const emulator = await startEmulator({ ...opts.emulator, clock });
  const instances: Instance[] = [];
  const tokens = new Set<string>();
  const attempts: World['attempts'] = [];
  let next = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      for (const m of body.toString('utf8').matchAll(/"recordingAccessToken"\s*:\s*"([^"]+)"/g))
        if (m[1]) tokens.add(m[1]);
      const live = instances.filter((i) => i.alive);
      const target = live[next++ % Math.max(1, live.length)];
      if (!target) {
        res.statusCode = 503;
        res.end();
        return;
      }
      target.runtime.handleNotification(body, req.headers).then(
        (r) => {
          res.statusCode = r.status;
          res.end();
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const callbackUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const memory = createMemoryRecordingStore();

  function start(name: string, options: Partial<CallRuntimeOptions> = {}): Instance {
    const onAttempt = (e: HttpAttemptEvent) => {
      if (e.operation !== 'keepAlive') return;
      const callId = /calls\/([^/]+)\/keepAlive/.exec(e.url)?.[1] ?? '';
      attempts.push({
        instance: name,
        callId: normalizeId(callId),
        at: clock.now(),
        status: e.status,
        id: e.clientRequestId,
      });
    };
    const http = createUndiciHttp({ token: staticToken('test-app-token'), clock, onAttempt });
    const inst: Instance = { name, http, alive: true, events: [], logs: [], runtime: undefined as never };
    const store: RecordingStore = options.store ?? memory;
    inst.runtime = createCallRuntime({
      clock,
      http,
      store,
      graphUrl: emulator.url,
      notificationAuth: false,
      insecureRecordingHosts: [emulator.recordingHost],
      log: (e) => inst.logs.push(e),
      ...options,
    });
    inst.runtime.events$.subscribe((e) => inst.events.push(e));
    instances.push(inst);
    return inst;
  }

  return {
    clock,
    emulator,
    callbackUri,
    tokens,
    attempts,
    instances,
    start,
    detach(i) {
      i.alive = false;
    },
    newCall: () => emulator.createCall({ callbackUri }).id,
    keepAlives: (callId) =>
      emulator.control
        .requests({ route: 'keepAlive', callId })
        .map((r) => [r.at, r.status] as [number, number]),
    async close() {
      for (const i of instances) {
        await i.runtime.stop().catch(() => {});
        await i.http.close();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.close();
      await memory.close();
    },
  };
}

/** A store whose deletes stop happening once `crash()` is called: what a killed process leaves on disk. */
export function crashable(inner: RecordingStore) {
  let dead = false;
  const store: RecordingStore = {
    write: (key, body, signal) => inner.write(key, body, signal),
    open: (key) => inner.open(key),
    delete: (key) => (dead ? Promise.resolve() : inner.delete(key)),
    list: () => inner.list(),
    close: () => (dead ? Promise.resolve() : inner.close()),
  };
  return {
    store,
    crash() {
      dead = true;
    },
  };
}
