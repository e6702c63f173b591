/**
 * The call before it is up, on simulated time with fakes: an offered call
 * (decide within the local deadline, answer/reject/redirect), the answer
 * (establishing/established in either order, a deadline), a placed call
 * (201, ringing, established or Graph's end with its resultInfo).
 */
import { describe, expect, it } from 'vitest';
import { startCall } from './call-fakes.js';
import { callUpdate, ended, httpError, MIN, PENDING, SEC } from './fakes.js';

const incoming = { start: 'incoming' as const, offer: { tenantId: 't-1' } };

describe('callMachine: an offered call', () => {
  it('emits call.offered with its decision deadline (10 s by default)', async () => {
    const c = startCall(incoming);
    expect(c.value()).toBe('offered');
    expect(c.ofType('call.offered')).toEqual([
      { type: 'call.offered', callId: 'call-1', offer: { tenantId: 't-1' }, decideBy: c.t0 + 10 * SEC },
    ]);
  });

  it('nobody decides: rejected at the deadline, reason decisionTimeout', async () => {
    const c = startCall(incoming);
    await c.clock.advance(10 * SEC - 1);
    expect(c.value()).toBe('offered');
    await c.clock.advance(1);
    expect(c.f.reject.calls).toHaveLength(1);
    expect(c.f.reject.last.input).toEqual({ callId: 'call-1', reason: 'none' });
    expect(c.f.reject.last.at).toBe(c.t0 + 10 * SEC);
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'decisionTimeout', endedAt: c.t0 + 10 * SEC });
    expect(c.f.keepAlive.calls).toHaveLength(0);
  });

  it('a policy-based recording offer gets the shorter deadline (4 s by default, Graph allows 5)', async () => {
    const c = startCall({ ...incoming, offer: { policyBasedRecording: true } });
    await c.clock.advance(4 * SEC);
    expect(c.output()?.reason).toBe('decisionTimeout');
    expect(c.output()?.endedAt).toBe(c.t0 + 4 * SEC);
  });

  it('REJECT: POST reject with the reason, reason rejected', async () => {
    const c = startCall(incoming);
    c.actor.send({ type: 'REJECT', at: c.clock.now(), reason: 'busy' });
    await c.clock.settle();
    expect(c.f.reject.last.input).toEqual({ callId: 'call-1', reason: 'busy' });
    expect(c.output()).toMatchObject({ reason: 'rejected' });
  });

  it("REDIRECT: POST redirect; the bot's leg ends redirected, Graph's late deleted adds its resultInfo", async () => {
    const c = startCall(incoming);
    c.f.redirect.respond = () => PENDING;
    const targets = [{ identity: { phone: { id: '+12345678901' } } }];
    c.actor.send({ type: 'REDIRECT', at: c.clock.now(), targets, timeoutInSeconds: 30 });
    await c.clock.settle();
    expect(c.f.redirect.last.input).toEqual({ callId: 'call-1', targets, timeoutInSeconds: 30 });
    // Graph's deleted beats the 202.
    c.actor.send(ended(c.clock.now(), { code: 200, subcode: 0, message: 'redirected' }));
    await c.clock.settle();
    expect(c.output()).toMatchObject({ reason: 'redirected', resultInfo: { code: 200, subcode: 0 } });
  });

  it('a failed redirect leaves the offer standing until the decision deadline', async () => {
    const c = startCall(incoming);
    c.f.redirect.respond = () => Promise.reject(httpError(400, c.clock.now()));
    c.actor.send({ type: 'REDIRECT', at: c.clock.now(), targets: [] });
    await c.clock.settle();
    expect(c.value()).toBe('offered');
    expect(c.ofType('call.redirectFailed')).toEqual([
      { type: 'call.redirectFailed', status: 400, code: '400' },
    ]);
    await c.clock.advance(10 * SEC);
    expect(c.output()?.reason).toBe('decisionTimeout');
  });

  it('a failed reject still ends the call rejected, with the error (Graph drops the offer after 15 s anyway)', async () => {
    const c = startCall(incoming);
    c.f.reject.respond = () => Promise.reject(httpError(500, c.clock.now()));
    c.actor.send({ type: 'REJECT', at: c.clock.now() });
    await c.clock.settle();
    expect(c.output()?.reason).toBe('rejected');
    expect(c.actor.getSnapshot().context.lastError).toMatchObject({ status: 500 });
  });

  it('RESUME after a restore re-arms the decision deadline at its original time', async () => {
    const c = startCall(incoming);
    await c.clock.advance(6 * SEC);
    c.actor.send({ type: 'RESUME', at: c.clock.now() });
    await c.clock.advance(4 * SEC - 1);
    expect(c.value()).toBe('offered');
    await c.clock.advance(1);
    expect(c.output()?.reason).toBe('decisionTimeout');
  });

  it('the caller gives up before the decision: terminated with resultInfo, nothing sent', async () => {
    const c = startCall(incoming);
    c.actor.send(ended(c.clock.now() + 2 * SEC, { code: 487, subcode: 0, message: 'gone' }));
    await c.clock.settle();
    expect(c.output()).toMatchObject({ reason: 'terminated', resultInfo: { code: 487 } });
    expect(c.f.reject.calls).toHaveLength(0);
  });
});

