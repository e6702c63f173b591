/**
 * Shared by the framework examples: without GRAPH_URL they run against the
 * built-in emulator on the wall clock (token validation on, against the
 * emulator's keys), record one short message, and hang up.
 */

import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  type CallRuntime,
  createCallRuntime,
  createMemoryRecordingStore,
  staticToken,
} from '../src/index.js';

export async function startBotRuntime(): Promise<{ runtime: CallRuntime; emulator: Emulator }> {
  const emulator = await startEmulator();
  const runtime = createCallRuntime({
    graphUrl: emulator.url,
    token: staticToken('example-app-token'), // production: clientCredentials(new ClientSecretCredential(...))
    notificationAuth: {
      appId: emulator.audience, // production: your bot's app id, with Graph's default OpenID configuration
      openIdConfigurationUrl: emulator.openIdConfigurationUrl,
      issuers: [emulator.issuer],
    },
    insecureRecordingHosts: [emulator.recordingHost],
    store: createMemoryRecordingStore(),
  });
  return { runtime, emulator };
}

/** One call: the caller speaks two seconds and presses #; the bot records, reads the clip, hangs up. */
export async function runScenario(
  runtime: CallRuntime,
  emulator: Emulator,
  callbackUri: string,
): Promise<void> {
  const call = emulator.createCall({
    callbackUri,
    script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' }, beepSeconds: 0.5 },
  });
  runtime.track(call.id);
  const result = await runtime.record(call.id, { stopTones: ['#'] }, (clip) => ({
    seconds: clip.wav?.durationSeconds,
    bytes: clip.bytes,
  }));
  console.log(`record: ${result.final}/${result.outcome}, clip ${JSON.stringify(result.result)}`);
  const ended = await runtime.hangUp(call.id);
  console.log(`call ended: ${ended.reason}; files left: ${(await runtime.store.list()).length}`);
}
