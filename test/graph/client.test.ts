import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { TokenProvider } from '../../src/adapters/token.js';
import { createUndiciHttp } from '../../src/adapters/undici-http.js';
import { createGraphClient, type GraphClientOptions } from '../../src/graph/client.js';
import { GraphError } from '../../src/graph/errors.js';
import { CURRENT_SERVICE_LIMITS } from '../../src/graph/limits.js';
import { type Loopback, type Responder, reply, startLoopback } from '../http/loopback.js';

const CALL = '57dab8b1-894c-409a-b240-bd8beae78896';
const APP_TOKEN = 'app-token-never-for-recordings';

const recordOp = {
  '@odata.type': '#microsoft.graph.recordOperation',
  id: '0fe0623f-d628-42ed-b4bd-8ac290072cc5',
  status: 'running',
  resultInfo: null,
  recordingLocation: null,
  clientContext: 'ctx',
};

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(
  script: Responder | Responder[],
  version: 'v1.0' | 'beta' = 'v1.0',
  extra: Partial<GraphClientOptions> = {},
) {
  const clock = new SimulatedClock();
  const server = await startLoopback(script, clock);
  let tokenCalls = 0;
  const token: TokenProvider = {
    async getToken() {
      tokenCalls++;
      return APP_TOKEN;
    },
  };
  const http = createUndiciHttp({ token, clock });
  const graph = createGraphClient({ http, graphUrl: `${server.url}/${version}`, ...extra });
  cleanups.push(
    () => http.close(),
    () => server.close(),
  );
  return { clock, server, graph, tokenCalls: () => tokenCalls };
}

const recordReply = (server: () => Loopback) =>
  ((req, res, seen, i) =>
    reply(200, recordOp, {
      location: `${server().url}/v1.0/communications/calls/${CALL}/operations/${recordOp.id}`,
      'request-id': 'rid-1',
    })(req, res, seen, i)) as Responder;