describe('callMachine: answering and establishing', () => {
  it('ANSWER -> 202 -> establishing -> established: the keepAlive rule starts at established', async () => {
    const c = startCall(incoming);
    await c.clock.advance(2 * SEC);
    c.actor.send({ type: 'ANSWER', at: c.clock.now(), callbackUri: 'https://bot/cb' });
    await c.clock.settle();
    expect(c.f.answer.last.input).toEqual({ callId: 'call-1', callbackUri: 'https://bot/cb' });
    expect(c.value()).toBe('establishing');
    c.actor.send(callUpdate(c.clock.now(), 'establishing'));
    await c.clock.advance(3 * SEC);
    c.actor.send(callUpdate(c.clock.now(), 'established'));
    await c.clock.settle();
    expect(c.value()).toEqual({ established: 'active' });
    expect(c.ofType('call.established')).toEqual([{ type: 'call.established', at: c.t0 + 5 * SEC }]);
    await c.clock.advance(15 * MIN);
    expect(c.f.keepAlive.times).toEqual([c.t0 + 5 * SEC + 15 * MIN]);
  });

  it('established before the 202 (either order): up as soon as the 202 comes', async () => {
    const c = startCall(incoming);
    c.f.answer.respond = () => PENDING;
    c.actor.send({ type: 'ANSWER', at: c.clock.now() });
    await c.clock.settle();
    c.actor.send(callUpdate(c.clock.now(), 'established'));
    await c.clock.settle();
    expect(c.value()).toBe('answering');
    c.f.answer.last.resolve({ at: c.clock.now() });
    await c.clock.settle();
    expect(c.value()).toEqual({ established: 'active' });
  });

  it('never established: hung up at the establish deadline (30 s), reason notAnswered', async () => {
    const c = startCall(incoming);
    c.actor.send({ type: 'ANSWER', at: c.clock.now() });
    await c.clock.advance(30 * SEC);
    expect(c.f.hangUp.times).toEqual([c.t0 + 30 * SEC]);
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'notAnswered', endedAt: c.t0 + 30 * SEC });
  });

  it('the answer fails: setupFailed with the error; 404 (too late): notFound', async () => {
    const a = startCall(incoming);
    a.f.answer.respond = () => Promise.reject(httpError(500, a.clock.now()));
    a.actor.send({ type: 'ANSWER', at: a.clock.now() });
    await a.clock.settle();
    expect(a.output()).toMatchObject({ reason: 'setupFailed', error: { status: 500 } });
    const b = startCall(incoming);
    b.f.answer.respond = () => Promise.reject(httpError(404, b.clock.now()));
    b.actor.send({ type: 'ANSWER', at: b.clock.now() });
    await b.clock.settle();
    expect(b.output()?.reason).toBe('notFound');
  });
});

describe('callMachine: placing a call', () => {
  const outgoing = { start: 'outgoing' as const, callId: 'local-1', place: { targets: [{ id: 'x' }] } };

  it('201 names the call; ringing until established', async () => {
    const c = startCall(outgoing);
    await c.clock.settle();
    expect(c.f.placeCall.last.input).toEqual({ targets: [{ id: 'x' }] });
    expect(c.value()).toBe('ringing');
    expect(c.actor.getSnapshot().context.callId).toBe('graph-call-9');
    expect(c.ofType('call.placed')).toEqual([{ type: 'call.placed', callId: 'graph-call-9', at: c.t0 }]);
    c.actor.send(callUpdate(c.clock.now() + SEC, 'established'));
    await c.clock.settle();
    expect(c.value()).toEqual({ established: 'active' });
  });

  it.each([
    [{ code: 480, subcode: 10076, message: 'Callee could not be reached' }, 'unreachable'],
    [{ code: 480, subcode: 10037, message: 'no callee endpoints' }, 'unreachable'],
    [{ code: 408, subcode: 10057, message: 'no signalling' }, 'notAnswered'],
    [{ code: 603, subcode: 0, message: 'declined' }, 'terminated'],
  ])("Graph ends the placed call with %o: %s, with Graph's resultInfo", async (info, reason) => {
    const c = startCall(outgoing);
    await c.clock.settle();
    c.actor.send(ended(c.clock.now(), info));
    await c.clock.settle();
    expect(c.output()).toMatchObject({ callId: 'graph-call-9', reason, resultInfo: info });
  });

  it('nobody answers within the ring deadline (120 s): hung up, notAnswered', async () => {
    const c = startCall(outgoing);
    await c.clock.advance(120 * SEC);
    expect(c.f.hangUp.last.input).toEqual({ callId: 'graph-call-9' });
    expect(c.output()?.reason).toBe('notAnswered');
  });

  it('POST /calls refused: setupFailed, no hang-up', async () => {
    const c = startCall(outgoing, (f, clock) => {
      f.placeCall.respond = () => Promise.reject(httpError(403, clock.now()));
    });
    await c.clock.settle();
    expect(c.output()).toMatchObject({ callId: 'local-1', reason: 'setupFailed', error: { status: 403 } });
    expect(c.f.hangUp.calls).toHaveLength(0);
  });

  it('a failed DELETE of a call never established ends it (setupFailed); no keepAlive starts', async () => {
    const c = startCall(outgoing);
    await c.clock.settle();
    c.f.hangUp.respond = () => Promise.reject(httpError(500, c.clock.now()));
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.output()?.reason).toBe('setupFailed');
    expect(c.f.keepAlive.calls).toHaveLength(0);
  });
});
