import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { raw } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/emulator/cli.ts', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const url = /Graph v1\.0\s+(\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child.on('exit', () => reject(new Error(`exited early: ${err}`)));
  });
  started.catch(() => {}); // only awaited by tests that expect a start

  return { child, started, exited, output: () => out, errors: () => err };
}

describe('CLI', () => {
  it('prints its URLs, serves the control API on a simulated clock, and stops on SIGTERM', async () => {
    const cli = run(['--port', '0', '--simulated', '--limits', 'current']);
    const url = await cli.started;
    const origin = new URL(url).origin;
    expect(cli.output()).toContain(`${origin}/beta`);
    expect(cli.output()).toContain('current (120 s)');
    const call = await raw(`${origin}/_emulator/calls`, {
      method: 'POST',
      token: null,
      body: { callbackUri: 'http://127.0.0.1:9/cb' },
    });
    expect(call.status).toBe(201);
    const tooLong = await raw(`${url}/communications/calls/${call.json.id}/recordResponse`, {
      method: 'POST',
      body: { maxRecordDurationInSeconds: 121 },
    });
    expect(tooLong.status).toBe(400);
    const before = (await raw(`${origin}/_emulator/clock`, { token: null })).json.now;
    const after = await raw(`${origin}/_emulator/clock/advance`, {
      method: 'POST',
      token: null,
      body: { ms: 1000 },
    });
    expect(after.json.now).toBe(before + 1000);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('rejects bad arguments with exit code 2', async () => {
    const cli = run(['--limits', 'huge']);
    expect(await cli.exited).toBe(2);
    expect(cli.errors()).toMatch(/--limits/);
  });
});
