/**
 * A bot as a new user writes it: the emulator and a CallRuntime on one
 * SimulatedClock, the real undici adapter, the runtime's own webhook on a
 * loopback server, and only the options the test gives (no `log`, unless
 * given). Also a console capture, to see what a user sees by default.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { HttpAdapter } from '../../src/adapters/http.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { type CallRuntimeOptions, createCallRuntime } from '../../src/runtime.js';

export const SEC = 1_000;
export const MIN = 60_000;

export interface World {
  clock: SimulatedClock;
  emulator: Emulator;
  runtime: ReturnType<typeof createCallRuntime>;
  appToken: string;
  /** Every bearer the runtime sent to a recording host. */
  recordingTokens: string[];
  /** An established call in the emulator, tracked by the runtime. */
  call(): string;
  close(): Promise<void>;
}

export async function world(options: Partial<CallRuntimeOptions> = {}): Promise<World> {
  const clock = new SimulatedClock();
  const emulator = await startEmulator({ clock });
  const appToken = `app-token-canary-${randomBytes(8).toString('hex')}`;
  const undici = createUndiciHttp({ token: staticToken(appToken), clock });
  const recordingTokens: string[] = [];
  const http: HttpAdapter = {
    request(req) {
      if (typeof req.auth === 'object') recordingTokens.push(req.auth.bearer);
      return undici.request(req);
    },
    close: () => undici.close(),
  };
  const runtime = createCallRuntime({
    clock,
    http,
    store: createMemoryRecordingStore(),
    graphUrl: emulator.url,
    notificationAuth: false,
    // What a test bot configures for the emulator; a test may take it away.
    insecureRecordingHosts: [emulator.recordingHost],
    ...options,
  });
  const bot = createServer(runtime.nodeHandler);
  await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
  const callbackUri = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/callback`;
  return {
    clock,
    emulator,
    runtime,
    appToken,
    recordingTokens,
    call() {
      const { id } = emulator.createCall({ callbackUri });
      runtime.track(id);
      return id;
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

export interface ConsoleCapture {
  lines: Array<{ method: string; text: string }>;
  text(): string;
  restore(): void;
}

/** Everything written through console methods, kept instead of printed. */
export function captureConsole(): ConsoleCapture {
  const lines: ConsoleCapture['lines'] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push({ method, text: args.map(String).join(' ') });
    }),
  );
  return {
    lines,
    text: () => lines.map((l) => l.text).join('\n'),
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}
