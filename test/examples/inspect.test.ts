/**
 * examples/inspect.ts as a child process: with a relay it streams the call's machines to it and
 * exits; with no relay listening it says so, runs the call anyway and still exits on its own (no
 * process.exit: a retry timer left behind by the inspector would keep it alive for ever).
 */
import { createServer } from 'node:net';
import { createInspectorServer } from '@statelyai/inspect/server';
import { WebSocket } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, example } from './run.js';

beforeAll(ensureBuilt, 120_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('inspector example', () => {
  it('exits on its own when no relay is listening, and says the relay is not reachable', async () => {
    const port = await freePort();
    const run = example('inspect.ts', ['--connect', `ws://127.0.0.1:${port}`], { timeoutMs: 20_000 });
    const code = await run.exited;
    expect(run.output()).toContain(`inspector relay not reachable at ws://127.0.0.1:${port}`);
    expect(run.output()).toContain('call: ended hungUp after 16 simulated min');
    expect(code, `killed after 20 s, still running:\n${run.output()}`).toBe(0);
  });

  it('streams the call and its recording to a running relay, then exits', async () => {
    const port = await freePort();
    const relay = createInspectorServer({ port, autoOpen: false });
    const viewer = new WebSocket(`ws://localhost:${port}`); // a second client sees what the relay forwards
    const received: string[] = [];
    viewer.onmessage = (m) => received.push(String(m.data));
    await new Promise((resolve, reject) => {
      viewer.onopen = resolve;
      viewer.onerror = reject;
    });
    try {
      const run = example('inspect.ts', ['--connect', `ws://localhost:${port}`]);
      const code = await run.exited;
      expect(run.output()).toContain(`inspector relay up at ws://localhost:${port}`);
      expect(code, run.output()).toBe(0);
      const events = received.map((r) => JSON.parse(r) as { type: string; name?: string });
      const actors = events.filter((e) => e.type === '@xstate.actor').map((e) => e.name);
      expect(actors).toEqual(
        expect.arrayContaining(['call', 'rec-1', 'keepAlive', 'downloadRecording', 'deleteClip']),
      );
      expect(events.filter((e) => e.type === '@xstate.snapshot').length).toBeGreaterThan(5);
      expect(received.join('\n')).not.toContain('test-app-token');
    } finally {
      viewer.close();
      relay.stop();
    }
  });
});
