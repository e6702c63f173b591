/**
 * The emulator from another process, as the README's recipe uses it: `npx graph-call-machines-emulator`
 * in the project's own root resolves the package's own bin (offline: never a registry download),
 * and a bot in a separate process runs against it, on the wall clock, or on simulated time with one
 * driver moving both clocks (examples/shared-time.ts over the control API's clock routes).
 */
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, example, ROOT, type Run, run } from './run.js';

beforeAll(ensureBuilt, 120_000);

let cli: Run | undefined;
afterEach(async () => {
  cli?.stop();
  await cli?.exited;
  cli = undefined;
});

/** `npx --offline graph-call-machines-emulator ...`; resolves with the origin it prints. */
async function startCli(args: string[]): Promise<string> {
  cli = run(['--offline', 'graph-call-machines-emulator', '--port', '0', ...args], {
    bin: 'npx',
    group: true,
    timeoutMs: 60_000,
  });
  const [, url] = await cli.waitFor(/Graph v1\.0\s+(http:\S+)\/v1\.0/);
  return url!;
}

const clock = async (origin: string, init?: { to?: number; ms?: number }) => {
  const res = await fetch(`${origin}/_emulator/clock${init ? '/advance' : ''}`, {
    method: init ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json' },
    body: init ? JSON.stringify(init) : undefined,
  });
  return { status: res.status, json: (await res.json()) as { now: number; nextDue: number | null } };
};

describe('the emulator CLI from another process', () => {
  it('the built bin is executable even when dist is up to date (npx links a path once, then never chmods it)', async () => {
    const bin = join(ROOT, 'dist/emulator/cli.js');
    chmodSync(bin, 0o644); // as tsc writes it into a fresh clone
    await ensureBuilt();
    expect(statSync(bin).mode & 0o777).toBe(0o755);
  });

  it('npx runs the root package’s own bin offline; a node:http bot records a call on it (wall clock)', {
    timeout: 90_000,
  }, async () => {
    const origin = await startCli([]);
    expect(cli!.output()).toContain('(aud emulator-bot, tid ');
    expect(cli!.output()).toContain('clock       system');
    // What a bot needs, ready to paste into createCallRuntime.
    expect(cli!.output()).toContain(`graphUrl: '${origin}/v1.0'`);
    expect(cli!.output()).toContain(
      `notificationAuth: { appId: 'emulator-bot', openIdConfigurationUrl: '${origin}/v1/.well-known/OpenIdConfiguration' }`,
    );
    expect(cli!.output()).toContain(`insecureRecordingHosts: ['${new URL(origin).host}']`);
    const bot = example('node-http-bot.ts', [], { env: { EMULATOR_URL: origin } });
    const code = await bot.exited;
    expect(bot.output()).toContain('record: deleted/processed, clip {"seconds":2,"bytes":64044}');
    expect(bot.output()).toContain('call ended: hungUp; files left: 0');
    expect(bot.output()).toContain('notifications rejected: 0');
    expect(code, bot.output()).toBe(0);
    const calls = (await (await fetch(`${origin}/_emulator/calls`)).json()) as Array<{ endedBy?: string }>;
    expect(calls.map((c) => c.endedBy)).toEqual(['bot']);
  });

  it('reports the next due timer and advances to an absolute time', async () => {
    const origin = await startCli(['--simulated']);
    const start = (await clock(origin)).json;
    expect(start.nextDue).toBeNull();
    await fetch(`${origin}/_emulator/calls`, {
      method: 'POST',
      body: JSON.stringify({ callbackUri: 'http://127.0.0.1:9/cb' }),
    });
    // The new call expires 45 minutes from now unless a keepAlive comes.
    expect((await clock(origin)).json.nextDue).toBe(start.now + 45 * 60_000);
    const moved = await clock(origin, { to: start.now + 1000 });
    expect(moved).toMatchObject({ status: 200, json: { now: start.now + 1000 } });
    expect((await clock(origin, { to: start.now })).status).toBe(400); // never back in time
  });

  it('a bot on simulated time drives both clocks: a message and 24 h of keepAlives, all on time', async () => {
    const origin = await startCli(['--simulated']);
    const bot = example('simulated-cli-bot.ts', [], { env: { EMULATOR_URL: origin } });
    const code = await bot.exited;
    expect(bot.output()).toContain('record: deleted/processed, 4 s of audio');
    expect(bot.output()).toContain('after 24 simulated hours: 96 keepAlives, 96 answered 200');
    expect(bot.output()).toContain('call ended: hungUp; notifications rejected: 0');
    expect(code, bot.output()).toBe(0);
  });
});
