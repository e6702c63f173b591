/**
 * The demo voicemail bot, from the ring. Six calls:
 *  1. voicemail: the first caller is answered, hears a greeting, leaves a
 *     message (beep, speaks, stop tone) that is downloaded, "processed" (WAV
 *     header, duration, loudness) and deleted; keepAlive every 15 min; the bot
 *     hangs up after three hours.
 *  2. left alone: every keepAlive fails (503), so the 45-minute rule ends it.
 *  3. gone: the caller's side drops without a word; the next keepAlive gets 404.
 *  4. busy: a second caller is rejected as busy.
 *  5. redirected: a third caller is redirected to the operator.
 *  6. outgoing: the bot calls the operator, nobody answers; the summary says why.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject } from 'rxjs';
import { type HttpAttemptEvent, type IncomingDecision, sleep } from '../src/adapters/index.js';
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
const OPERATOR = {
  identity: { user: { id: '5810cede-b7a8-4b5c-9d1e-2a3b4c5d6e7f', displayName: 'Operator' } },
};
const NAMES = ['voicemail', 'left alone', 'gone', 'busy', 'redirected', 'outgoing'];

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

  // The bot listens first: the runtime names its URL when it answers and places calls.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const bot = createServer((req, res) => handler?.(req, res));
  await new Promise<void>((resolve) => bot.listen(0, '127.0.0.1', resolve));
  const callbackUri = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/callback`;
  const names = new Map<string, string>();
  const ended = new Map<string, { reason: string; endedAt: number; why?: string }>();
  let offered: (id: string) => void = () => {};
  const voicemailOffered = new Promise<string>((resolve) => {
    offered = resolve;
  });
  const watch = (id: string, name: string) => {
    names.set(id, name);
    if (name === 'voicemail') offered(id);
    timeline.names(names);
    // A call still live when the demo stops rejects with 'stopped': it simply stays out of the summary.
    runtime.whenEnded(id).then(
      (out) => {
        const info = out.resultInfo;
        const why = info
          ? `${info.code}/${info.subcode}${info.message ? ` ${info.message}` : ''}`
          : undefined;
        ended.set(id, { reason: out.reason, endedAt: out.endedAt, ...(why ? { why } : {}) });
      },
      () => {},
    );
  };
  const CALLERS: Record<string, { name: string; decision: IncomingDecision }> = {
    '+14255550100': { name: 'voicemail', decision: { answer: {} } },
    '+14255550101': { name: 'busy', decision: { reject: 'busy' } },
    '+14255550102': { name: 'redirected', decision: { redirect: { targets: [OPERATOR], timeout: 20 } } },
  };

  const runtime = createCallRuntime({
    callbackUri,
    onIncomingCall: (call) => {
      const phone = (call.caller as { identity?: { phone?: { id?: string } } } | undefined)?.identity?.phone
        ?.id;
      const who = CALLERS[phone ?? ''];
      watch(call.callId, who?.name ?? 'stranger');
      return who?.decision ?? { reject: 'forbidden' };
    },
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
  handler = runtime.nodeHandler;
  runtime.states$.subscribe((s) => timeline.state(s));
  runtime.events$.subscribe((e) => timeline.event(e));

  timeline.note(
    `emulator ${emulator.url}  bot ${callbackUri}  clock ${sim ? 'simulated' : 'wall (scaled 1:300)'}`,
  );

  const leftAlone = emulator.createCall({ callbackUri });
  const gone = emulator.createCall({ callbackUri });
  for (const [id, name] of [
    [leftAlone.id, 'left alone'],
    [gone.id, 'gone'],
  ] as const) {
    runtime.track(id);
    watch(id, name);
  }
  emulator.control.injectFault({
    route: 'keepAlive',
    callId: leftAlone.id,
    count: 1_000,
    fault: { kind: 'status', status: 503 },
  });
  // Three callers ring; onIncomingCall answers the first, rejects the second, redirects the third.
  emulator.ring({
    callbackUri,
    from: '+14255550100',
    script: { promptSeconds: 3, caller: { kind: 'speak', seconds: 6, thenTone: '#' } },
  });
  emulator.ring({ callbackUri, from: '+14255550101' });
  emulator.ring({ callbackUri, from: '+14255550102' });
  // The bot calls the operator; nobody answers (the emulator's callee rings 60 s).
  emulator.control.setDefaultScript({ callee: { kind: 'noAnswer' } });
  const outgoing = runtime
    .placeCall({ targets: [OPERATOR], policy: { ringTimeoutMs: Math.max(1_000, 120_000 * scale) } })
    .then((id) => watch(id, 'outgoing'));
  const TOTAL = 6;

  let message: DemoSummary['message'];
  let greetingFinal: string | undefined;
  const recorded = (async () => {
    const voicemail = await voicemailOffered;
    await runtime.whenEstablished(voicemail);
    const greeting = await runtime.playPrompt(voicemail, ['https://bot.example/prompts/greeting.wav']);
    greetingFinal = greeting.final;
    timeline.note(`greeting played: ${greeting.final}`);
    return runtime.record(
      voicemail,
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
  })();

  // Call 3's far side vanishes after 10 minutes without a notification.
  const dropAt = t0 + 10 * MIN * scale;
  const hangUpAt = t0 + 180 * MIN * scale;
  const dropTimer = clock.setTimeout(
    () => emulator.control.hangUpByCaller(gone.id, { silent: true }),
    dropAt - clock.now(),
  );
  const hangTimer = clock.setTimeout(() => {
    void voicemailOffered.then((id) => runtime.hangUp(id)).catch(() => {});
  }, hangUpAt - clock.now());

  const allEnded = () => ended.size === TOTAL;
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
      (async () => {
        while (!allEnded()) await sleep(clock, 200);
      })(),
      sleep(clock, MIN, giveUp.signal).catch(() => {}),
    ]);
    giveUp.abort();
  }
  clock.clearTimeout(dropTimer);
  clock.clearTimeout(hangTimer);
  await outgoing.catch(() => {});
  const rec = await recorded;

  const stats = emulator.control.requests();
  const keepAlives = stats.filter((r) => r.route === 'keepAlive' && r.status === 200);
  const filesLeft = (await store.list()).length;
  const summary: DemoSummary = {
    ok: false,
    calls: [...names]
      .sort((a, b) => NAMES.indexOf(a[1]) - NAMES.indexOf(b[1]))
      .map(([id, name]) => {
        const e = ended.get(id);
        return {
          name,
          callId: id,
          reason: e?.reason ?? 'still active',
          endedAfter: e ? timeline.elapsed(e.endedAt) : '-',
          keepAlives: keepAlives.filter((r) => r.callId === id).length,
          ...(e?.why ? { why: e.why } : {}),
        };
      }),
    keepAlivesSent: keepAlives.length,
    recordingsDownloaded: rec.bytes ? 1 : 0,
    recordingsDeleted: rec.final === 'deleted' ? 1 : 0,
    filesLeft,
    simulatedMs: clock.now() - t0,
    wallMs: Math.round(performance.now() - wallStart),
    message,
    ...(greetingFinal ? { greeting: greetingFinal } : {}),
  };
  summary.ok =
    summary.filesLeft === 0 &&
    greetingFinal === 'completed' &&
    rec.outcome === 'processed' &&
    // The second call ends at 45:00 either way: Graph's terminated notification or the bot's own deadline.
    /^hungUp,(terminated|expired),notFound,rejected,redirected,notAnswered$/.test(
      NAMES.map((n) => summary.calls.find((c) => c.name === n)?.reason).join(','),
    );

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
