/**
 * Offered calls: a `created` notification of an unknown call in state
 * `incoming` starts a call actor (start `incoming`, its decision deadline
 * armed by the machine), then `onIncomingCall` decides in the background
 * (the webhook has already answered 202). A duplicate offer of the same call
 * id never starts a second actor, so it is never answered twice. The
 * machine's deadline rejects an offer nobody decided on in time; a late or
 * bad decision, or a handler that throws, is logged and touches no other call.
 */

import type { CallResource } from '../graph/call-resources.js';
import { normalizeId } from '../graph/ids.js';
import type { ParticipantJson } from '../machines/call/io.js';
import type { CallOffer, CallOutput } from '../machines/index.js';
import type { ParsedNotification } from '../notifications/index.js';
import {
  type AnswerOptions,
  checkAnswer,
  checkDecision,
  checkRedirect,
  checkReject,
  type IncomingCall,
  type IncomingDecision,
  type OnIncomingCall,
  toMediaInfo,
} from '../options/calls.js';
import { whileLogged } from '../options/runtime.js';
import { requireCall, startCall, whenEnded } from './calls.js';
import type { CallActor, RuntimeContext } from './context.js';
import { RuntimeError } from './types.js';

/** Offer ids kept after their call is gone, so a late duplicate is not answered again. */
const SEEN_FOR_MS = 10 * 60_000;
const SEEN_MAX = 10_000;

function offerOf(data: CallResource): CallOffer {
  const raw = data as Record<string, unknown>;
  const meeting = raw.meetingInfo as { '@odata.type'?: unknown } | undefined;
  const pbr =
    raw.applicationMetadata !== undefined ||
    (typeof meeting?.['@odata.type'] === 'string' && /tokenMeetingInfo$/i.test(meeting['@odata.type']));
  const offer: CallOffer = { policyBasedRecording: pbr };
  if (data.source) offer.source = data.source as ParticipantJson;
  if (data.targets) offer.targets = data.targets as ParticipantJson[];
  if (data.tenantId) offer.tenantId = data.tenantId;
  if (data.callChainId) offer.callChainId = data.callChainId;
  return offer;
}

/** The call resource of an offer: `created` on the call itself, state `incoming`. */
function offeredCall(item: ParsedNotification): { callId: string; data: CallResource } | null {
  const callId = item.ref?.callId;
  if (item.changeType !== 'created' || !callId || item.ref?.operationId || item.ref?.sub) return null;
  for (const res of item.resources)
    if (res.kind === 'call' && res.data.state === 'incoming') return { callId, data: res.data };
  return null;
}

export function createIncoming(ctx: RuntimeContext, onIncomingCall: OnIncomingCall | undefined) {
  const { log, clock } = ctx;
  const seen = new Map<string, number>();
  const tenants = ctx.options.notificationAuth ? ctx.options.notificationAuth.tenants : undefined;
  const allowed = tenants ? new Set(tenants.map((t) => t.toLowerCase())) : undefined;
  let warnedNoHandler = false;

  function remember(key: string): boolean {
    const now = clock.now();
    for (const [k, at] of seen) if (now - at > SEEN_FOR_MS || seen.size > SEEN_MAX) seen.delete(k);
    if (seen.has(key) || ctx.calls.has(key)) return false;
    seen.set(key, now);
    return true;
  }

  /** Start a call actor for each new offer among `items` (before they are routed). */
  function take(items: ParsedNotification[]): void {
    for (const item of items) {
      const offered = offeredCall(item);
      if (!offered) continue;
      const { callId, data } = offered;
      const key = normalizeId(callId);
      if (!remember(key)) {
        log({ level: 'info', msg: 'duplicate offer ignored: the call is already being decided', callId });
        continue;
      }
      if (!onIncomingCall) {
        if (!warnedNoHandler)
          log({
            level: 'warn',
            msg: 'incoming call left alone: createCallRuntime has no onIncomingCall',
            callId,
            next: 'Graph drops it after 15 s; pass onIncomingCall, or answer with runtime.answer()',
          });
        warnedNoHandler = true;
        continue;
      }
      const offer = offerOf(data);
      if (allowed && offer.tenantId && !allowed.has(offer.tenantId.toLowerCase())) {
        log({
          level: 'warn',
          msg: 'incoming call from a tenant not in notificationAuth.tenants left alone',
          callId,
          tenantId: offer.tenantId,
        });
        continue;
      }
      const actor = startCall(ctx, callId, undefined, undefined, { start: 'incoming', offer });
      log({ level: 'info', msg: 'incoming call offered', callId, tenantId: offer.tenantId });
      decide(actor, callId, offer, onIncomingCall);
    }
  }

  function decide(actor: CallActor, callId: string, offer: CallOffer, handler: OnIncomingCall): void {
    const decideBy = actor.getSnapshot().context.setup.decideBy ?? clock.now();
    const timedOut = actor.on('call.ended', (e) => {
      timedOut.unsubscribe();
      if (e.reason === 'decisionTimeout')
        log({
          level: 'warn',
          msg: 'onIncomingCall did not decide in time: the call was rejected',
          callId,
          next: 'decide faster, or raise callPolicy.decisionTimeoutMs (at most 14 s)',
        });
    });
    const call: IncomingCall = {
      callId,
      targets: offer.targets ?? [],
      policyBasedRecording: offer.policyBasedRecording ?? false,
      decideBy,
      ...(offer.source ? { caller: offer.source } : {}),
      ...(offer.tenantId ? { tenantId: offer.tenantId } : {}),
      ...(offer.callChainId ? { callChainId: offer.callChainId } : {}),
    };
    Promise.resolve()
      .then(() => handler(call))
      .then(
        (decision) => {
          let checked: IncomingDecision;
          try {
            checked = checkDecision(decision);
          } catch (err) {
            log({
              level: 'error',
              msg: (err as Error).message,
              callId,
              next: 'rejected',
            });
            return apply(actor, callId, { reject: 'none' });
          }
          apply(actor, callId, checked);
        },
        (err: unknown) => {
          log({
            level: 'error',
            msg: 'onIncomingCall threw: the call is rejected',
            callId,
            error: (err as Error)?.message ?? String(err),
          });
          apply(actor, callId, { reject: 'none' });
        },
      );
  }

  function apply(actor: CallActor, callId: string, decision: IncomingDecision): void {
    if (ctx.stopped) return;
    if (!actor.getSnapshot().matches('offered')) {
      log({ level: 'warn', msg: 'decision came too late and was dropped', callId, state: stateOf(actor) });
      return;
    }
    actor.send(eventOf(decision, clock.now()));
  }

  return { take };
}

