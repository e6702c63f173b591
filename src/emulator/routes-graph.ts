/**
 * The Graph calls API routes: create (place) a call, get and delete a call,
 * keepAlive, record/recordResponse, cancelMediaProcessing and operation
 * lookups (call setup, prompts and tones: routes-setup.ts). Each
 * call-scoped route answers 404 "8522" for a call that has ended (or just
 * passed its keepAlive deadline). Notifications a request causes wait for its
 * response, unless an `early` fault asks for them first.
 */
import { z } from 'zod';
import { CALL_LIMITS } from '../graph/call-requests.js';
import { CancelMediaProcessingSchema, recordOptionsSchema } from '../graph/schemas.js';
import { callResource, type EmulatedCall } from './calls.js';
import { badRequest, callNotFound, type GraphFailure, notFound } from './errors.js';
import type { RouteName, SetupRoute } from './faults.js';
import { promptResource, toneResource } from './prompts.js';
import { canonicalGuid } from './random.js';
import { RESULT } from './result-info.js';
import { downloadRecording } from './routes-media.js';
import type { Handler, Reply, RequestContext } from './server.js';

const CreateCallBodySchema = z
  .object({
    '@odata.type': z.string().optional(),
    callbackUri: z
      .string({ error: 'callbackUri is required.' })
      .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'callbackUri must be an http(s) URL.'),
    requestedModalities: z.array(z.string()).optional(),
    mediaConfig: z.object({ '@odata.type': z.string() }).loose().optional(),
    source: z.unknown().optional(),
    targets: z.array(z.unknown()).optional(),
    tenantId: z.string().optional(),
    ringingTimeoutInSeconds: z.int().min(1).max(CALL_LIMITS.maxRingingTimeout).optional(),
  })
  .loose();

/** The first zod issue as Graph-style text naming the field. */
export function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid request body.';
  const field = issue.path.join('.');
  const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` ${issue.keys.join(', ')}` : '';
  return field
    ? `Invalid value for '${field}': ${issue.message}`
    : `Invalid request body: ${issue.message}${keys ? ` (${keys.trim()})` : ''}`;
}

/** Media needs the bot's leg answered (emulator's choice of error: Graph documents none). */
export const answered = (call: EmulatedCall): GraphFailure | undefined =>
  call.state === 'incoming' || call.state === 'redirecting'
    ? {
        status: 400,
        code: 'BadRequest',
        message: `Call is ${call.state}: media operations need an answered call.`,
      }
    : undefined;

export const callUrl = (ctx: RequestContext, call: EmulatedCall, tail = '') =>
  `${ctx.base}/communications/calls/${call.id}${tail}`;

/** Run `fn` on the live call of the request, or answer 404 8522. */
export function withCall(fn: (ctx: RequestContext, call: EmulatedCall) => Promise<Reply> | Reply): Handler {
  return (ctx) => {
    const call = ctx.env.calls.live(ctx.params.callId ?? '');
    if (!call) return ctx.fail(callNotFound());
    ctx.setCallId(call.id);
    return fn(ctx, call);
  };
}

const createCall: Handler = async (ctx) => {
  const parsed = CreateCallBodySchema.safeParse(ctx.body ?? {});
  if (!parsed.success) return ctx.fail(badRequest(describe(parsed.error)));
  const { env } = ctx;
  const { callbackUri, ...request } = parsed.data;
  const call = env.calls.create({ callbackUri }, { direction: 'outgoing', state: 'establishing', request });
  ctx.setCallId(call.id);
  const body = callResource(call);
  // The callee follows the default script (`callee`, or `answerAfterSeconds`).
  const delivered = env.setup.place(call, ctx.faults.early ? undefined : ctx.afterResponse);
  if (ctx.faults.early) await ctx.hold(delivered);
  return { status: 201, headers: { location: callUrl(ctx, call) }, json: body };
};

const getCall = withCall((_ctx, call) => ({ status: 200, json: callResource(call) }));

const hangUp = withCall(async (ctx, call) => {
  const delivered = ctx.env.calls.end(call, RESULT.endedByBot, {
    by: 'bot',
    notify: true,
    gate: ctx.faults.early ? undefined : ctx.afterResponse,
  });
  if (ctx.faults.early) await ctx.hold(delivered);
  return { status: 204 };
});

const keepAlive = withCall((ctx, call) => {
  ctx.env.calls.keepAlive(call);
  // Graph answers an empty text/plain body.
  return { status: 200, text: '' };
});

const record = withCall(async (ctx, call) => {
  const unanswered = answered(call);
  if (unanswered) return ctx.fail(unanswered);
  const media = call.request.mediaConfig as { '@odata.type'?: string } | undefined;
  if (media?.['@odata.type']?.toLowerCase().includes('apphosted'))
    return ctx.fail(badRequest('Recording is only supported for calls with serviceHostedMediaConfig.'));
  const parsed = recordOptionsSchema(ctx.env.options.limits).safeParse(ctx.body ?? {});
  if (!parsed.success) return ctx.fail(badRequest(describe(parsed.error)));
  const early = ctx.faults.early;
  const op = ctx.env.media.startRecord(call, parsed.data, early ? undefined : ctx.afterResponse);
  // The body is what Graph says at the time of the POST (running), even if the completion overtakes it.
  const reply: Reply = {
    status: 200,
    headers: { location: callUrl(ctx, call, `/operations/${op.id}`) },
    json: ctx.env.media.recordResource(op, ctx.version),
  };
  if (early) await ctx.hold(op.done.promise);
  return reply;
});

const cancelMediaProcessing = withCall(async (ctx, call) => {
  const parsed = CancelMediaProcessingSchema.safeParse(ctx.body ?? {});
  if (!parsed.success) return ctx.fail(badRequest(describe(parsed.error)));
  const early = ctx.faults.early;
  const { op, delivered } = ctx.env.media.cancel(
    call,
    parsed.data.clientContext,
    early ? undefined : ctx.afterResponse,
  );
  const reply: Reply = {
    status: 200,
    headers: { location: callUrl(ctx, call, `/operations/${op.id}`) },
    json: ctx.env.media.cancelResource(op),
  };
  if (early) await ctx.hold(delivered);
  return reply;
});

const getOperation = withCall((ctx, call) => {
  const id = canonicalGuid(ctx.params.operationId ?? '');
  const op = id ? call.operations.get(id) : undefined;
  if (!op) return ctx.fail(notFound('Operation not found.'));
  const json =
    op.type === 'record'
      ? ctx.env.media.recordResource(op, ctx.version)
      : op.type === 'playPrompt'
        ? promptResource(op, ctx.version)
        : op.type === 'subscribeToTone'
          ? toneResource(op)
          : ctx.env.media.cancelResource(op);
  return { status: 200, json };
});

/** The routes of this file; index.ts adds routes-setup.ts's. */
export const graphHandlers: Omit<Record<RouteName, Handler>, SetupRoute> = {
  createCall,
  getCall,
  hangUp,
  keepAlive,
  record,
  recordResponse: record,
  cancelMediaProcessing,
  getOperation,
  download: downloadRecording,
};
