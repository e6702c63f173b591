/**
 * Graph routes for setting a call up and for its prompts and tones: answer,
 * reject, redirect (202, only while the call is offered), playPrompt (200 +
 * Location + a running operation) and subscribeToTone (200, completed at
 * once). Bodies are checked as Graph checks them, with its bounds
 * (graph/call-requests.ts) and a 400 naming the field; beta-only
 * parameters are refused on v1.0 as any unknown action parameter is.
 */
import { z } from 'zod';
import { CALL_LIMITS, REJECT_REASONS } from '../graph/call-requests.js';
import type { EmulatedCall } from './calls.js';
import { badRequest, type GraphFailure } from './errors.js';
import type { SetupRoute } from './faults.js';
import { promptResource, toneResource } from './prompts.js';
import { answered, callUrl, describe, withCall } from './routes-graph.js';
import type { Handler, Reply, RequestContext } from './server.js';

const CallbackUri = z
  .string()
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'callbackUri must be an http(s) URL.');
const ClientContext = z.string().max(CALL_LIMITS.maxClientContext);
/** `@odata.type` values need the `#` (without it Graph answered 400, comms-samples#546). */
const ODataType = z.string().regex(/^#microsoft\.graph\.\w+$/, 'The request is invalid: bad @odata.type.');

const AnswerBody = z
  .object({
    callbackUri: CallbackUri.optional(),
    acceptedModalities: z.array(z.string()).min(1),
    mediaConfig: z.object({ '@odata.type': ODataType }).loose(),
    callOptions: z.object({}).loose().optional(),
    participantCapacity: z.int().optional(),
  })
  .loose();

const RejectBody = z
  .object({
    reason: z
      .string()
      .refine(
        (r) => (REJECT_REASONS as readonly string[]).includes(r.toLowerCase()),
        'reason: none, busy or forbidden.',
      )
      .optional(),
    callbackUri: CallbackUri.optional(),
  })
  .loose();

const Target = z.object({ identity: z.object({}).loose() }).loose();
const RedirectBody = z
  .object({
    targets: z.array(Target).min(CALL_LIMITS.minRedirectTargets).max(CALL_LIMITS.maxRedirectTargets),
    timeout: z.int().min(CALL_LIMITS.minRedirectTimeout).max(CALL_LIMITS.maxRedirectTimeout).optional(),
    callbackUri: CallbackUri.optional(),
    maskCallee: z.boolean().optional(),
    maskCaller: z.boolean().optional(),
    targetDisposition: z.string().optional(),
    routingPolicies: z.array(z.string()).optional(),
  })
  .loose();

const PlayPromptBody = z
  .object({
    clientContext: ClientContext.optional(),
    prompts: z
      .array(z.object({ mediaInfo: z.object({ uri: z.string().min(1).max(2048) }).loose() }).loose())
      .min(CALL_LIMITS.minPrompts)
      .max(CALL_LIMITS.maxPrompts),
    loop: z.boolean().optional(),
  })
  .loose();

const SubscribeBody = z.object({ clientContext: ClientContext.optional() }).loose();

/** Parameters only beta knows; v1.0 refuses them like any unknown action parameter. */
function betaOnly(ctx: RequestContext, body: Record<string, unknown>, names: string[], action: string) {
  if (ctx.version === 'beta') return undefined;
  const name = names.find((n) => body[n] !== undefined);
  return name
    ? badRequest(
        `The parameter '${name}' in the request payload is not a valid parameter for the operation '${action}'.`,
      )
    : undefined;
}

/** An offer is decided once: answer, reject and redirect need the call still `incoming`. */
const offered = (call: EmulatedCall): GraphFailure | undefined =>
  call.state === 'incoming'
    ? undefined
    : {
        status: 400,
        code: 'BadRequest',
        message: `Call is ${call.state}; only an incoming call can be answered, rejected or redirected.`,
      };

function parse<S extends z.ZodType>(ctx: RequestContext, schema: S): z.output<S> | Reply {
  const parsed = schema.safeParse(ctx.body ?? {});
  return parsed.success ? parsed.data : ctx.fail(badRequest(describe(parsed.error)));
}
const isReply = (v: unknown): v is Reply =>
  typeof v === 'object' && v !== null && 'status' in v && typeof v.status === 'number';

/** 202 now; the notifications it causes follow the response unless an `early` fault asks otherwise. */
async function accepted(ctx: RequestContext, act: (gate?: Promise<void>) => Promise<void>): Promise<Reply> {
  const delivered = act(ctx.faults.early ? undefined : ctx.afterResponse);
  if (ctx.faults.early) await ctx.hold(delivered);
  return { status: 202 };
}

const answer = withCall(async (ctx, call) => {
  const body = parse(ctx, AnswerBody);
  if (isReply(body)) return body;
  const bad = offered(call);
  if (bad) return ctx.fail(bad);
  return accepted(ctx, (gate) => ctx.env.setup.answer(call, body, gate));
});

const reject = withCall(async (ctx, call) => {
  const body = parse(ctx, RejectBody);
  if (isReply(body)) return body;
  const bad = offered(call);
  if (bad) return ctx.fail(bad);
  return accepted(ctx, (gate) => ctx.env.setup.reject(call, (body.reason ?? 'none').toLowerCase(), gate));
});

const redirect = withCall(async (ctx, call) => {
  const body = parse(ctx, RedirectBody);
  if (isReply(body)) return body;
  const bad = betaOnly(ctx, body, ['maskCallee', 'maskCaller'], 'redirect') ?? offered(call);
  if (bad) return ctx.fail(bad);
  if (body.callbackUri) call.callbackUri = body.callbackUri;
  ctx.env.setup.redirect(call, body.targets.length, body.timeout);
  return { status: 202 };
});

const playPrompt = withCall(async (ctx, call) => {
  const body = parse(ctx, PlayPromptBody);
  if (isReply(body)) return body;
  const bad = betaOnly(ctx, body, ['loop'], 'playPrompt') ?? answered(call);
  if (bad) return ctx.fail(bad);
  const op = ctx.env.media.startPrompt(call, {
    uris: body.prompts.map((p) => p.mediaInfo.uri),
    clientContext: body.clientContext,
    loop: body.loop,
  });
  return {
    status: 200,
    headers: { location: callUrl(ctx, call, `/operations/${op.id}`) },
    json: promptResource(op, ctx.version),
  };
});

const subscribeToTone = withCall((ctx, call) => {
  const body = parse(ctx, SubscribeBody);
  if (isReply(body)) return body;
  const bad = answered(call);
  if (bad) return ctx.fail(bad);
  const op = ctx.env.setup.subscribeToTone(call, body.clientContext);
  return {
    status: 200,
    headers: { location: callUrl(ctx, call, `/operations/${op.id}`) },
    json: toneResource(op),
  };
});

export const setupHandlers: Record<SetupRoute, Handler> = {
  answer,
  reject,
  redirect,
  playPrompt,
  subscribeToTone,
};
