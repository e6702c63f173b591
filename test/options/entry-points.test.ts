/**
 * The other option entry points (createGraphClient, createUndiciHttp,
 * startEmulator) and the runtime's remaining options: each refusal is one
 * OptionsError naming the path, the given type and what is allowed.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { staticToken } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createGraphClient } from '../../src/graph/client.js';
import { OptionsError } from '../../src/options/error.js';
import { createCallRuntime } from '../../src/runtime.js';
import { type ConsoleCapture, captureConsole } from './kit.js';

let out: ConsoleCapture | undefined;
afterEach(() => {
  out?.restore();
  out = undefined;
});

function thrown(run: () => unknown): OptionsError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    // Still a TypeError, as these entry points threw before.
    expect(err).toBeInstanceOf(TypeError);
    return err as OptionsError;
  }
  throw new Error('accepted');
}

const token = staticToken('test-app-token');
const http = createUndiciHttp({ token });
afterAll(() => http.close());

describe('createGraphClient / createUndiciHttp', () => {
  it('createGraphClient checks http by shape and graphUrl by version', () => {
    expect(thrown(() => createGraphClient({ http: {} as never }))).toMatchObject({
      where: 'createGraphClient',
      path: 'http',
      received: 'an object',
    });
    const err = thrown(() => createGraphClient({ http, graphUrl: 'https://graph.microsoft.com/v2' }));
    expect(err.message).toMatch(
      /`graphUrl` must be .*\/v1\.0 or \/beta.*; got 'https:\/\/graph\.microsoft\.com\/v2'$/,
    );
    expect(createGraphClient({ http, graphUrl: 'https://graph.microsoft.com/beta' }).version).toBe('beta');
  });

  it('createUndiciHttp: a token function gets "wrap it", a bad retry names retry.<field>', () => {
    const fnToken = thrown(() => createUndiciHttp({ token: (async () => 'secret-value') as never }));
    expect(fnToken).toMatchObject({ path: 'token', received: 'a function' });
    expect(fnToken.message).toContain('{ getToken: yourFunction }');
    expect(thrown(() => createUndiciHttp({ token, retry: { maxAttempts: 0 } }))).toMatchObject({
      path: 'retry.maxAttempts',
      received: '0',
    });
    expect(thrown(() => createUndiciHttp({ token, timeoutMs: -5 }))).toMatchObject({ path: 'timeoutMs' });
  });
});

describe('startEmulator', () => {
  it('refuses a bad port or an empty appToken before listening, printing no token', async () => {
    await expect(startEmulator({ port: 70_000 })).rejects.toMatchObject({
      name: 'OptionsError',
      path: 'port',
      received: '70000',
    });
    const err = await startEmulator({ appToken: '' }).catch((e: unknown) => e as OptionsError);
    expect(err).toMatchObject({ path: 'appToken', received: 'a string' });
    await expect(startEmulator({ clock: Date as never })).rejects.toMatchObject({ path: 'clock' });
  });
});

describe('createCallRuntime: the other options', () => {
  it('names the nested path, refuses an unknown policy field, warns about an unknown option', async () => {
    out = captureConsole();
    const base = { token, notificationAuth: false as const };
    expect(thrown(() => createCallRuntime({ ...base, notificationAuth: { appId: '' } }))).toMatchObject({
      path: 'notificationAuth.appId',
    });
    expect(
      thrown(() => createCallRuntime({ ...base, clock: new SimulatedClock().now as never })),
    ).toMatchObject({
      path: 'clock',
      received: 'a function',
    });
    expect(
      thrown(() => createCallRuntime({ ...base, recordPolicy: { processingTimeoutMs: 0 } })),
    ).toMatchObject({ path: 'recordPolicy.processingTimeoutMs', received: '0' });
    expect(
      thrown(() => createCallRuntime({ ...base, callPolicy: { keepAliveIntervaMs: 1 } as never })),
    ).toMatchObject({ path: 'callPolicy.keepAliveIntervaMs', expected: 'is not a known option' });
    expect(thrown(() => createCallRuntime({ ...base, tokenKey: 42 as never }))).toMatchObject({
      path: 'tokenKey',
      received: 'a number',
    });
    expect(thrown(() => createCallRuntime({ ...base, recordingTokenKey: 42 as never }))).toMatchObject({
      path: 'recordingTokenKey',
      received: 'a number',
    });
    // A typo at the top level is not fatal (options added later stay compatible) but is said.
    const runtime = createCallRuntime({ ...base, notificationsAuth: false } as never);
    await runtime.stop();
    expect(out.lines.at(-1)).toEqual({
      method: 'warn',
      text: expect.stringContaining(
        'unknown option `notificationsAuth` ignored (did you mean `notificationAuth`?)',
      ),
    });
  });
});
