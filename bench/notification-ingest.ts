/**
 * Notification ingest: commsNotifications POSTed over loopback to a runtime's
 * `nodeHandler` (node:http on 127.0.0.1) tracking CALLS calls, with JWT
 * validation on (one Authorization token reused, as Graph does), on with the
 * verified-token cache off (a full RS256 check on every request), and off.
 * It imports the built dist (what users run): `npm run build` first.
 *
 * The orchestrator makes an RS256 key, signs one Graph-like token and serves
 * the OpenID configuration and JWKS on loopback (the verifier's key fetch
 * never leaves the machine). Three server processes, one runtime each (on,
 * full, off), and one load-generator process (undici Pool, CONCURRENCY
 * in flight) that sends the same bytes to both, header included. Modes take
 * turns in short blocks (order rotated) inside each run, so the ratio is
 * measured side by side. Only 202 counts; any other answer is reported and
 * fails the bench. Bodies alternate between a call `updated` (established)
 * for a tracked call and a failed recordOperation of an unknown operation:
 * both parsed and routed, neither ends a call. A third server, a bare
 * node:http handler (read body, JSON.parse, 202), takes its turn in the same
 * blocks: the most any handler can reach with this client on this machine.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
// The built package, as users import it (`npm run build` first), not the source through tsx.
import { createCallRuntime, createMemoryRecordingStore, staticToken } from '../dist/index.js';
import {
  type BenchResult,
  benchFile,
  commonServerOp,
  type Helper,
  helperCommands,
  log,
  median,
  pairedRatio,
  parseArgs,
  pin,
  poolsByOrigin,
  report,
  row,
  startHelper,
} from './lib.js';

const BENCH = 'notification-ingest';
const FILE = benchFile('notification-ingest.ts');
const APP_ID = '5c4d3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ISSUER = 'https://api.botframework.com';
const CALLS = 100;
const CONCURRENCY = 64;
const TARGET = 10_000;
/** Issue 18: validation on (token reused) >= this x the bare node:http ceiling. */
const RATIO_TARGET = 0.85;
/** `full`: validation on with the verified-token cache off, so every request runs the RS256 check. */
const MODES = ['bare', 'off', 'on', 'full'] as const;
type Mode = (typeof MODES)[number];
/** Modes served by our runtime (bare is the ceiling, not ours). */
const OURS = ['off', 'on', 'full'] as const;

const args = parseArgs();
const role = args.extra.get('role');

const callId = (i: number) => `${(0x1a000000 + i).toString(16)}-5e6f-4d3c-9a8b-7c6d5e4f3a2b`;

const authMode = args.extra.get('auth');
if (role === 'server' && authMode === 'bare') serveBare();
else if (role === 'server') serve(authMode as Mode, String(args.extra.get('openid')));
else if (role === 'client') client();
else await main();

/** A server process: one runtime tracking CALLS calls, served by node:http with its nodeHandler. */
function serve(mode: Mode, openIdConfigurationUrl: string) {
  // verifiedCacheSize reaches the verifier through notificationAuth (a loose object); 0 turns the cache off.
  const auth =
    mode === 'off'
      ? false
      : { appId: APP_ID, openIdConfigurationUrl, ...(mode === 'full' ? { verifiedCacheSize: 0 } : {}) };
  const runtime = createCallRuntime({
    // No Graph request happens within the bench (the first keepAlive is 15 min away).
    token: staticToken('unused'),
    graphUrl: 'http://127.0.0.1:9/v1.0',
    store: createMemoryRecordingStore(),
    notificationAuth: auth,
  });
  for (let i = 0; i < CALLS; i++) runtime.track(callId(i));
  const server = http.createServer({ keepAlive: true }, runtime.nodeHandler);
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  server.listen(0, '127.0.0.1', () => {
    helperCommands(
      { port: (server.address() as AddressInfo).port },
      async (cmd) => {
        const common = await commonServerOp(cmd);
        if (common) return common;
        if (cmd.op === 'stats') return { ...runtime.stats(), active: activeCalls() };
        throw new Error(`unknown op ${String(cmd.op)}`);
      },
      async () => {
        server.closeAllConnections();
        server.close();
        await runtime.stop();
      },
    );
  });
  function activeCalls() {
    return runtime.calls().filter((id) => runtime.get(id)?.getSnapshot().status === 'active').length;
  }
}

