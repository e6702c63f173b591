/**
 * A bot on simulated time against the emulator CLI in another process, one driver moving both
 * clocks (shared-time.ts): a recorded message and a day of keepAlives in about a second.
 *
 *   npx graph-call-machines-emulator --simulated --port 4010 &
 *   EMULATOR_URL=http://127.0.0.1:4010 npx tsx examples/simulated-cli-bot.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from 'graph-call-machines';
import { startBotRuntime } from './scenario.js';
import { shareTime } from './shared-time.js';

const HOUR = 3600_000;
const emulatorUrl = process.env.EMULATOR_URL;
if (!emulatorUrl) throw new Error('set EMULATOR_URL to the emulator CLI origin, e.g. http://127.0.0.1:4010');

const clock = new SimulatedClock();
const time = shareTime(clock, emulatorUrl);
await time.sync();
const { runtime, graph } = await startBotRuntime({ clock });
const server = createServer(runtime.nodeHandler);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const callbackUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/calling`;
const started = performance.now();

const callId = await graph.createCall(callbackUri, { caller: { kind: 'speak', seconds: 4, thenTone: '#' } });
runtime.track(callId);
const recorded = runtime.record(callId, { stopTones: ['#'] }, (clip) => clip.wav?.durationSeconds);
await time.advance(60_000);
const rec = await recorded;
console.log(`record: ${rec.final}/${rec.outcome}, ${rec.result} s of audio`);

await time.advance(24 * HOUR);
const seen = (await (
  await fetch(new URL(`/_emulator/requests?route=keepAlive&callId=${callId}`, emulatorUrl))
).json()) as Array<{ status: number }>;
const ok = seen.filter((r) => r.status === 200).length;
console.log(`after 24 simulated hours: ${seen.length} keepAlives, ${ok} answered 200`);

const ended = runtime.hangUp(callId);
await time.advance(0);
const out = await ended;
console.log(
  `call ended: ${out.reason}; notifications rejected: ${runtime.stats().rejectedNotifications}; ` +
    `wall time ${Math.round(performance.now() - started)} ms`,
);
await runtime.stop();
server.close();
server.closeAllConnections();