describe('createGraphClient over the undici adapter', () => {
  it('v1.0 records with /recordResponse and parses the operation', async () => {
    let s: Loopback | undefined;
    const { server, graph } = await setup(recordReply(() => s!));
    s = server;
    const started = await graph.record(CALL, { maxRecordDurationInSeconds: 30, clientContext: 'ctx' });
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.method).toBe('POST');
    expect(server.seen[0]!.url).toBe(`/v1.0/communications/calls/${CALL}/recordResponse`);
    expect(server.seen[0]!.headers.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(JSON.parse(server.seen[0]!.body)).toMatchObject({
      maxRecordDurationInSeconds: 30,
      initialSilenceTimeoutInSeconds: 5,
      playBeep: true,
      clientContext: 'ctx',
    });
    expect(started.operation).toMatchObject({ id: recordOp.id, status: 'running' });
    expect(started.location).toContain(`/operations/${recordOp.id}`);
    expect(started.requestId).toBe('rid-1');
    expect(started.clientRequestId).toBe(server.seen[0]!.headers['client-request-id']);
  });

  it('beta records with /record', async () => {
    let s: Loopback | undefined;
    const { server, graph } = await setup(
      recordReply(() => s!),
      'beta',
    );
    s = server;
    expect(graph.version).toBe('beta');
    await graph.record(CALL, {});
    expect(server.seen[0]!.url).toBe(`/beta/communications/calls/${CALL}/record`);
  });

  it('validates record options before any request', async () => {
    const { server, graph } = await setup(reply(200, recordOp));
    const err = (await graph.record(CALL, { maxRecordDurationInSeconds: 0 }).catch((e) => e)) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.kind).toBe('invalidRequest');
    expect(err.message).toContain('maxRecordDurationInSeconds');
    const two = { mediaInfo: { uri: 'https://cdn.example.com/a.wav' } };
    const err2 = (await graph.record(CALL, { prompts: [two, two] }).catch((e) => e)) as GraphError;
    expect(err2.message).toContain('prompts');
    expect(server.seen).toHaveLength(0);
  });

  it('applies the configured limits (120 s today)', async () => {
    const { server, graph } = await setup(reply(200, recordOp), 'v1.0', { limits: CURRENT_SERVICE_LIMITS });
    const err = (await graph.record(CALL, { maxSilenceTimeoutInSeconds: 121 }).catch((e) => e)) as GraphError;
    expect(err.kind).toBe('invalidRequest');
    expect(err.message).toContain('maxSilenceTimeoutInSeconds');
    expect(server.seen).toHaveLength(0);
  });

  it('keepAlive posts without a body; a 404 is isNotFound', async () => {
    const { server, graph } = await setup([
      reply(200),
      reply(404, { error: { code: '8522', message: 'Call not found.' } }),
    ]);
    await graph.keepAlive(CALL);
    const err = (await graph.keepAlive(CALL).catch((e) => e)) as GraphError;
    expect(server.seen[0]!.url).toBe(`/v1.0/communications/calls/${CALL}/keepAlive`);
    expect(server.seen[0]!.body).toBe('');
    expect(err.isNotFound).toBe(true);
    expect(err.message).toBe('keepAlive: 404 8522: Call not found.');
  });

  describe('downloadRecording', () => {
    const SIZE = 5 * 1024 * 1024 + 17;
    const wav: Responder = (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(SIZE) });
      const chunk = Buffer.alloc(64 * 1024, 1);
      let left = SIZE;
      const write = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
            return void res.once('drain', write);
        }
        res.end();
      };
      write();
    };

    it('streams a multi-MB clip with the recordingAccessToken, never the app token', async () => {
      const clock = new SimulatedClock();
      const server = await startLoopback(wav, clock);
      let tokenCalls = 0;
      const http = createUndiciHttp({
        token: {
          async getToken() {
            tokenCalls++;
            return APP_TOKEN;
          },
        },
        clock,
      });
      cleanups.push(
        () => http.close(),
        () => server.close(),
      );
      const host = new URL(server.url).host;
      const graph = createGraphClient({ http, insecureRecordingHosts: [host] });

      const dl = await graph.downloadRecording(`${server.url}/recordings/abc?x=1`, 'rec-access-token');
      expect(dl.contentLength).toBe(SIZE);
      expect(dl.contentType).toBe('audio/wav');
      let bytes = 0;
      let chunks = 0;
      await pipeline(
        dl.body,
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            chunks++;
            cb();
          },
        }),
      );
      expect(bytes).toBe(SIZE);
      expect(chunks).toBeGreaterThan(1);
      expect(server.seen[0]!.url).toBe('/recordings/abc?x=1');
      expect(server.seen[0]!.headers.authorization).toBe('Bearer rec-access-token');
      expect(tokenCalls).toBe(0);
      expect(clock.pendingTimers).toBe(0);
    });

    it('refuses an http location unless its host is in insecureRecordingHosts', async () => {
      const { server, graph, tokenCalls } = await setup(wav);
      const err = (await graph
        .downloadRecording(`${server.url}/recordings/abc`, 'rec-access-token')
        .catch((e) => e)) as GraphError;
      expect(err).toBeInstanceOf(GraphError);
      expect(err.kind).toBe('forbiddenHost');
      expect(server.seen).toHaveLength(0);
      expect(tokenCalls()).toBe(0);
    });

    it('a 403 from the recording host is an http GraphError without any token in it', async () => {
      const { server } = await setup(reply(403, { error: { code: 'Forbidden', message: 'token expired' } }));
      const http = createUndiciHttp({
        token: { getToken: async () => APP_TOKEN },
        clock: new SimulatedClock(),
      });
      cleanups.push(() => http.close());
      const graph = createGraphClient({ http, insecureRecordingHosts: [new URL(server.url).host] });
      const err = (await graph
        .downloadRecording(`${server.url}/r`, 'rec-secret-token')
        .catch((e) => e)) as GraphError;
      expect(err.status).toBe(403);
      expect(err.operation).toBe('downloadRecording');
      expect(JSON.stringify(err) + err.message).not.toMatch(/rec-secret-token|app-token/);
      expect(server.seen).toHaveLength(1);
    });
  });
});