/** The ceiling: node:http reading the body, JSON.parse, an empty 202; same helper protocol. */
function serveBare() {
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(parts).toString('utf8'));
      res.writeHead(202, { 'content-length': '0' }).end();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  server.listen(0, '127.0.0.1', () => {
    helperCommands(
      { port: (server.address() as AddressInfo).port },
      async (cmd) => {
        const common = await commonServerOp(cmd);
        if (common) return common;
        throw new Error(`unknown op ${String(cmd.op)}`);
      },
      async () => {
        server.closeAllConnections();
        server.close();
      },
    );
  });
}

/** Graph-shaped bodies; none ends a call. */
function bodies(): string[] {
  const out: string[] = [];
  for (let i = 0; i < CALLS; i++) {
    const id = callId(i);
    out.push(
      JSON.stringify({
        '@odata.type': '#microsoft.graph.commsNotifications',
        value: [
          {
            '@odata.type': '#microsoft.graph.commsNotification',
            changeType: 'updated',
            resourceUrl: `/communications/calls/${id}`,
            resourceData: {
              '@odata.type': '#microsoft.graph.call',
              id,
              state: 'established',
              direction: 'incoming',
              callbackUri: 'https://bot.example.com/api/calls',
              callChainId: '9b3c2a1d-0e4f-4a5b-8c6d-7e8f9a0b1c2d',
              mediaState: { '@odata.type': '#microsoft.graph.callMediaState', audio: 'active' },
              resultInfo: null,
            },
          },
        ],
      }),
    );
    const op = `0fe0623f-d628-42ed-b4bd-${i.toString(16).padStart(12, '0')}`;
    out.push(
      JSON.stringify({
        '@odata.type': '#microsoft.graph.commsNotifications',
        value: [
          {
            '@odata.type': '#microsoft.graph.commsNotification',
            changeType: 'deleted',
            resourceUrl: `/communications/calls/${id}/operations/${op}`,
            resourceData: {
              '@odata.type': '#microsoft.graph.recordOperation',
              id: op,
              clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
              status: 'failed',
              resultInfo: { code: 500, subcode: 8510, message: 'Action failed.' },
              completionReason: 'operationCanceled',
            },
          },
        ],
      }),
    );
  }
  return out;
}

interface Drive {
  ms: number;
  /** Client process CPU (user + system), µs. */
  cpuUs: number;
  /** Answers by status (`error` for a request that got none). */
  statuses: Record<string, number>;
}

/** The load generator: one Pool per origin, the same bodies and header for every origin. */
function client() {
  const pools = poolsByOrigin(CONCURRENCY);
  const texts = bodies();
  helperCommands(
    { ready: 'client' },
    async (cmd) => {
      const p = pools.get(String(cmd.origin));
      const total = Number(cmd.n);
      const headers = {
        'content-type': 'application/json',
        authorization: `Bearer ${String(cmd.token)}`,
      };
      const statuses: Record<string, number> = {};
      let started = 0;
      const worker = async () => {
        while (started < total) {
          const body = texts[started++ % texts.length]!;
          let key: string;
          try {
            const res = await p.request({ path: '/api/calls', method: 'POST', headers, body });
            await res.body.dump();
            key = String(res.statusCode);
          } catch {
            key = 'error';
          }
          statuses[key] = (statuses[key] ?? 0) + 1;
        }
      };
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: Number(cmd.c) }, worker));
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { ms, cpuUs: cpu.user + cpu.system, statuses } satisfies Drive;
    },
    async () => {
      await pools.close();
    },
  );
}

