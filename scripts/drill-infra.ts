/**
 * What the failover drill runs its bots on: its own redis-server (AOF on, a
 * temp dir, a free loopback port; never the shared test Redis), a load
 * balancer in front of the bot processes, the bot processes themselves, and
 * one cleanup list that ends every child and removes every temp file however
 * the drill ends.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { BotConfig, BotOrder, BotReport } from './drill-bot.js';

// --- cleanup ------------------------------------------------------------------

const children = new Map<ChildProcess, () => void>();
const paths = new Set<string>();

/** End every child still running and remove the temp paths. Synchronous: safe in 'exit'. */
export function cleanUp(): void {
  for (const [c, stop] of children) if (c.exitCode === null && c.signalCode === null) stop();
  children.clear();
  for (const p of paths) rmSync(p, { recursive: true, force: true });
  paths.clear();
}

export function removeOnExit(path: string): void {
  paths.add(path);
}

process.on('exit', cleanUp);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(sig, () => {
    cleanUp();
    process.exit(130);
  });

function own(child: ChildProcess, stop: () => void = () => child.kill('SIGKILL')): ChildProcess {
  children.set(child, stop);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

// --- redis-server ---------------------------------------------------------------

export interface DrillRedis {
  url: string;
  /** Start it (again): same port, same dir, so the AOF is read back. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown save; what was acknowledged is in the AOF already. Resolves once it is gone. */
  kill(): Promise<void>;
  /** Keys in the whole database (it is the drill's own). */
  dbsize(): Promise<number>;
}

export async function startRedis(dir: string): Promise<DrillRedis> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0)
    throw new Error('drill: redis-server is not on PATH (Debian: apt-get install redis-server)');
  const port = await freePort();
  if (port === 6399) throw new Error('drill: refusing port 6399 (the shared test Redis)');
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    'redis.log',
  ];
  const ping = async (): Promise<boolean> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  };
  const api: DrillRedis = {
    url,
    async start() {
      // Through a shell that kills redis-server once its stdin closes: when the drill ends, even
      // by SIGKILL, the pipe closes and no redis-server outlives it.
      const child = spawn(
        'sh',
        ['-c', 'redis-server "$@" & pid=$!; read _; kill -9 $pid; wait $pid', 'sh', ...args],
        {
          stdio: ['pipe', 'ignore', 'ignore'],
        },
      );
      proc = own(child, () => child.stdin?.end());
      const failed = new Promise<never>((_, reject) =>
        proc?.once('error', (err) => reject(new Error(`drill: redis-server did not start: ${err.message}`))),
      );
      failed.catch(() => {});
      for (let i = 0; i < 100; i++) {
        if (await Promise.race([ping(), failed])) return;
        await sleep(50);
      }
      throw new Error(`drill: redis-server on ${url} did not answer PING`);
    },
    async kill() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((resolve) => p.once('exit', resolve));
      p.stdin?.end(); // the shell SIGKILLs redis-server and waits for it
      await gone;
    },
    async dbsize() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        return await r.dbsize();
      } finally {
        r.disconnect();
      }
    },
  };
  await api.start();
  return api;
}

// --- bots -----------------------------------------------------------------------

export interface BotProcess {
  name: string;
  port: number;
  /** Takes notifications from the load balancer. */
  alive: boolean;
  send(order: BotOrder): void;
  /** The next report of this type. */
  next<T extends BotReport['t']>(type: T, timeoutMs?: number): Promise<Extract<BotReport, { t: T }>>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

const BOT = fileURLToPath(new URL('./drill-bot.ts', import.meta.url));

export async function startBot(config: BotConfig, onReport: (r: BotReport) => void): Promise<BotProcess> {
  const child = own(
    fork(BOT, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, GCM_DRILL_BOT: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const waiters: Array<{ type: string; resolve: (r: BotReport) => void }> = [];
  child.on('message', (r: BotReport) => {
    onReport(r);
    const i = waiters.findIndex((w) => w.type === r.t);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(r);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next: BotProcess['next'] = (type, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const w = { type, resolve: resolve as (r: BotReport) => void };
      waiters.push(w);
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`drill: bot ${config.name} sent no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      t.unref();
      void exited.then(() => reject(new Error(`drill: bot ${config.name} exited before '${type}'`)));
    });
  const ready = await next('ready', 60_000);
  return {
    name: config.name,
    port: ready.port,
    alive: true,
    send: (order) => {
      if (child.connected) child.send(order);
    },
    next,
    exited,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// --- load balancer --------------------------------------------------------------

export interface LoadBalancer {
  callbackUri: string;
  /** Notifications no live bot took (answered 503; Graph retries those). */
  refused: number;
  close(): Promise<void>;
}

/** Round robin over the live bots; a bot that cannot be reached gets the next one. */
export async function startLoadBalancer(bots: () => BotProcess[]): Promise<LoadBalancer> {
  let next = 0;
  const lb: LoadBalancer = { callbackUri: '', refused: 0, close: async () => {} };
  const pass = (bot: BotProcess, body: Buffer, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: bot.port, path: '/callback', method: 'POST', headers },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 502));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {
        'content-type': req.headers['content-type'] ?? 'application/json',
      };
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const live = bots().filter((b) => b.alive);
      for (let i = 0; i < live.length; i++) {
        const bot = live[(next + i) % live.length] as BotProcess;
        try {
          res.statusCode = await pass(bot, body, headers);
          next = (next + i + 1) % Math.max(1, live.length);
          res.end();
          return;
        } catch {
          // connection refused or reset: the next bot
        }
      }
      lb.refused++;
      res.statusCode = 503;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  lb.callbackUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`;
  lb.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return lb;
}
