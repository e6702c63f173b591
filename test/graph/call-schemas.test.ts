/**
 * Request bodies for call setup and media are built strictly (bounds from
 * Graph's docs, `@odata.type` added) and refused before any request with a
 * typed error; what Graph sends is read leniently.
 */
import { describe, expect, it } from 'vitest';
import type { HttpAdapter, HttpRequest } from '../../src/adapters/http.js';
import {
  AnswerRequestSchema,
  CALL_LIMITS,
  PlaceCallRequestSchema,
  PlayPromptRequestSchema,
  RedirectRequestSchema,
  RejectRequestSchema,
} from '../../src/graph/call-requests.js';
import {
  CallResourceSchema,
  PlayPromptOperationSchema,
  SubscribeToToneOperationSchema,
} from '../../src/graph/call-resources.js';
import { createGraphClient } from '../../src/graph/client.js';
import { GraphError } from '../../src/graph/errors.js';

const CALL = '57dab8b1-894c-409a-b240-bd8beae78896';
const user = { identity: { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8' } } };
const prompt = { mediaInfo: { uri: 'https://cdn.contoso.com/beep.wav' } };

/** An adapter that records requests and answers nothing: validation must stop every bad call before it. */
function spyClient(graphUrl = 'https://graph.microsoft.com/v1.0') {
  const sent: HttpRequest[] = [];
  const http: HttpAdapter = {
    async request(req) {
      sent.push(req);
      return { status: 202, headers: {}, requestId: 'r', clientRequestId: 'c', attempts: 1 };
    },
    async close() {},
  };
  return { sent, graph: createGraphClient({ http, graphUrl }) };
}

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  schema.safeParse(v).success;

describe('request bounds', () => {
  it('redirect: 1..25 targets, timeout 15..90 s', () => {
    const targets = (n: number) => Array.from({ length: n }, () => user);
    expect(ok(RedirectRequestSchema, { targets: targets(0) })).toBe(false);
    expect(ok(RedirectRequestSchema, { targets: targets(1) })).toBe(true);
    expect(ok(RedirectRequestSchema, { targets: targets(CALL_LIMITS.maxRedirectTargets) })).toBe(true);
    expect(ok(RedirectRequestSchema, { targets: targets(26) })).toBe(false);
    expect(ok(RedirectRequestSchema, { targets: targets(1), timeout: 14 })).toBe(false);
    expect(ok(RedirectRequestSchema, { targets: targets(1), timeout: 15 })).toBe(true);
    expect(ok(RedirectRequestSchema, { targets: targets(1), timeout: 90 })).toBe(true);
    expect(ok(RedirectRequestSchema, { targets: targets(1), timeout: 91 })).toBe(false);
    expect(ok(RedirectRequestSchema, { targets: targets(1), timeout: 30.5 })).toBe(false);
  });

  it('playPrompt: 1..20 prompts, clientContext <= 256', () => {
    const prompts = (n: number) => Array.from({ length: n }, () => prompt);
    expect(ok(PlayPromptRequestSchema, { prompts: prompts(0) })).toBe(false);
    expect(ok(PlayPromptRequestSchema, { prompts: prompts(20) })).toBe(true);
    expect(ok(PlayPromptRequestSchema, { prompts: prompts(21) })).toBe(false);
    expect(ok(PlayPromptRequestSchema, { prompts: prompts(1), clientContext: 'x'.repeat(256) })).toBe(true);
    expect(ok(PlayPromptRequestSchema, { prompts: prompts(1), clientContext: 'x'.repeat(257) })).toBe(false);
    expect(ok(PlayPromptRequestSchema, { prompts: [{ mediaInfo: { uri: 'not a url' } }] })).toBe(false);
  });

  it('reject: none|busy|forbidden only, lower case as the examples send it', () => {
    for (const reason of ['none', 'busy', 'forbidden'])
      expect(ok(RejectRequestSchema, { reason })).toBe(true);
    expect(ok(RejectRequestSchema, { reason: 'Busy' })).toBe(false);
    expect(ok(RejectRequestSchema, { reason: 'maybe' })).toBe(false);
    expect(RejectRequestSchema.parse({})).toEqual({ reason: 'none' });
  });

  it('answer and placeCall add every @odata.type; unknown fields are refused', () => {
    expect(AnswerRequestSchema.parse({ mediaConfig: { preFetchMedia: [prompt.mediaInfo] } })).toEqual({
      acceptedModalities: ['audio'],
      mediaConfig: {
        '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
        preFetchMedia: [prompt.mediaInfo],
      },
    });
    expect(ok(AnswerRequestSchema, { acceptedModalities: ['smell'] })).toBe(false);
    expect(
      ok(AnswerRequestSchema, { mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig' } }),
    ).toBe(false);
    const placed = PlaceCallRequestSchema.parse({
      callbackUri: 'https://bot.contoso.com/cb',
      targets: [user],
    });
    expect(placed).toMatchObject({
      '@odata.type': '#microsoft.graph.call',
      requestedModalities: ['audio'],
      targets: [
        {
          '@odata.type': '#microsoft.graph.invitationParticipantInfo',
          identity: {
            '@odata.type': '#microsoft.graph.identitySet',
            user: { '@odata.type': '#microsoft.graph.identity' },
          },
        },
      ],
    });
    expect(ok(PlaceCallRequestSchema, { callbackUri: 'https://x.test/cb', targets: [user], extra: 1 })).toBe(
      false,
    );
    expect(
      ok(PlaceCallRequestSchema, {
        callbackUri: 'https://x.test/cb',
        targets: [{ identity: { phone: { id: '+12345678901' } } }],
        source: { identity: { applicationInstance: { id: 'a' } } },
        tenantId: 't',
      }),
    ).toBe(true);
    expect(
      ok(PlaceCallRequestSchema, {
        callbackUri: 'https://x.test/cb',
        targets: [{ identity: { phone: { id: '555' } } }],
      }),
    ).toBe(false);
    expect(
      ok(PlaceCallRequestSchema, {
        callbackUri: 'https://x.test/cb',
        targets: [user],
        ringingTimeoutInSeconds: 116,
      }),
    ).toBe(false);
  });
});

describe('the client refuses bad input before any request, with a typed error', () => {
  it.each([
    ['answer', (g: ReturnType<typeof spyClient>['graph']) => g.answer(CALL, { acceptedModalities: [] })],
    ['reject', (g: ReturnType<typeof spyClient>['graph']) => g.reject(CALL, { reason: 'later' as never })],
    [
      'redirect',
      (g: ReturnType<typeof spyClient>['graph']) => g.redirect(CALL, { targets: [user], timeout: 120 }),
    ],
    [
      'placeCall',
      (g: ReturnType<typeof spyClient>['graph']) => g.placeCall({ callbackUri: 'ftp://x', targets: [user] }),
    ],
    ['playPrompt', (g: ReturnType<typeof spyClient>['graph']) => g.playPrompt(CALL, { prompts: [] })],
    [
      'subscribeToTone',
      (g: ReturnType<typeof spyClient>['graph']) => g.subscribeToTone(CALL, { clientContext: '' }),
    ],
  ])('%s', async (name, act) => {
    const { sent, graph } = spyClient();
    const err = await act(graph).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ kind: 'invalidRequest', operation: name });
    expect(sent).toHaveLength(0);
  });

  it('beta-only fields are refused on v1.0 and sent on beta; the POSTs that start something retry only if unprocessed', async () => {
    const v1 = spyClient();
    await expect(v1.graph.redirect(CALL, { targets: [user], maskCaller: true })).rejects.toMatchObject({
      kind: 'invalidRequest',
    });
    const beta = spyClient('https://graph.microsoft.com/beta');
    await beta.graph.redirect(CALL, { targets: [user], maskCaller: true });
    await beta.graph.answer(CALL);
    await beta.graph.reject(CALL);
    await beta.graph.subscribeToTone(CALL).catch(() => {});
    expect(beta.sent.map((r) => [r.operation, r.retry, new URL(r.url).pathname])).toEqual([
      ['redirect', 'ifNotProcessed', `/beta/communications/calls/${CALL}/redirect`],
      ['answer', 'ifNotProcessed', `/beta/communications/calls/${CALL}/answer`],
      ['reject', 'ifNotProcessed', `/beta/communications/calls/${CALL}/reject`],
      ['subscribeToTone', 'always', `/beta/communications/calls/${CALL}/subscribeToTone`],
    ]);
    expect(beta.sent[0]?.body).toMatchObject({ maskCaller: true });
  });
});

describe('lenient reading', () => {
  it('a call with string codes, subCode, case variants and unknown fields', () => {
    const call = CallResourceSchema.parse({
      '@odata.type': '#microsoft.graph.call',
      state: 'Established',
      direction: 'Incoming',
      resultInfo: { code: '200', subCode: '5001', message: 'x' },
      mediaState: { audio: 'Active' },
      toneInfo: { sequenceId: '7', tone: 'Pound' },
      answeredBy: { identity: { encrypted: { id: 'e' } } },
      somethingNew: { a: 1 },
      state2: 'kept',
    });
    expect(call).toMatchObject({
      state: 'established',
      direction: 'incoming',
      resultInfo: { code: 200, subcode: 5001 },
      mediaState: { audio: 'active' },
      toneInfo: { sequenceId: 7, tone: 'pound' },
      somethingNew: { a: 1 },
    });
    expect(call.answeredBy?.identity?.encrypted?.id).toBe('e');
    expect(CallResourceSchema.parse({ state: 'parked', toneInfo: { tone: 'tone99' } })).toMatchObject({
      state: 'parked',
      toneInfo: { tone: 'tone99' },
    });
  });

  it('operations: capitalised status, `unknown` completionReason, empty strings', () => {
    expect(
      PlayPromptOperationSchema.parse({
        '@odata.type': '#microsoft.graph.playPromptOperation',
        id: 'op',
        status: 'Completed',
        completionReason: 'unknown',
        resultInfo: { code: 200, subcode: 0 },
      }),
    ).toMatchObject({ status: 'completed', completionReason: 'unknown' });
    expect(
      PlayPromptOperationSchema.parse({ id: 'op', status: 'failed', completionReason: '' }).completionReason,
    ).toBeNull();
    expect(
      ok(PlayPromptOperationSchema, {
        '@odata.type': '#microsoft.graph.recordOperation',
        id: 'x',
        status: 'running',
      }),
    ).toBe(false);
    expect(SubscribeToToneOperationSchema.parse({ id: 'op', status: 'completed' }).status).toBe('completed');
  });
});