/** Loopback OpenID configuration + JWKS, counting fetches. */
async function keyServer(jwks: unknown) {
  const hits = { config: 0, jwks: 0 };
  const server = http.createServer((req, res) => {
    const send = (body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.url === '/v1/.well-known/OpenIdConfiguration') {
      hits.config++;
      return send({
        issuer: ISSUER,
        jwks_uri: `${origin}/v1/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.url === '/v1/keys') {
      hits.jwks++;
      return send(jwks);
    }
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    openIdUrl: `${origin}/v1/.well-known/OpenIdConfiguration`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `--cpu-prof-dir DIR`: V8 CPU profiles of the helper processes, for finding where the time goes. */
function profile(name: string): string[] {
  const dir = args.extra.get('cpu-prof-dir');
  // No --cpu-prof-name: tsx's loader thread would write over the main thread's profile.
  return typeof dir === 'string' ? ['--cpu-prof', '--cpu-prof-dir', `${dir}/${name}`] : [];
}

async function main() {
  const perRun = args.smoke ? 400 : Number(args.extra.get('requests') ?? 18_000);
  const blocks = args.smoke ? 2 : 6;
  const blockSize = Math.ceil(perRun / blocks);
  const total = blockSize * blocks;
  const warmup = args.smoke ? 200 : 5_000;

  const kid = randomBytes(8).toString('hex');
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  // One token for the whole bench, as Graph reuses one across notifications.
  const token = await new SignJWT({ tid: TENANT })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(APP_ID)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const keys = await keyServer({ keys: [jwk] });

  // Pinned (default with two or more cores): servers on core 0, the load generator on core 1.
  const pinArg = args.extra.get('pin');
  const pinned = os.cpus().length >= 2 && (pinArg === undefined ? true : pinArg === 'pinned');
  const servers = new Map<Mode, Helper>();
  const origins = new Map<Mode, string>();
  let clientProc: Helper | undefined;
  const rate = new Map(MODES.map((m) => [m, [] as number[]]));
  const serverCpu = new Map(MODES.map((m) => [m, [] as number[]]));
  const clientCpu = new Map(MODES.map((m) => [m, [] as number[]]));
  const statuses = new Map(MODES.map((m) => [m, {} as Record<string, number>]));
  const stats = new Map<Mode, Record<string, unknown>>();
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };

  try {
    for (const m of MODES) {
      const h = await startHelper(
        FILE,
        ['--role', 'server', '--auth', m, '--openid', keys.openIdUrl],
        ['--expose-gc', ...profile(`server-${m}`)],
      );
      if (pinned) pin(h.child.pid, '0');
      servers.set(m, h);
      origins.set(m, `http://127.0.0.1:${h.hello.port}`);
    }
    clientProc = await startHelper(FILE, ['--role', 'client'], ['--expose-gc', ...profile('client')]);
    if (pinned) pin(clientProc.child.pid, '1');
    const c = clientProc;
    const drive = (m: Mode, n: number) => c.ask<Drive>({ origin: origins.get(m), n, c: CONCURRENCY, token });

    for (const m of MODES) {
      // Also the verifier's first (and only) key fetch.
      const w = await drive(m, warmup);
      add(statuses.get(m)!, w.statuses);
      await servers.get(m)!.ask({ op: 'settle' });
    }
    for (let run = 0; run < args.runs; run++) {
      const sum = new Map(MODES.map((m) => [m, { ms: 0, serverUs: 0, clientUs: 0 }]));
      for (let b = 0; b < blocks; b++) {
        for (let i = 0; i < MODES.length; i++) {
          const m = MODES[(i + b + run) % MODES.length]!;
          const server = servers.get(m)!;
          const before = await server.ask<{ cpuUs: number }>({ op: 'cpu' });
          const d = await drive(m, blockSize);
          const after = await server.ask<{ cpuUs: number }>({ op: 'cpu' });
          const acc = sum.get(m)!;
          acc.ms += d.ms;
          acc.clientUs += d.cpuUs;
          acc.serverUs += after.cpuUs - before.cpuUs;
          add(statuses.get(m)!, d.statuses);
        }
      }
      for (const [m, acc] of sum) {
        rate.get(m)!.push(total / (acc.ms / 1000));
        serverCpu.get(m)!.push(acc.serverUs / total);
        clientCpu.get(m)!.push(acc.clientUs / total);
      }
      log(
        `run ${run + 1}/${args.runs}: ${MODES.map((m) => `${m} ${Math.round(rate.get(m)!.at(-1)!)}`).join(', ')} notif/s`,
      );
    }
    for (const m of OURS) stats.set(m, await servers.get(m)!.ask({ op: 'stats' }));
  } finally {
    await clientProc?.stop();
    for (const h of servers.values()) await h.stop();
    await keys.close();
  }

  const sent = warmup + total * args.runs;
  // Each drive starts at body 0 and bodies alternate, so every odd one names an unknown operation.
  const unknownOps = Math.floor(warmup / 2) + Math.floor(blockSize / 2) * blocks * args.runs;
  const problems: string[] = [];
  for (const m of MODES) {
    const s = statuses.get(m)!;
    const other = Object.entries(s).filter(([k]) => k !== '202');
    if (other.length || s['202'] !== sent)
      problems.push(
        `${m}: ${s['202'] ?? 0} of ${sent} answered 202; others: ${other.map(([k, v]) => `${k} x${v}`).join(', ') || 'none'}`,
      );
    const st = stats.get(m);
    if (!st) continue;
    // Every notification must have reached the router, and none may have ended a call.
    if (st.rejectedNotifications !== 0 || st.unmatchedOperation !== unknownOps || st.active !== CALLS)
      problems.push(
        `validation ${m}: runtime saw rejected ${st.rejectedNotifications}, unmatched operations ${st.unmatchedOperation} (expected ${unknownOps}), active calls ${st.active} of ${CALLS}`,
      );
  }
  // One fetch per verifying server (on, full).
  if (keys.hits.config !== 2 || keys.hits.jwks !== 2)
    problems.push(`key fetches: ${keys.hits.config} OpenID, ${keys.hits.jwks} JWKS (expected 2 each)`);

  const bare = rate.get('bare')!;
  const off = rate.get('off')!;
  const on = rate.get('on')!;
  const full = rate.get('full')!;
  const us = (x: Map<Mode, number[]>) => MODES.map((m) => `${m} ${median(x.get(m)!).toFixed(1)}`).join(', ');
  // Per-run ratios to the ceiling measured in the same run: min and median, the figures issue 18 asks for.
  const toCeiling = (xs: number[]) => xs.map((x, i) => x / bare[i]!);
  const spread = (xs: number[]) => {
    const r = toCeiling(xs);
    return `min ${Math.min(...r).toFixed(2)}, median ${median(r).toFixed(2)} (runs: ${r.map((x) => x.toFixed(2)).join(' ')})`;
  };
  const ceiling = 'bare node:http ceiling';
  const result: BenchResult = {
    bench: BENCH,
    params: { calls: CALLS, concurrency: CONCURRENCY, perRun: total, blocks, warmup, runs: args.runs },
    rows: [
      row('validation on, token reused (as Graph does)', 'notif/s', on, {
        ratio: pairedRatio(on, bare),
        vs: ceiling,
        target: `>= ${RATIO_TARGET} x ceiling, >= ${TARGET} notif/s`,
        met: pairedRatio(on, bare) >= RATIO_TARGET && median(on) >= TARGET,
      }),
      row('validation on, full RS256 check every request', 'notif/s', full, {
        ratio: pairedRatio(full, bare),
        vs: ceiling,
      }),
      row('validation off', 'notif/s', off, { ratio: pairedRatio(off, bare), vs: ceiling }),
      row(ceiling, 'notif/s', bare),
    ],
    notes: [
      `${BENCH}: ratio to the ceiling per run: token reused ${spread(on)}; full check ${spread(full)}; off ${spread(off)}. Absolute notif/s are this machine's.`,
      `${BENCH}: ${total} POSTs per mode and run in ${blocks} interleaved blocks after ${warmup} warm-up, concurrency ${CONCURRENCY} (undici Pool, own process), ${pinned ? 'pinned: every server on core 0, the load generator on core 1' : 'unpinned'}, one runtime per mode tracking ${CALLS} calls in its own process, and a bare node:http server (read body, JSON.parse, 202) as the ceiling; one RS256 token reused by every request (the full mode turns the verifier's verified-token cache off, so each request runs jose's RS256 check); keys fetched from loopback ${keys.hits.config}/${keys.hits.jwks} time(s) (OpenID/JWKS). CPU µs per notification (median), server: ${us(serverCpu)}; client: ${us(clientCpu)}. The server's CPU alone would allow ${MODES.map((m) => `${m} ${Math.round(1e6 / median(serverCpu.get(m)!))}`).join(', ')} notif/s per core; on a shared machine the CPU figures move less than the rates.`,
      ...(problems.length ? [`${BENCH}: UNEXPECTED: ${problems.join('; ')}`] : []),
    ],
  };
  report(args, result);
  if (problems.length) process.exitCode = 1;
}
