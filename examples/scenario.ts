/**
 * Shared by the framework examples. They run on the wall clock with token validation on, against
 * - the emulator started in this process (default), or
 * - an emulator in another process when EMULATOR_URL is set to the origin it printed
 *   (`npx graph-call-machines-emulator` -> EMULATOR_URL=http://127.0.0.1:4010),
 * record one short message, and hang up. In production: graphUrl defaults to Graph,
 * `clientCredentials(...)` replaces `staticToken`, `notificationAuth: { appId }` is enough.
 */
import {
  type CallRuntime,
  type Clock,
  createCallRuntime,
  createMemoryRecordingStore,
  staticToken,
} from 'graph-call-machines';
import { type CallerScript, DEFAULT_AUDIENCE, startEmulator } from 'graph-call-machines/emulator';

/** Where the bot's Graph is, and how a test creates a call on it. */
export interface GraphSide {
  graphUrl: string;
  /** The emulator's OpenID configuration (the real one is Graph's default). */
  openIdConfigurationUrl: string;
  /** host:port serving recordings over plain http. */
  recordingHost: string;
  createCall(callbackUri: string, script: CallerScript): Promise<string>;
  close(): Promise<void>;
}

/** The OpenID path of the emulator, the same path as Graph's own (api.aps.skype.com). */
const OPENID_PATH = '/v1/.well-known/OpenIdConfiguration';

async function inProcess(appId: string): Promise<GraphSide> {
  const emulator = await startEmulator({ audience: appId });
  return {
    graphUrl: emulator.url,
    openIdConfigurationUrl: emulator.openIdConfigurationUrl,
    recordingHost: emulator.recordingHost,
    createCall: async (callbackUri, script) => emulator.createCall({ callbackUri, script }).id,
    close: () => emulator.close(),
  };
}

/** An emulator CLI in another process, driven over its control API. */
function remote(origin: string): GraphSide {
  const base = new URL(origin);
  return {
    graphUrl: new URL('/v1.0', base).href,
    openIdConfigurationUrl: new URL(OPENID_PATH, base).href,
    recordingHost: base.host,
    async createCall(callbackUri, script) {
      const res = await fetch(new URL('/_emulator/calls', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ callbackUri, script }),
      });
      if (res.status !== 201)
        throw new Error(`emulator: POST /_emulator/calls ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    close: async () => {},
  };
}

/**
 * The bot's runtime and its Graph. `appId` is the bot's app id: the audience of Graph's notification
 * tokens (the emulator CLI's `--audience`, default `emulator-bot`). `clock`: the wall clock unless given.
 */
export async function startBotRuntime(
  options: { appId?: string; clock?: Clock } = {},
): Promise<{ runtime: CallRuntime; graph: GraphSide }> {
  const appId = options.appId ?? process.env.BOT_APP_ID ?? DEFAULT_AUDIENCE;
  const url = process.env.EMULATOR_URL;
  const graph = url ? remote(url) : await inProcess(appId);
  const runtime = createCallRuntime({
    ...(options.clock ? { clock: options.clock } : {}),
    graphUrl: graph.graphUrl,
    token: staticToken('example-app-token'), // production: clientCredentials(new ClientSecretCredential(...))
    notificationAuth: {
      appId, // production: only this; Graph's OpenID configuration is the default
      openIdConfigurationUrl: graph.openIdConfigurationUrl, // the emulator signs as Graph's issuer does
    },
    insecureRecordingHosts: [graph.recordingHost],
    store: createMemoryRecordingStore(),
  });
  return { runtime, graph };
}

/** One call: the caller speaks two seconds and presses #; the bot records, reads the clip, hangs up. */
export async function runScenario(
  runtime: CallRuntime,
  graph: GraphSide,
  callbackUri: string,
): Promise<void> {
  const callId = await graph.createCall(callbackUri, {
    caller: { kind: 'speak', seconds: 2, thenTone: '#' },
    beepSeconds: 0.5,
  });
  runtime.track(callId);
  const result = await runtime.record(callId, { stopTones: ['#'] }, (clip) => ({
    seconds: clip.wav?.durationSeconds,
    bytes: clip.bytes,
  }));
  console.log(`record: ${result.final}/${result.outcome}, clip ${JSON.stringify(result.result)}`);
  const ended = await runtime.hangUp(callId);
  console.log(`call ended: ${ended.reason}; files left: ${(await runtime.store.list()).length}`);
}
