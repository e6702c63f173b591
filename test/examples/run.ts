/**
 * Runs examples as a user would: a child process (`node --import tsx`) from the repository root,
 * importing `graph-call-machines` through the package's own `exports` map, hence from dist/.
 * `ensureBuilt()` rebuilds dist when any file under src/ is newer (scripts/prepare.mjs), one build at
 * a time across the test files that need it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCK = join(tmpdir(), `gcm-build-${createHash('sha1').update(ROOT).digest('hex').slice(0, 12)}.lock`);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `npm run prepare` (build dist/ unless it is newer than src/), one test file at a time. */
export async function ensureBuilt(): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test file holds it; after two minutes of waiting it is taken as left over from a crash.
      if (tries > 600) rmSync(LOCK, { recursive: true, force: true });
      await pause(200);
    }
  }
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/prepare.mjs')], { cwd: ROOT });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface Run {
  child: ChildProcess;
  /** SIGTERM to the process (its group with `group: true`). */
  stop(): void;
  output(): string;
  /** Resolves with the first match of `re` in stdout; rejects if the process exits first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** Exit code (null after a signal); the process is killed after `timeoutMs`. */
  exited: Promise<number | null>;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Executable (default: this node). */
  bin?: string;
  /** Own process group, so `stop()` reaches the grandchildren too (`npx` does not forward SIGTERM). */
  group?: boolean;
}

export function run(command: string[], opts: RunOptions = {}): Run {
  const child = spawn(opts.bin ?? process.execPath, command, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (opts.group && child.pid) process.kill(-child.pid, sig);
    else child.kill(sig);
  };
  const killer = setTimeout(() => signal('SIGKILL'), opts.timeoutMs ?? 25_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  return {
    child,
    stop: () => signal('SIGTERM'),
    output: () => (err ? `${out}\n[stderr]\n${err}` : out),
    exited,
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            listeners.delete(check);
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            reject(new Error(`exited before ${re}: ${out}\n${err}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** `node --import tsx examples/<file>` */
export const example = (file: string, args: string[] = [], opts?: RunOptions) =>
  run(['--import', 'tsx', join('examples', file), ...args], opts);
