/**
 * Watch a call in the Stately inspector.
 *
 *   npx tsx examples/inspect.ts            # run a short simulated call, print what was relayed, exit
 *   npx tsx examples/inspect.ts --hold 120 # then keep the relay up 2 min: open the printed URL
 *
 * The local relay from @statelyai/inspect/server serves a page that embeds
 * https://stately.ai/inspect (the browser needs the internet; this process
 * does not) and forwards what `createWebSocketInspector` sends it; it keeps
 * the last 200 events for a browser that connects late. The call runs on a
 * SimulatedClock against the built-in Graph emulator: 16 simulated minutes
 * (a recording, one keepAlive, a hang-up) take well under a second.
 *
 * The WebSocket inspector reconnects every 5 s for ever when its server is
 * gone, so it is stopped explicitly before the relay.
 */
import { createServer } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { createHarness } from '../src/testing/harness.js';

const MIN = 60_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

/** A port nothing listens on (the relay takes a fixed port and cannot report a busy one). */
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

const wall = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const port = arg('port', 0) || (await freePort());
  const holdSeconds = arg('hold', 0);
  const relay = createInspectorServer({ port, autoOpen: false });
  let sent = 0;
  const inspector = createWebSocketInspector({
    url: `ws://localhost:${port}`,
    filter: () => {
      sent++;
      return true;
    },
  });
  // Events sent before the socket opens are kept (200 at most): wait for it so none is dropped.
  for (let i = 0; i < 100 && (inspector.adapter as unknown as { status?: string }).status !== 'open'; i++)
    await wall(50);
  console.log(`inspector relay: http://localhost:${port} (open it in a browser to see the machines)`);

  const h = await createHarness({ runtime: { inspect: inspector.inspect } });
  try {
    const callId = h.call({
      script: { promptSeconds: 2, caller: { kind: 'speak', seconds: 3, thenTone: '#' } },
    });
    const recorded = h.runtime.record(
      callId,
      {
        prompts: [{ mediaInfo: { uri: 'https://bot.example/prompts/leave-a-message.wav' } }],
        playBeep: true,
        stopTones: ['#'],
        maxRecordDurationInSeconds: 30,
      },
      (clip) => ({ bytes: clip.bytes, seconds: clip.wav?.durationSeconds }),
    );
    await h.clock.advance(MIN);
    const rec = await recorded;
    console.log(
      `record: ${rec.final} (${rec.outcome}), ${rec.bytes} bytes, handler said ${JSON.stringify(rec.result)}`,
    );
    await h.clock.advance(15 * MIN);
    const ended = h.runtime.hangUp(callId);
    await h.clock.advance(0);
    const out = await ended;
    console.log(
      `call: ended ${out.reason} after ${Math.round((out.endedAt - h.emulator.control.call(callId)!.startedAt) / MIN)} simulated min`,
    );
  } finally {
    await h.close();
  }
  // The inspector converts each event on a setTimeout(0): let those run before closing.
  await wall(100);
  console.log(`${sent} inspection events sent to the relay`);
  if (holdSeconds > 0) {
    console.log(`keeping the relay up for ${holdSeconds} s (Ctrl-C to stop)`);
    await wall(holdSeconds * 1000);
  }
  inspector.stop();
  relay.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
