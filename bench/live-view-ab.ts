/**
 * live-view-ab: the live view's cost to the runtime, measured inside one
 * runtime process. bench/live-view.ts compares fresh processes, whose CPU for
 * the same work scatters by ±20 %; here one runtime (1,000 calls, keepAlive
 * every 5 s, against the stub Graph of bench/live-view.ts) runs windows
 * without the view and with it (the view opened, one headless Chromium on
 * the page, then both closed again), in pairs that alternate which goes
 * first. The figure: extra CPU per keepAlive of the with-view window over its
 * pair's plain one, min and median over the pairs, shared and pinned (as in
 * bench/live-view.ts). The HTTP adapter's `onAttempt` hook is on in both
 * windows (it is set when the adapter is made), so its slower retry path is
 * not in this figure; bench/live-view.ts `--no-requests` is the comparison.
 *
 *   node --expose-gc --import tsx bench/live-view-ab.ts [--pairs 6] [--calls 1000] [--window 10] [--pin both|shared|pinned]
 *     [--client chromium|reader|none|burner] [--burn 45]
 *
 * `--client burner` is the control: no view is opened; the "with" window runs
 * a process that burns --burn ms of CPU a second (Chromium's own figure) in
 * bursts at the view's frame rate, on the core Chromium would get. Its extra
 * CPU per keepAlive is what a busy neighbour costs the runtime on this machine.
 */

import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { Subject } from 'rxjs';
import type { HttpAttemptEvent } from '../dist/adapters/http.js';
import { createCallRuntime, createUndiciHttp, staticToken } from '../dist/index.js';
import { createLiveView, type LiveView } from '../dist/view/index.js';
import { type CpuShare, profileShare } from './cpu-share.js';
import {
  benchFile,
  commonServerOp,
  helperCommands,
  log,
  median,
  parseArgs,
  report,
  row,
  startHelper,
} from './lib.js';
import { ALL_CORES, pin, startBurner, startChromium, startReader } from './live-view-clients.js';
import { treeCpuMs } from './proc-cpu.js';

const args = parseArgs();
const INTERVAL_MS = 5_000;

