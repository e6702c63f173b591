/**
 * One bot instance of the failover drill (scripts/drill.ts starts three of
 * these as OS processes): a CallRuntime on the wall clock with short
 * intervals, a Redis cluster adapter, the shared clip directory, and a
 * notification endpoint on loopback. It takes orders from the drill over IPC
 * and reports every processed clip, every ended call and its log lines that
 * mean something was dropped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { LogEntry } from '../src/adapters/index.js';
import { type Clip, createCallRuntime, createFileRecordingStore, staticToken } from '../src/index.js';
import { createRedisCluster } from '../src/redis/index.js';

export interface BotConfig {
  name: string;
  redisUrl: string;
  prefix: string;
  tokenKey: string;
  graphUrl: string;
  recordingHost: string;
  clipDir: string;
  keepAliveIntervalMs: number;
  keepAliveDeadlineMs: number;
  leaseMs: number;
  renewMs: number;
  /** Long enough for a completion held through the Redis outage (and one lease) to arrive. */
  completionMarginMs: number;
}

/** Orders from the drill. */
export type BotOrder =
  | { t: 'track'; ids: string[] }
  | { t: 'record'; ids: string[] }
  | { t: 'hangUpAll' }
  | { t: 'stats' }
  | { t: 'stop' };

/** Reports to the drill. */
export type BotReport =
  | { t: 'ready'; port: number }
  | { t: 'processed'; by: string; callId: string; operationId: string; bytes: number; resumed: boolean }
  | { t: 'recordDone'; callId: string; outcome: string; final: string }
  | { t: 'ended'; callId: string; reason: string }
  | { t: 'log'; level: string; msg: string; callId?: string }
  | { t: 'stats'; running: string[]; owned: string[]; cluster: Record<string, number> }
  | { t: 'hungUp'; count: number; failed: number }
  | { t: 'stopped' };

// Log lines that mean a notification, a clip or a snapshot was given up on.
const LOSS =
  /dropped|ignored|not resumed|unreadable|could not|forwarding a notification failed|handling failed/;

const config = JSON.parse(process.env.GCM_DRILL_BOT ?? '{}') as BotConfig;
const send = (r: BotReport) => process.send?.(r);
// The drill is gone (killed, crashed): never outlive it.
process.on('disconnect', () => process.exit(0));

const redis = new Redis(config.redisUrl);
redis.on('error', () => {}); // ioredis reconnects by itself; failures show in the commands
const cluster = createRedisCluster({
  redis,
  tokenKey: config.tokenKey,
  instanceId: config.name,
  prefix: config.prefix,
  leaseMs: config.leaseMs,
  renewMs: config.renewMs,
});
await cluster.ready();

const handler = (resumed: boolean) => (clip: Clip) => {
  send({
    t: 'processed',
    by: config.name,
    callId: clip.callId,
    operationId: clip.operationId,
    bytes: clip.bytes,
    resumed,
  });
  return clip.bytes;
};

const runtime = createCallRuntime({
  graphUrl: config.graphUrl,
  token: staticToken('drill-app-token'),
  store: createFileRecordingStore({ dir: config.clipDir }),
  notificationAuth: false,
  insecureRecordingHosts: [config.recordingHost],
  cluster,
  onResumedClip: handler(true),
  callPolicy: {
    keepAliveIntervalMs: config.keepAliveIntervalMs,
    keepAliveDeadlineMs: config.keepAliveDeadlineMs,
    retryBaseMs: 300,
    retryMaxMs: 1_000,
    finalRetryMarginMs: 300,
    drainTimeoutMs: config.completionMarginMs,
    allowCustomIntervals: true,
  },
  // A completion held on another instance while Redis was away comes after the outage and one lease,
  // also for a call that ended meanwhile.
  recordPolicy: {
    completionMarginMs: config.completionMarginMs,
    callEndGraceMs: config.completionMarginMs,
    processingTimeoutMs: 5_000,
  },
  log: (e: LogEntry) => {
    if (process.env.GCM_DRILL_VERBOSE && e.level !== 'debug')
      console.log(
        `  [${config.name} ${new Date().toISOString().slice(17, 23)}] ${e.level} ${e.msg} ${e.callId?.slice(0, 8) ?? ''} ${typeof e.error === 'string' ? e.error : ''}`,
      );
    if (LOSS.test(e.msg))
      send({ t: 'log', level: e.level, msg: e.msg, ...(e.callId ? { callId: e.callId } : {}) });
  },
});
runtime.states$.subscribe({ error: () => {} });

const server = createServer(runtime.nodeHandler);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

function watchEnd(callId: string) {
  runtime.whenEnded(callId).then(
    (out) => send({ t: 'ended', callId, reason: out.reason }),
    () => {}, // handed over or stopped: not an end
  );
}

// A call this instance takes over is watched too.
runtime.states$.subscribe((s) => {
  if (s.machine === 'call' && !watched.has(s.callId)) {
    watched.add(s.callId);
    watchEnd(s.callId);
  }
});
const watched = new Set<string>();

async function onOrder(order: BotOrder) {
  switch (order.t) {
    case 'track':
      for (const id of order.ids) runtime.track(id);
      break;
    case 'record':
      for (const id of order.ids) {
        if (!runtime.get(id)) continue;
        runtime
          .record(id, { maxRecordDurationInSeconds: 10, maxSilenceTimeoutInSeconds: 1 }, handler(false))
          .then(
            (r) => send({ t: 'recordDone', callId: id, outcome: r.outcome, final: r.final }),
            (err: unknown) =>
              send({
                t: 'recordDone',
                callId: id,
                outcome: `rejected: ${(err as Error).message}`,
                final: 'none',
              }),
          );
      }
      break;
    case 'hangUpAll': {
      const ids = runtime.calls();
      const results = await Promise.allSettled(ids.map((id) => runtime.hangUp(id)));
      send({ t: 'hungUp', count: ids.length, failed: results.filter((r) => r.status === 'rejected').length });
      break;
    }
    case 'stats':
      send({
        t: 'stats',
        running: runtime.calls(),
        owned: cluster.owned(),
        cluster: { ...cluster.stats },
      });
      break;
    case 'stop':
      await runtime.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
      send({ t: 'stopped' });
      process.disconnect?.();
      break;
  }
}

process.on('message', (m: BotOrder) => {
  onOrder(m).catch((err: unknown) =>
    send({ t: 'log', level: 'error', msg: `order ${m.t} failed: ${(err as Error)?.message}` }),
  );
});
send({ t: 'ready', port: (server.address() as AddressInfo).port });
