/**
 * Issue 16, the table "a new user's first hour": each mistake is refused
 * where the option is given, with an OptionsError that names the option,
 * what was given (only the type of a token) and what is allowed, and the
 * refusal is logged (on the console by default).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { staticToken } from '../../src/adapters/token.js';
import { OptionsError } from '../../src/options/error.js';
import { type CallRuntimeOptions, createCallRuntime } from '../../src/runtime.js';
import { type ConsoleCapture, captureConsole, SEC, type World, world } from './kit.js';

let out: ConsoleCapture | undefined;
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
  out?.restore();
  out = undefined;
});

const token = staticToken('test-app-token');

/** The OptionsError createCallRuntime throws for `options`. */
function refusal(options: unknown): OptionsError {
  try {
    createCallRuntime(options as CallRuntimeOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    return err as OptionsError;
  }
  throw new Error('createCallRuntime accepted the options');
}

describe('createCallRuntime refuses a mistake before anything starts', () => {
  it('createCallRuntime(): says options are needed and which, not "reading \'clock\'"', () => {
    out = captureConsole();
    const err = refusal(undefined);
    expect(err).toMatchObject({ where: 'createCallRuntime', path: '', received: 'undefined' });
    expect(err.message).toMatch(
      /^createCallRuntime: the options must be an object: .*token, notificationAuth/,
    );
    // The refusal is on the console too, one line.
    expect(out.lines).toEqual([
      { method: 'error', text: expect.stringContaining('createCallRuntime: the options') },
    ]);
  });

  it('no notificationAuth: names the option and both allowed forms, { appId } and false', () => {
    out = captureConsole();
    const err = refusal({ token });
    expect(err).toMatchObject({ path: 'notificationAuth', received: 'undefined' });
    expect(err.message).toContain(
      '`notificationAuth` is required: `{ appId }` in production, `false` in tests',
    );
  });

  it('graphUrl: 42 and insecureRecordingHosts: "localhost": the option, the value and what is allowed', () => {
    out = captureConsole();
    const url = refusal({ token, notificationAuth: false, graphUrl: 42 });
    expect(url).toMatchObject({ path: 'graphUrl', received: '42' });
    expect(url.message).toMatch(
      /`graphUrl` must be the Graph base URL .*ending in \/v1\.0 or \/beta.*; got 42$/,
    );
    const hosts = refusal({ token, notificationAuth: false, insecureRecordingHosts: 'localhost' });
    expect(hosts).toMatchObject({ path: 'insecureRecordingHosts', received: "'localhost'" });
    expect(hosts.message).toMatch(/`insecureRecordingHosts` must be an array of hosts/);
  });

  it("token: 'my-token': asks for a TokenProvider, points at staticToken, never prints the token", () => {
    out = captureConsole();
    const err = refusal({ token: 'my-token', notificationAuth: false });
    expect(err).toMatchObject({ path: 'token', received: 'a string' });
    expect(err.message).toContain("use staticToken('...')");
    expect(err.message).toContain('getToken()');
    expect(`${err.message} ${JSON.stringify(err)} ${out.text()}`).not.toContain('my-token');
  });

  it('graphUrl without a version: refused, /v1.0 or /beta required (not a 404 at record time)', () => {
    out = captureConsole();
    const err = refusal({ token, notificationAuth: false, graphUrl: 'https://graph.microsoft.com' });
    expect(err).toMatchObject({ path: 'graphUrl', received: "'https://graph.microsoft.com'" });
    expect(err.expected).toMatch(/ending in \/v1\.0 or \/beta/);
    // Both versions, with or without a trailing slash, pass.
    for (const graphUrl of ['https://graph.microsoft.com/v1.0', 'https://graph.microsoft.com/beta/'])
      void createCallRuntime({ token, notificationAuth: false, graphUrl, log: false }).stop();
  });

  it('callPolicy.keepAliveIntervalMs: 40_000, on the runtime or per track: thrown at once, nothing tracked', () => {
    out = captureConsole();
    const err = refusal({ token, notificationAuth: false, callPolicy: { keepAliveIntervalMs: 40_000 } });
    expect(err).toMatchObject({ path: 'callPolicy.keepAliveIntervalMs', received: '40000' });
    expect(err.message).toMatch(/within 15\.\.45 minutes/);

    const runtime = createCallRuntime({ token, notificationAuth: false });
    const id = '5c7e1a52-8a0f-4c5e-9a7b-3f1d2e4c6b8a';
    let thrown: unknown;
    try {
      runtime.track(id, { policy: { keepAliveIntervalMs: 40_000 } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OptionsError);
    expect(thrown).toMatchObject({ where: 'track', path: 'policy.keepAliveIntervalMs', received: '40000' });
    expect(runtime.calls()).toEqual([]);
    // Logged with no `log` option: the cause shows without asking for it.
    expect(out.text()).toContain('track: `policy.keepAliveIntervalMs` must be within 15..45 minutes');
    return runtime.stop();
  });

  it('record(id, options, undefined): refused before any request; the call goes on', async () => {
    out = captureConsole();
    w = await world();
    const id = w.call();
    const handler = undefined as unknown as () => void;
    await expect(w.runtime.record(id, { maxRecordDurationInSeconds: 5 }, handler)).rejects.toMatchObject({
      name: 'OptionsError',
      where: 'record',
      path: 'handler',
      received: 'undefined',
    });
    await w.clock.advance(30 * SEC);
    const graph = w.emulator.control.requests().filter((r) => r.route !== 'keepAlive');
    expect(graph).toEqual([]);
    expect(w.emulator.control.call(id)?.recordings).toEqual([]);
    expect(w.runtime.get(id)?.getSnapshot().status).toBe('active');
    expect(out.text()).toMatch(/record: `handler` must be a function/);
  });
});