const stateOf = (actor: CallActor) => JSON.stringify(actor.getSnapshot().value);

function eventOf(decision: IncomingDecision, at: number) {
  if ('answer' in decision) {
    const media = decision.answer.preFetchMedia?.map(toMediaInfo);
    return { type: 'ANSWER' as const, at, ...(media?.length ? { preFetchMedia: media } : {}) };
  }
  if ('reject' in decision) return { type: 'REJECT' as const, at, reason: decision.reject };
  const { targets, timeout } = decision.redirect;
  return {
    type: 'REDIRECT' as const,
    at,
    targets,
    ...(timeout !== undefined ? { timeoutInSeconds: timeout } : {}),
  };
}

/**
 * The offered call `callId`, or a typed refusal (no longer offered). A call
 * not tracked yet (no `onIncomingCall`: the bot read the offer elsewhere)
 * is taken as an offer now.
 */
function offeredActor(ctx: RuntimeContext, callId: string, what: string): CallActor {
  if (ctx.stopped) throw new RuntimeError('stopped', 'runtime is stopped');
  if (!ctx.calls.has(normalizeId(callId)))
    return startCall(ctx, callId, undefined, undefined, { start: 'incoming' });
  const actor = requireCall(ctx, callId);
  if (!actor.getSnapshot().matches('offered'))
    throw new RuntimeError(
      'notOffered',
      `call ${callId} is not an open offer (${stateOf(actor)}): cannot ${what}`,
    );
  return actor;
}

function rejection<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `runtime.answer`: resolves once Graph accepted the answer (202); rejects
 * with RuntimeError('callEnded') when the call ended first (its output attached).
 */
export function answer(ctx: RuntimeContext, callId: string, options?: AnswerOptions): Promise<void> {
  return rejection(() => {
    const opts = whileLogged(ctx.log, () => checkAnswer(callId, options), callId);
    const actor = offeredActor(ctx, callId, 'answer');
    const ended = whenEnded(ctx, callId);
    const done = new Promise<void>((resolve, reject) => {
      const sub = actor.on('call.answered', () => {
        sub.unsubscribe();
        resolve();
      });
      ended.then((out) => {
        sub.unsubscribe();
        reject(
          new RuntimeError('callEnded', `call ${callId} ended (${out.reason}) before it was answered`, out),
        );
      }, reject);
    });
    actor.send(eventOf({ answer: opts }, ctx.clock.now()));
    return done;
  });
}

/** `runtime.reject`: resolves with the call's output once it has ended. */
export function reject(ctx: RuntimeContext, callId: string, reason?: string): Promise<CallOutput> {
  return rejection(() => {
    const why = whileLogged(ctx.log, () => checkReject(callId, reason), callId);
    const actor = offeredActor(ctx, callId, 'reject');
    const ended = whenEnded(ctx, callId);
    actor.send({ type: 'REJECT', at: ctx.clock.now(), reason: why });
    return ended;
  });
}

/**
 * `runtime.redirect`: resolves with the call's output (reason `redirected`);
 * rejects with RuntimeError('redirectFailed') when Graph refused it (the offer then stands).
 */
export function redirect(
  ctx: RuntimeContext,
  callId: string,
  targets: ParticipantJson[],
  timeout?: number,
): Promise<CallOutput> {
  return rejection(() => {
    whileLogged(ctx.log, () => checkRedirect(callId, targets, timeout), callId);
    const actor = offeredActor(ctx, callId, 'redirect');
    const ended = whenEnded(ctx, callId);
    const done = new Promise<CallOutput>((resolve, fail) => {
      const sub = actor.on('call.redirectFailed', (e) => {
        sub.unsubscribe();
        const status = e.status ? ` (${e.status}${e.code ? ` ${e.code}` : ''})` : '';
        fail(
          new RuntimeError('redirectFailed', `redirect of call ${callId} failed${status}; the offer stands`),
        );
      });
      ended.then((out) => {
        sub.unsubscribe();
        resolve(out);
      }, fail);
    });
    actor.send(
      eventOf({ redirect: { targets, ...(timeout !== undefined ? { timeout } : {}) } }, ctx.clock.now()),
    );
    return done;
  });
}