/** The runtime process: calls kept alive throughout; the view opened and closed on command. */
async function runtimeRole() {
  const attempts = new Subject<HttpAttemptEvent>();
  let view: LiveView | undefined;
  const http = createUndiciHttp({
    token: staticToken('bench-token'),
    onAttempt: (e: HttpAttemptEvent) => {
      if (view) attempts.next(e);
    },
  });
  const runtime = createCallRuntime({
    graphUrl: `${String(args.extra.get('graph'))}/v1.0`,
    http,
    notificationAuth: false,
    callPolicy: { keepAliveIntervalMs: INTERVAL_MS, keepAliveDeadlineMs: 60_000, allowCustomIntervals: true },
  });
  const calls = Number(args.extra.get('calls'));
  for (let i = 0; i < calls; i++) {
    runtime.track(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    if (i % 10 === 9) await delay(INTERVAL_MS / (calls / 10));
  }
  helperCommands(
    {},
    async (cmd) => {
      const common = await commonServerOp(cmd);
      if (common) return common;
      if (cmd.op === 'open') {
        view = await createLiveView({ runtime, requests: attempts });
        return { url: view.url };
      }
      if (cmd.op === 'profile') return { ...(await profileShare(/\/dist\/view\//, Number(cmd.ms))) };
      if (cmd.op === 'close') {
        const stats = view?.stats();
        await view?.close();
        view = undefined;
        return { stats };
      }
      return {};
    },
    async () => {
      await view?.close();
      await runtime.stop();
      await http.close();
    },
  );
}

type Placement = 'shared' | 'pinned';

const WHAT: Record<string, string> = {
  chromium: 'view + 1 Chromium',
  reader: 'view + a bare SSE reader',
  none: 'view open, no one reading',
  burner: "no view, a neighbour burning Chromium's CPU",
};

async function main() {
  const calls = Number(args.extra.get('calls') ?? (args.smoke ? 100 : 1_000));
  const windowS = Number(args.extra.get('window') ?? (args.smoke ? 3 : 10));
  const pairs = Number(args.extra.get('pairs') ?? (args.smoke ? 1 : 6));
  const pinArg = String(args.extra.get('pin') ?? 'both');
  // --client reader: a bare SSE reader instead of Chromium; none: the view open with no one reading.
  const clientKind = String(args.extra.get('client') ?? 'chromium');
  const burnMs = Number(args.extra.get('burn') ?? 45);
  const viewOpened = clientKind !== 'burner';
  // --attribute: no plain windows; a CPU profile inside the runtime attributes its time to the view.
  const attribute = args.extra.has('attribute');
  const gcShare: number[] = [];
  const places: Placement[] =
    os.cpus().length < 2 ? ['shared'] : pinArg === 'both' ? ['shared', 'pinned'] : [pinArg as Placement];
  const graphHelper = await startHelper(benchFile('live-view.ts'), ['--role', 'graph']);
  const origin = `http://127.0.0.1:${graphHelper.hello.port}`;
  const count = async () => Number(await (await fetch(`${origin}/count`)).text());
  const extra = new Map<Placement, number[]>();
  const browser = new Map<Placement, number[]>();
  const loads: number[] = [os.loadavg()[0] as number];
  try {
    for (const place of places) {
      const pinned = place === 'pinned';
      pin(graphHelper.child.pid, pinned ? '1' : ALL_CORES);
      const rt = await startHelper(benchFile('live-view-ab.ts'), [
        '--role',
        'runtime',
        '--graph',
        origin,
        '--calls',
        String(calls),
      ]);
      if (pinned) pin(rt.child.pid, '0');
      extra.set(place, []);
      browser.set(place, []);
      try {
        await delay(10_000); // every call armed, JIT warm
        /** One window: the runtime's CPU per keepAlive, and the browser's CPU a second when there is one. */
        const window = async (withView: boolean) => {
          let client: ReturnType<typeof startChromium> | undefined;
          if (withView) {
            const { url } = viewOpened ? await rt.ask<{ url: string }>({ op: 'open' }) : { url: '' };
            const cores = pinned ? '1' : undefined;
            client =
              clientKind === 'chromium'
                ? startChromium(url, cores)
                : clientKind === 'reader'
                  ? startReader(url, cores)
                  : clientKind === 'burner'
                    ? startBurner(burnMs, 200, cores)
                    : undefined;
            await delay(4_000); // the page loaded and streaming
          }
          await rt.ask({ op: 'settle' });
          const c0 = (await rt.ask<{ cpuUs: number }>({ op: 'cpu' })).cpuUs;
          const b0 = client?.child.pid ? treeCpuMs(client.child.pid) : 0;
          const k0 = await count();
          const t0 = performance.now();
          await delay(windowS * 1000);
          const c1 = (await rt.ask<{ cpuUs: number }>({ op: 'cpu' })).cpuUs;
          const b1 = client?.child.pid ? treeCpuMs(client.child.pid) : 0;
          const k1 = await count();
          const seconds = (performance.now() - t0) / 1000;
          await client?.stop();
          if (withView && viewOpened) await rt.ask({ op: 'close' });
          await delay(1_000);
          loads.push(os.loadavg()[0] as number);
          return {
            perKa: (c1 - c0) / 1000 / (k1 - k0),
            cpuMs: (c1 - c0) / 1000 / seconds,
            browserMs: (b1 - b0) / seconds,
          };
        };
        if (attribute) {
          // The view's share of the runtime's CPU, from a profile taken inside it with the view
          // and its browser on: every sample with a view frame on its stack.
          for (let p = 0; p < pairs; p++) {
            const { url } = await rt.ask<{ url: string }>({ op: 'open' });
            const client = startChromium(url, pinned ? '1' : undefined);
            await delay(4_000);
            const b0 = client.child.pid ? treeCpuMs(client.child.pid) : 0;
            const s = await rt.ask<CpuShare>({ op: 'profile', ms: windowS * 1000 });
            const b1 = client.child.pid ? treeCpuMs(client.child.pid) : 0;
            await client.stop();
            await rt.ask({ op: 'close' });
            await delay(1_000);
            // The same profile without the view: GC cannot be attributed, so compare its share.
            const plain = await rt.ask<CpuShare>({ op: 'profile', ms: windowS * 1000 });
            const pct = (s.partMs / (s.busyMs - s.partMs)) * 100;
            if (p === 0)
              log(
                `where the view's time goes (ms): ${JSON.stringify(s.entries)}; own frames ${JSON.stringify(s.leaves)}`,
              );
            extra.get(place)?.push(pct);
            browser.get(place)?.push((b1 - b0) / windowS);
            gcShare.push((s.gcMs / s.busyMs) * 100 - (plain.gcMs / plain.busyMs) * 100);
            log(
              `${place} window ${p + 1}: busy ${s.busyMs.toFixed(0)} ms, view ${s.partMs.toFixed(0)} ms (${pct.toFixed(1)} % over the rest), GC ${s.gcMs.toFixed(0)} ms (${((s.gcMs / s.busyMs) * 100).toFixed(1)} %; without the view ${((plain.gcMs / plain.busyMs) * 100).toFixed(1)} %), Chromium ${((b1 - b0) / windowS).toFixed(0)} ms/s`,
            );
          }
          continue;
        }
        for (let p = 0; p < pairs; p++) {
          // Which window goes first alternates, so a drift over the run does not favour one.
          const first = await window(p % 2 === 1);
          const second = await window(p % 2 === 0);
          const [plain, viewed] = p % 2 === 1 ? [second, first] : [first, second];
          const pct = (viewed.perKa / plain.perKa - 1) * 100;
          extra.get(place)?.push(pct);
          browser.get(place)?.push(viewed.browserMs);
          log(
            `${place} pair ${p + 1}: plain ${plain.cpuMs.toFixed(1)} ms CPU/s, with view ${viewed.cpuMs.toFixed(1)} ms CPU/s (${pct.toFixed(1)} % per keepAlive), Chromium ${viewed.browserMs.toFixed(0)} ms/s, load ${os.loadavg()[0]?.toFixed(2)}`,
          );
        }
      } finally {
        await rt.stop();
      }
    }
  } finally {
    await graphHelper.stop();
  }
  const target = places.includes('pinned') ? 'pinned' : 'shared';
  const fmt = (xs: number[], unit: string) =>
    `min ${Math.min(...xs).toFixed(1)}${unit}, median ${median(xs).toFixed(1)}${unit}, max ${Math.max(...xs).toFixed(1)}${unit} (samples ${xs.map((x) => x.toFixed(1)).join(', ')})`;
  report(args, {
    bench: 'live-view-ab',
    params: {
      calls,
      keepAliveIntervalMs: INTERVAL_MS,
      windowSeconds: windowS,
      pairs,
      places,
      client: clientKind,
    },
    rows: places.flatMap((place) => [
      row(
        attribute
          ? `${place}: ${calls} calls, view + 1 Chromium, the view's code in a profile of the runtime, over the rest`
          : `${place}: ${calls} calls, ${WHAT[clientKind] ?? clientKind}, extra CPU in one process`,
        '%',
        extra.get(place) as number[],
        {
          // The figure is the view with one browser; the other clients split it up.
          ...(place === target && clientKind === 'chromium'
            ? {
                target: attribute ? '< 5 % (GC apart)' : '< 5 %',
                met: median(extra.get(place) as number[]) < 5,
              }
            : {}),
        },
      ),
      row(`${place}: ${clientKind} process tree`, 'ms CPU/s', browser.get(place) as number[]),
    ]),
    notes: [
      ...places.map(
        (place) => `${place}: extra CPU per keepAlive, per pair: ${fmt(extra.get(place) as number[], ' %')}`,
      ),
      `target figure: ${target}; the adapter's onAttempt hook is on in both windows`,
      ...(attribute
        ? [
            `attribution: a CPU profile (100 µs sampling) inside the runtime; a sample counts for the view when a frame of dist/view/ is on its stack (with what it called: JSON, socket writes). GC is not attributable: its share of busy time with the view minus without, per window: ${fmt(gcShare, ' points')}`,
          ]
        : []),
      `load average (1 min) min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}; runs of the built dist`,
    ],
  });
}

if (args.extra.get('role') === 'runtime') void runtimeRole();
else
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
