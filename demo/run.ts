/**
 * The demo voicemail bot. Three calls:
 *  1. voicemail: keepAlive every 15 min, a recorded message (prompt, beep,
 *     caller speaks, stop tone), downloaded, "processed" (WAV header,
 *     duration, loudness), deleted; the bot hangs up after three hours.
 *  2. left alone: every keepAlive fails (503), so the 45-minute rule ends it.
 *  3. gone: the caller's side drops without a word; the next keepAlive gets 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject } from 'rxjs';
import { type HttpAttemptEvent, sleep } from '../src/adapters/index.js';
import { startEmulator } from '../src/emulator/index.js';
import {
  type Clip,
  type Clock,
  createCallRuntime,
  createFileRecordingStore,
  createUndiciHttp,
  SimulatedClock,
  staticToken,
  systemClock,
} from '../src/index.js';
import { createLiveView, type LiveView } from '../src/view/index.js';
import { loudness } from './loudness.js';
import type { DemoOptions, DemoSummary } from './summary.js';
import { createTimeline } from './timeline.js';

export type { DemoOptions, DemoSummary } from './summary.js';

const MIN = 60_000;

export async function runDemo(opts: DemoOptions = {}): Promise<DemoSummary> {
  const wallStart = performance.now();
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sim = opts.realtime ? undefined : new SimulatedClock();
  const clock: Clock = sim ?? systemClock;
  // Real time uses short intervals so the story fits in half a minute.
  const scale = opts.realtime ? 1 / 300 : 1;
  const interval = 15 * MIN * scale;
  const deadline = 45 * MIN * scale;
  const t0 = clock.now();
  const timeline = createTimeline({ clock, t0, write, quiet: opts.quiet ?? false });

  const emulator = await startEmulator({ clock, keepAliveTimeoutMs: deadline });
  const appToken = staticToken('demo-app-token');
  const store = createFileRecordingStore({ clock });
  const attempts = new Subject<HttpAttemptEvent>();
  const http = createUndiciHttp({
    token: appToken,
    clock,
    onAttempt: (e: HttpAttemptEvent) => {
      timeline.request(e);
      attempts.next(e);
    },
  });
  let inspector: { inspect: (ev: unknown) => void; stop(): void } | undefined;
  if (opts.inspect) inspector = await startInspector(write);

  const runtime = createCallRuntime({
    graphUrl: emulator.url,
    http,
    clock,
    store,
    notificationAuth: {
      appId: emulator.audience,
      openIdConfigurationUrl: emulator.openIdConfigurationUrl,
      issuers: [emulator.issuer],
    },
    insecureRecordingHosts: [emulator.recordingHost],
    callPolicy: opts.realtime
      ? {
          keepAliveIntervalMs: interval,
          keepAliveDeadlineMs: deadline,
          retryBaseMs: 500,
          retryMaxMs: 2000,
          finalRetryMarginMs: 500,
          allowCustomIntervals: true,
        }
      : {},
    inspect: inspector?.inspect as never,
  });
  let view: LiveView | undefined;
  if (opts.view) {
    view = await createLiveView({ runtime, requests: attempts });
    write(`live view: ${view.url}  (open it in a browser; Ctrl-C ends the demo)`);
  }
  runtime.states$.subscribe((s) => timeline.state(s));
  runtime.events$.subscribe((e) => timeline.event(e));

  const bot = createServer(runtime.nodeHandler);
  await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
  const callbackUri = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/callback`;
  timeline.note(
    `emulator ${emulator.url}  bot ${callbackUri}  clock ${sim ? 'simulated' : 'wall (scaled 1:300)'}`,
  );

  const voicemail = emulator.createCall({
    callbackUri,
    script: { promptSeconds: 3, caller: { kind: 'speak', seconds: 6, thenTone: '#' } },
  });
  const leftAlone = emulator.createCall({ callbackUri });
  const gone = emulator.createCall({ callbackUri });
  const names = new Map([
    [voicemail.id, 'voicemail'],
    [leftAlone.id, 'left alone'],
    [gone.id, 'gone'],
  ]);
  timeline.names(names);
  emulator.control.injectFault({
    route: 'keepAlive',
    callId: leftAlone.id,
    count: 1_000,
    fault: { kind: 'status', status: 503 },
  });

  const ended = new Map<string, { reason: string; endedAt: number }>();
  for (const id of names.keys()) {
    runtime.track(id);
    // A call still live when the demo stops rejects with 'stopped': it simply stays out of the summary.
    runtime.whenEnded(id).then(
      (out) => ended.set(id, { reason: out.reason, endedAt: out.endedAt }),
      () => {},
    );
  }

  let message: DemoSummary['message'];
  const recorded = runtime.record(
    voicemail.id,
    {
      prompts: [{ mediaInfo: { uri: 'https://bot.example/prompts/leave-a-message.wav' } }],
      playBeep: true,
      stopTones: ['#'],
      maxRecordDurationInSeconds: 120,
      initialSilenceTimeoutInSeconds: 10,
    },
    async (clip: Clip) => {
      const level = await loudness(clip);
      message = { durationSeconds: clip.wav?.durationSeconds ?? 0, loudnessDbfs: level, bytes: clip.bytes };
      timeline.note(
        `processed message: ${clip.bytes} bytes, ${message.durationSeconds.toFixed(2)} s of ${clip.wav?.sampleRate ?? '?'} Hz audio, loudness ${level.toFixed(1)} dBFS`,
      );
      return message;
    },
  );

  // Call 3's far side vanishes after 10 minutes without a notification.
  const dropAt = t0 + 10 * MIN * scale;
  const hangUpAt = t0 + 180 * MIN * scale;
  const dropTimer = clock.setTimeout(
    () => emulator.control.hangUpByCaller(gone.id, { silent: true }),
    dropAt - clock.now(),
  );
  const hangTimer = clock.setTimeout(() => {
    void runtime.hangUp(voicemail.id).catch(() => {});
  }, hangUpAt - clock.now());

  const allEnded = () => ended.size === names.size;
  if (sim) {
    let lastProgress = 0;
    while (!allEnded() && sim.now() - t0 < 6 * 60 * MIN) {
      await sim.advance(5 * MIN);
      if (sim.now() - lastProgress >= 30 * MIN) {
        lastProgress = sim.now();
        timeline.progress();
      }
    }
  } else {
    // Wall clock: wait for the three endings (or give up after a minute).
    const giveUp = new AbortController();
    await Promise.race([
      Promise.allSettled([...names.keys()].map((id) => runtime.whenEnded(id))),
      sleep(clock, MIN, giveUp.signal).catch(() => {}),
    ]);
    giveUp.abort();
  }
  clock.clearTimeout(dropTimer);
  clock.clearTimeout(hangTimer);
  const rec = await recorded;

  const stats = emulator.control.requests();
  const keepAlives = stats.filter((r) => r.route === 'keepAlive' && r.status === 200);
  const filesLeft = (await store.list()).length;
  const summary: DemoSummary = {
    ok: false,
    calls: [...names].map(([id, name]) => {
      const e = ended.get(id);
      return {
        name,
        callId: id,
        reason: e?.reason ?? 'still active',
        endedAfter: e ? timeline.elapsed(e.endedAt) : '-',
        keepAlives: keepAlives.filter((r) => r.callId === id).length,
      };
    }),
    keepAlivesSent: keepAlives.length,
    recordingsDownloaded: rec.bytes ? 1 : 0,
    recordingsDeleted: rec.final === 'deleted' ? 1 : 0,
    filesLeft,
    simulatedMs: clock.now() - t0,
    wallMs: Math.round(performance.now() - wallStart),
    message,
  };
  summary.ok =
    summary.filesLeft === 0 &&
    rec.outcome === 'processed' &&
    // The second call ends at 45:00 either way: Graph's terminated notification or the bot's own deadline.
    /^hungUp,(terminated|expired),notFound$/.test(summary.calls.map((c) => c.reason).join(','));

  if (view) {
    write(`the story is over; the live view stays up at ${view.url} until Ctrl-C`);
    await (opts.viewUntil ?? new Promise((resolve) => process.once('SIGINT', resolve)));
    await view.close();
  }
  await runtime.stop();
  await new Promise<void>((resolve) => bot.close(() => resolve()));
  bot.closeAllConnections();
  await emulator.close();
  await store.close();
  inspector?.stop();

  if (opts.json) write(JSON.stringify(summary));
  else timeline.summary(summary);
  return summary;
}

async function startInspector(write: (line: string) => void) {
  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const port = 8080;
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  write(
    `inspector relay on http://localhost:${port}: open it in a browser (it embeds stately.ai/inspect); best with --realtime`,
  );
  return {
    inspect: inspector.inspect as (ev: unknown) => void,
    stop: () => {
      inspector.stop();
      server.stop();
    },
  };
}
