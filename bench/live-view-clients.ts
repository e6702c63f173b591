/**
 * The processes a live-view bench puts beside the runtime: headless Chromium
 * on the page, or a bare SSE reader, each optionally on chosen cores
 * (`taskset`, helpers in lib.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/view/chromium.js';
import { ALL_CORES, log, onCores, pin } from './lib.js';

export { ALL_CORES, CHROMIUM, pin };

export function startChromium(url: string, cpus?: string): { child: ChildProcess; stop(): Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gcm-bench-chromium-'));
  const child = spawn(
    ...onCores(cpus, CHROMIUM, ['--headless', ...CHROMIUM_ARGS, `--user-data-dir=${dir}`, url]),
    // Its own process group: stopping it stops its helpers (zygote, crashpad) too.
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid, 'SIGTERM');
        const killer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await delay(500);
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      } catch (err) {
        log(`could not remove ${dir}: ${(err as Error).message}`);
      }
    },
  };
}

/** `node -e code` on the given cores, stopped with SIGTERM. */
function startNode(code: string, cpus?: string): { child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(...onCores(cpus, process.execPath, ['-e', code]), { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.pid && child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/** A separate process that reads the event stream and throws it away: the view's cost without a browser. */
export function startReader(url: string, cpus?: string) {
  return startNode(
    `fetch(${JSON.stringify(`${url}events`)}).then(async (r) => { for await (const _ of r.body) {} })`,
    cpus,
  );
}

/**
 * A control with no view at all: a process that burns `msPerSecond` of CPU in
 * bursts every `periodMs` (Chromium's own CPU at the frame rate), on the given
 * cores. What it adds to the runtime's CPU per keepAlive is what any busy
 * neighbour on this machine costs it, not what the view does.
 */
export function startBurner(msPerSecond: number, periodMs: number, cpus?: string) {
  const burst = (msPerSecond * periodMs) / 1000;
  return startNode(
    `const spin = () => { const end = performance.now() + ${burst}; while (performance.now() < end); }; setInterval(spin, ${periodMs});`,
    cpus,
  );
}
