/**
 * Watch a call in the Stately inspector.
 *
 *   npx tsx examples/inspect.ts             # start a relay, run a short simulated call, exit
 *   npx tsx examples/inspect.ts --hold 120  # then keep the relay up 2 min: open the printed URL
 *   npx tsx examples/inspect.ts --connect ws://localhost:8080   # use a relay that is already running
 *
 * The relay (`createInspectorServer` from @statelyai/inspect/server) is a local WebSocket server
 * whose page is only an iframe of the hosted inspector, https://stately.ai/inspect: the machines
 * are drawn by Stately's site, so the browser needs the internet (this process does not). It keeps
 * the last 200 events for a browser that connects late. The call runs on a SimulatedClock against
 * the built-in Graph emulator: 16 simulated minutes (a recording, one keepAlive, a hang-up) take
 * well under a second. When the relay is not reachable the call runs all the same, its events are
 * dropped, and the process still exits (see relay-inspector.ts).
 */
import { createServer } from 'node:net';
import { createInspectorServer } from '@statelyai/inspect/server';
import { createHarness } from 'graph-call-machines/testing';
import { createRelayInspector } from './relay-inspector.js';

const MIN = 60_000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function seconds(name: string): number {
  const v = Number(arg(name) ?? 0);
  return Number.isFinite(v) && v >= 0 ? v : 0;
}

/** A port nothing listens on (the relay takes a fixed port and crashes on a busy one). */
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
  const existing = arg('connect');
  let relay: { stop(): void } | undefined;
  let url = existing;
  if (!url) {
    const port = Number(arg('port') ?? 0) || (await freePort());
    relay = createInspectorServer({ port, autoOpen: false });
    url = `ws://localhost:${port}`;
  }
  const inspector = createRelayInspector(url);
  // Events sent before the socket opens are kept (200 at most): wait for it so none is dropped.
  if (await inspector.connected(5_000)) {
    const page = url.replace(/^ws/, 'http');
    console.log(
      `inspector relay up at ${url}: open ${page} in a browser (the page embeds stately.ai/inspect)`,
    );
  } else {
    console.log(`inspector relay not reachable at ${url}: the call runs anyway, its events are dropped`);
  }

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
  const hold = seconds('hold');
  if (hold > 0 && inspector.status() === 'open') {
    console.log(`keeping the relay up for ${hold} s (Ctrl-C to stop)`);
    await wall(hold * 1000);
  }
  console.log(`inspector ${inspector.status() === 'open' ? 'stopped' : 'stopped (relay never answered)'}`);
  inspector.stop();
  relay?.stop();
  // No process.exit(): nothing is left running, so the process ends on its own.
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
