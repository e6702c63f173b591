/**
 * Issue 16, failures visible by default: with no `log` option a bot's
 * keepAlive and download failures reach the console (one line each: the
 * call, what failed, what happens next; never a token), `log: false` keeps
 * it quiet, and a `log` function gets the entries instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/runtime.js';
import { type ConsoleCapture, captureConsole, MIN, type World, world } from './kit.js';

let out: ConsoleCapture | undefined;
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
  out?.restore();
  out = undefined;
});

function expectNoSecret(text: string, b: World) {
  expect(text).not.toContain(b.appToken);
  for (const t of b.recordingTokens) expect(text).not.toContain(t);
  expect(text).not.toMatch(/Bearer\s+(?!\[redacted\])/);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
}

/** keepAlive answers 503 from now on: the call runs out its 45 minutes. */
async function keepAliveDown(b: World) {
  const id = b.call();
  b.emulator.control.injectFault({ route: 'keepAlive', callId: id, fault: { kind: 'status', status: 503 } });
  const ended = b.runtime.whenEnded(id);
  await b.clock.advance(46 * MIN);
  return { id, ended: await ended };
}

describe('no log option: warnings and errors on the console', () => {
  it('keepAlive failures: a line per failure with the retry, then the expiry; no token', async () => {
    out = captureConsole();
    w = await world();
    const { id, ended } = await keepAliveDown(w);
    // Graph (the emulator) ends the call at 45:00 with 408/8537, a moment before the local deadline: expired.
    expect(ended.reason).toBe('expired');
    expect(ended.resultInfo).toMatchObject({ code: 408, subcode: 8537 });
    const warns = out.lines.filter((l) => l.method === 'warn').map((l) => l.text);
    expect(warns.length).toBeGreaterThan(2);
    expect(warns[0]).toMatch(
      new RegExp(
        `^graph-call-machines warn: call ${id}: keepAlive failed \\(503 \\w+\\); retrying in [\\d.]+ (s|min)$`,
      ),
    );
    expect(warns.at(-1)).toMatch(/keepAlive failed \(503 \w+\); no retry fits before the 45-minute deadline/);
    const errors = out.lines.filter((l) => l.method === 'error').map((l) => l.text);
    expect(errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^graph-call-machines error: call ${id}: call expired: no successful keepAlive within 45 minutes: ` +
            '\\d+ failures in a row, the last \\(503 \\w+\\); its records are stopped and their clips deleted$',
        ),
      ),
    ]);
    for (const l of out.lines) expect(l.text).not.toContain('\n');
    expectNoSecret(out.text(), w);
  });

  it('a download failure: one error line naming the record, the cause and what happens next', async () => {
    out = captureConsole();
    w = await world();
    const id = w.call();
    w.emulator.control.injectFault({ route: 'download', fault: { kind: 'status', status: 500 } });
    const [result] = await Promise.all([w.runtime.record(id, {}, () => 'never'), w.clock.advance(2 * MIN)]);
    expect(result).toMatchObject({ outcome: 'downloadFailed' });
    expect(w.recordingTokens.length).toBeGreaterThan(0);
    const errors = out.lines.filter((l) => l.method === 'error').map((l) => l.text);
    expect(errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^graph-call-machines error: call ${id}: record rec-\\d+ failed: downloadFailed: .*500.*; anything stored was deleted; the call goes on$`,
        ),
      ),
    ]);
    expectNoSecret(out.text(), w);
  });

  it('forgot insecureRecordingHosts with the emulator: the refusal names the option, on the console', async () => {
    out = captureConsole();
    w = await world({ insecureRecordingHosts: undefined });
    const id = w.call();
    const [result] = await Promise.all([w.runtime.record(id, {}, () => 'never'), w.clock.advance(MIN)]);
    expect(result).toMatchObject({ outcome: 'downloadFailed' });
    expect(result.error?.message).toContain(
      `host ${w.emulator.recordingHost} is not in \`insecureRecordingHosts\``,
    );
    // The token never went to the refused host.
    expect(w.recordingTokens).toEqual([]);
    const errors = out.lines.filter((l) => l.method === 'error').map((l) => l.text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`call ${id}: record rec-1 failed: downloadFailed`);
    expect(errors[0]).toContain('insecureRecordingHosts');
    expectNoSecret(out.text(), w);
  });

  it('a rejected notification: one warning with the status and code, never the body or the JWT', async () => {
    out = captureConsole();
    w = await world({ notificationAuth: { appId: 'bot-app-id' } });
    // Malformed: refused before any key fetch (no network in tests).
    const jwt = 'eyJub3QiOiJhIGp3dCJ9';
    const body = JSON.stringify({
      value: [{ changeType: 'deleted', resourceUrl: '/communications/calls/x' }],
    });
    const result = await w.runtime.handleNotification(body, { authorization: `Bearer ${jwt}` });
    expect(result.status).toBe(401);
    const warns = out.lines.filter((l) => l.method === 'warn').map((l) => l.text);
    expect(warns).toEqual([
      expect.stringMatching(
        /^graph-call-machines warn: notification rejected \[status=401 code=malformedToken error=notification token is not a JWT\]; answered 401; no call was touched$/,
      ),
    ]);
    expect(out.text()).not.toContain('eyJ');
  });

  it('a flood of rejected notifications is thinned out: 10 lines, then one in a hundred with the count', async () => {
    out = captureConsole();
    w = await world({ notificationAuth: { appId: 'bot-app-id' } });
    for (let i = 0; i < 250; i++)
      await w.runtime.handleNotification('{}', { authorization: 'Bearer eyJub3QiOiJhIGp3dCJ9' });
    const warns = out.lines.filter((l) => l.method === 'warn').map((l) => l.text);
    expect(warns).toHaveLength(12);
    expect(warns.slice(10)).toEqual([
      expect.stringMatching(/notification rejected .* \(100 times so far; repeats are thinned out\)$/),
      expect.stringMatching(/\(200 times so far; repeats are thinned out\)$/),
    ]);
    expect(w.runtime.stats().rejectedNotifications).toBe(250);
  });
});

describe('log option', () => {
  it('log: false silences the library', async () => {
    out = captureConsole();
    w = await world({ log: false });
    const { ended } = await keepAliveDown(w);
    expect(ended.reason).toBe('expired');
    expect(out.lines).toEqual([]);
  });

  it('a log function gets the entries (with what happens next) and the console stays quiet', async () => {
    out = captureConsole();
    const logs: LogEntry[] = [];
    w = await world({ log: (e) => logs.push(e) });
    const { id } = await keepAliveDown(w);
    expect(out.lines).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        callId: id,
        msg: expect.stringMatching(/^keepAlive failed/),
        next: expect.any(String),
      }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        callId: id,
        msg: expect.stringMatching(/call expired: .*failures in a row/),
      }),
    );
  });
});
