/**
 * The framework examples run as a user runs them (a child process importing the built package)
 * against the emulator with token validation on: each records one message on one call, deletes the
 * clip, hangs up, rejects no notification and exits 0. The Bot Framework one also answers 401 on
 * its chat route to a request without Bot Framework's token.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, example } from './run.js';

beforeAll(ensureBuilt, 120_000);

function expectOneRecordedCall(output: string) {
  expect(output).toContain('record: deleted/processed, clip {"seconds":2,"bytes":64044}');
  expect(output).toContain('call ended: hungUp; files left: 0');
  expect(output).toContain('notifications rejected: 0');
  expect(output).not.toContain('example-app-token');
}

describe('framework examples against the emulator', () => {
  it.concurrent.each(['node-http-bot.ts', 'hono-bot.ts', 'express-bot.ts'])('%s', async (file) => {
    const run = example(file);
    const code = await run.exited;
    expect(run.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/api\/calling/);
    expectOneRecordedCall(run.output());
    expect(code, run.output()).toBe(0);
  });

  it('botframework-bot.ts: chat on /api/messages (401 without a token), one call on /api/calls', async () => {
    const run = example('botframework-bot.ts');
    const [, origin] = await run.waitFor(/bot listening on (http:\/\/127\.0\.0\.1:\d+)/);
    // The call takes 2.5 s of caller speech and beep, so the server is up while this runs.
    const chat = await fetch(`${origin}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        text: 'hi',
        channelId: 'msteams',
        serviceUrl: 'http://127.0.0.1:9',
      }),
    });
    expect(chat.status).toBe(401);
    const code = await run.exited;
    expect(run.output()).toContain(`calls ${origin}/api/calls`);
    expectOneRecordedCall(run.output());
    expect(code, run.output()).toBe(0);
  });
});
