import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_TOKEN, callPath, raw, type Setup, setup } from './helpers.js';

let env: Setup | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** A completed recording of `seconds` of speech; returns its location and token. */
async function recorded(seconds: number, limits?: { retentionMs?: number }) {
  env = await setup(limits?.retentionMs ? { recordingRetentionMs: limits.retentionMs } : {});
  const { emu, bot, clock, graph } = env;
  const call = emu.createCall({
    callbackUri: bot.url,
    script: { caller: { kind: 'speak', seconds, thenTone: '#' } },
  });
  await graph.record(call.id, { stopTones: ['#'], maxRecordDurationInSeconds: 300 });
  await clock.advance((seconds + 2) * 1000);
  const op = bot.items()[0]?.resourceData;
  return { call, location: op.recordingLocation as string, token: op.recordingAccessToken as string };
}

async function download(url: string, token: string | undefined) {
  const res = await request(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
}

describe('recording download', () => {
  it('streams a 16 kHz 16-bit mono WAV whose data length is seconds * 32000, chunked', async () => {
    const { location, token } = await recorded(5);
    const res = await download(location, token);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    const b = res.body;
    expect(b.toString('ascii', 0, 4)).toBe('RIFF');
    expect(b.toString('ascii', 8, 12)).toBe('WAVE');
    expect(b.toString('ascii', 12, 16)).toBe('fmt ');
    expect(b.readUInt16LE(20)).toBe(1); // PCM
    expect(b.readUInt16LE(22)).toBe(1); // mono
    expect(b.readUInt32LE(24)).toBe(16_000);
    expect(b.readUInt16LE(34)).toBe(16);
    expect(b.toString('ascii', 36, 40)).toBe('data');
    expect(b.readUInt32LE(40)).toBe(5 * 32_000);
    expect(b.readUInt32LE(4)).toBe(36 + 5 * 32_000);
    expect(b.length).toBe(44 + 5 * 32_000);
    // Quiet but audible: RMS well above silence, well below full scale.
    let sum = 0;
    for (let i = 44; i < b.length; i += 2) sum += b.readInt16LE(i) ** 2;
    const rmsDbfs = 20 * Math.log10(Math.sqrt(sum / ((b.length - 44) / 2)) / 32768);
    expect(rmsDbfs).toBeGreaterThan(-30);
    expect(rmsDbfs).toBeLessThan(-15);
    expect(env!.emu.control.calls()[0]?.recordings[0]?.downloads).toBe(1);
  });

  it('downloads through the typed client with the recording token', async () => {
    const { location, token } = await recorded(2);
    const d = await env!.graph.downloadRecording(location, token);
    let n = 0;
    for await (const c of d.body) n += (c as Buffer).length;
    expect(n).toBe(44 + 2 * 32_000);
  });

  it('answers 401 to the app token, a wrong token and no token', async () => {
    const { location } = await recorded(1);
    expect((await download(location, APP_TOKEN)).status).toBe(401);
    expect((await download(location, 'x'.repeat(43))).status).toBe(401);
    expect((await download(location, undefined)).status).toBe(401);
    expect(env!.emu.control.calls()[0]?.recordings[0]?.downloads).toBe(0);
  });

  it('keeps a recording while the call lives, then until recordingRetentionMs after its end, then 404', async () => {
    const { call, location, token } = await recorded(1, { retentionMs: 60_000 });
    const { clock, graph } = env!;
    await clock.advance(30 * 60_000);
    expect((await download(location, token)).status).toBe(200);
    await graph.hangUp(call.id);
    await clock.advance(59_999);
    expect((await download(location, token)).status).toBe(200);
    await clock.advance(1);
    const gone = await download(location, token);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body.toString()).error.code).toBe('itemNotFound');
  });

  it('answers 404 for an unknown recording', async () => {
    env = await setup();
    expect(
      (await download(`${env.emu.origin}/_media/recordings/00000000-0000-4000-8000-000000000000`, 't'))
        .status,
    ).toBe(404);
  });
});

describe('cancelMediaProcessing', () => {
  it('answers a completed operation with Location, and fails each running and queued record with the empty-string shape', async () => {
    env = await setup();
    const { emu, bot, clock, graph } = env;
    const call = emu.createCall({
      callbackUri: bot.url,
      script: { caller: { kind: 'speak', seconds: 100 } },
    });
    const running = await graph.record(call.id, { clientContext: 'r1', maxRecordDurationInSeconds: 200 });
    const queued = await graph.record(call.id, { clientContext: 'r2', maxRecordDurationInSeconds: 200 });
    await clock.advance(3_000);
    const res = await raw(callPath(emu, call.id, '/cancelMediaProcessing'), {
      method: 'POST',
      body: { clientContext: 'cancel-1' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      '@odata.type': '#microsoft.graph.cancelMediaProcessingOperation',
      status: 'completed',
      clientContext: 'cancel-1',
    });
    expect(res.headers.location).toBe(`${emu.url}/communications/calls/${call.id}/operations/${res.json.id}`);
    await clock.advance(600_000);
    const items = bot.items();
    // One notification per record; none for the already-completed cancel operation.
    expect(items.map((n) => n.resourceData.id)).toEqual([running.operation.id, queued.operation.id]);
    for (const n of items) {
      expect(n.changeType).toBe('deleted');
      expect(n.resourceData).toMatchObject({
        status: 'failed',
        completionReason: 'operationCanceled',
        resultInfo: { code: 400, subcode: 8508 },
        recordingLocation: '',
        recordingAccessToken: '',
      });
    }
    expect(items.map((n) => n.resourceData.clientContext)).toEqual(['r1', 'r2']);
    expect((await raw(callPath(emu, call.id, `/operations/${res.json.id}`))).json.status).toBe('completed');
    expect(emu.control.call(call.id)?.recordings).toEqual([]);
  });

  it('is a no-op with no media running, and parses through the typed client', async () => {
    env = await setup();
    const call = env.emu.createCall({ callbackUri: env.bot.url });
    const op = await env.graph.cancelMediaProcessing(call.id, 'c');
    expect(op.status).toBe('completed');
    await env.clock.advance(1_000);
    expect(env.bot.received).toHaveLength(0);
  });
});
