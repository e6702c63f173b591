/**
 * Recording downloads, as the (non-Graph) recording host serves them: the
 * per-recording recordingAccessToken is the only key (the app token gets 401),
 * the body is a chunked octet-stream WAV, and the file is gone (404)
 * recordingRetentionMs after its call ended.
 */
import { timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { notFound, unauthorized } from './errors.js';
import type { Handler } from './server.js';
import { wavChunks } from './wav.js';

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export const downloadRecording: Handler = (ctx) => {
  const { env } = ctx;
  const rec = env.media.findRecording(ctx.params.recordingId ?? '');
  if (!rec) return ctx.fail(notFound('Recording not found.'));
  // A call past its keepAlive deadline ends now, which starts the retention period.
  env.calls.live(rec.callId);
  const call = env.calls.find(rec.callId);
  if (call?.endedAt !== undefined && env.clock.now() >= call.endedAt + env.options.recordingRetentionMs)
    return ctx.fail(notFound('Recording not found.'));
  const auth = /^Bearer\s+(\S+)\s*$/i.exec(String(ctx.req.headers.authorization ?? ''));
  if (!auth?.[1] || !sameSecret(auth[1], rec.token))
    return ctx.fail(unauthorized('The recording access token is missing or invalid.'));
  rec.downloads++;
  return { status: 200, stream: Readable.from(wavChunks(rec.seconds), { objectMode: false }) };
};
