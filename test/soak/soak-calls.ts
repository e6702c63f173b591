/**
 * Call setup traffic for the soak (issue 15): offered calls (answered, rejected,
 * redirected, decided too late, duplicated offers, re-offers under a new id)
 * and calls the bot places (answered, declined, never answered, unreachable),
 * some with a prompt and key presses. It plans them over the soak, drives them
 * on the soak's clock and measures: each offer decided exactly once at the
 * emulator, each placed call ended with a documented reason and the resultInfo
 * Graph ended it with, key presses delivered once each in sequence order.
 */
import { sleep } from '../../src/adapters/clock.js';
import type { RequestRecord } from '../../src/emulator/index.js';
import { normalizeId } from '../../src/graph/ids.js';
import type { CallOutput } from '../../src/machines/index.js';
import type { IncomingCall, IncomingDecision } from '../../src/options/calls.js';
import type { Harness } from '../../src/testing/harness.js';
import {
  DOCUMENTED_REASONS,
  inc,
  type OfferPlan,
  type PlaceKind,
  type PlacePlan,
  PROMPT,
  planOffer,
  planPlace,
} from './soak-call-plans.js';

export type { OfferKind, PlaceKind } from './soak-call-plans.js';
export { callTrafficFailures, callTrafficRows } from './soak-calls-report.js';

export interface CallTrafficFigures {
  offers: number;
  offersByKind: Record<string, number>;
  /** Offers the emulator made, re-offers included. */
  emulatorOffers: number;
  /** `kind: bot reason` of every offered call id. */
  offerEnds: Record<string, number>;
  /** answer/reject/redirect requests at the emulator (retries and faulted ones included). */
  decisionRequests: number;
  /** Of them, stopped by an injected fault before Graph saw them. */
  decisionsStoppedByFault: number;
  /** Offers with more than one decision request that reached Graph (whatever it answered). Must be 0. */
  offersDecidedTwice: number;
  decidedTwice: string[];
  /** Offers neither decided (2xx) nor dropped by Graph's own deadline. Must be 0. */
  offersUndecided: number;
  placed: number;
  placeFailed: number;
  /** `kind: reason code/subcode` of every placed call. */
  placedEnds: Record<string, number>;
  /** Placed calls ending with an undocumented reason, or without the resultInfo Graph ended them with. Must be 0. */
  placedBadEnds: string[];
  prompts: Record<string, number>;
  /** Distinct key presses whose notification reached the webhook. */
  tonesSent: number;
  tonesDelivered: number;
  /** Tones delivered out of sequence order or twice. Must be 0. */
  toneOrderErrors: number;
  toneDuplicates: number;
  /** Key presses that reached the webhook in order and tones$ never delivered. Must be 0. */
  tonesLost: number;
  /**
   * Presses whose notification came after a newer press of the same call: dropped by design
   * (the call machine emits in sequenceId order and drops older ones rather than hold newer ones back).
   */
  tonesDroppedLate: number;
  toneLosses: string[];
  /** Offered and placed calls the runtime never reported ended. Must be 0. */
  callsWithoutOutput: number;
}

export interface CallTraffic {
  /** The runtime's onIncomingCall (the harness is created with it). */
  onIncomingCall: (call: IncomingCall) => Promise<IncomingDecision>;
  /** Plan and schedule the offers and placements between `from` and `until`. */
  start(h: Harness, from: number, until: number): void;
  /** The runtime's output for an offered or placed call (by normalised id). */
  output(key: string): CallOutput | undefined;
  /** A notification body as it reached the webhook: the key presses in it (the truth tones$ is held to). */
  observeBody(json: unknown): void;
  /** After the soak ran down: the figures, from the emulator's request log and call list. */
  figures(requests: RequestRecord[], stoppedByFault: (faultId: string) => boolean): CallTrafficFigures;
}

export function createCallTraffic(opts: {
  offers: number;
  placed: number;
  rnd: () => number;
  capture: (source: string, value: unknown) => void;
  schedule: (at: number, fn: () => void) => void;
}): CallTraffic {
  const { rnd, capture, schedule } = opts;
  let h: Harness | undefined;
  const plansByChain = new Map<string, OfferPlan>();
  const offerKindById = new Map<string, string>();
  const placedKind = new Map<string, PlaceKind>();
  const outputs = new Map<string, CallOutput>();
  const watched = new Set<string>();
  const prompts: Record<string, number> = {};
  const tones = new Map<string, number[]>();
  const tonesAtWebhook = new Map<string, Set<number>>();
  /** Presses that reached the webhook after a newer one of the same call (a reordered delivery). */
  const arrivedLate = new Set<string>();
  const offersByKind: Record<string, number> = {};
  let placeFailed = 0;
  const placedEnds: Record<string, number> = {};
  let placeChain: Promise<void> = Promise.resolve();

  const watch = (id: string) => {
    const key = normalizeId(id);
    if (watched.has(key) || !h) return;
    watched.add(key);
    h.runtime.whenEnded(id).then(
      (out) => {
        outputs.set(key, out);
        capture('callOutput', out);
      },
      (err: unknown) => capture('error', err),
    );
  };

  /** Once established: maybe a prompt and tones, then the call ends after holdMs (bot or caller). */
  const live = (id: string, media: boolean, holdMs: number, callerHangsUp: boolean) => {
    const rt = (h as Harness).runtime;
    const clock = (h as Harness).clock;
    rt.whenEstablished(id).then(
      async () => {
        if (media) {
          await rt.subscribeToTones(id).catch((err: unknown) => capture('error', err));
          const r = await rt.playPrompt(id, [PROMPT]).catch((err: unknown) => {
            capture('error', err);
            return { final: 'rejected' };
          });
          inc(prompts, r.final);
        }
        schedule(clock.now() + holdMs, () => {
          if (!rt.get(id)) return;
          if (callerHangsUp) (h as Harness).emulator.control.hangUpByCaller(id);
          else rt.hangUp(id).catch((err: unknown) => capture('error', err));
        });
      },
      () => {
        // Never established (rejected, redirected, timed out): its end is counted from whenEnded.
      },
    );
  };

  // Kinds are dealt by share in plan order (every kind occurs in a small run); times are random.
  /**
   * The emulator gives a placed call the default script, read when the POST arrives: placements run
   * one at a time, each pinning its script to its call once Graph's 201 names it.
   */
  const place = async (plan: PlacePlan) => {
    const { runtime, emulator } = h as Harness;
    emulator.control.setDefaultScript(plan.script);
    try {
      const id = await runtime.placeCall({
        targets: [{ identity: { user: { id: `callee-${plan.kind}` } } }],
        ...(plan.policy ? { policy: plan.policy } : {}),
      });
      emulator.control.setCallerScript(id, plan.script);
      placedKind.set(normalizeId(id), plan.kind);
      watch(id);
      live(id, plan.media, plan.holdMs, false);
    } catch (err) {
      // A fault on the POST itself (500, reset): RuntimeError('placeFailed'), nothing to end.
      placeFailed++;
      inc(placedEnds, `${plan.kind}: placeFailed`);
      capture('error', err);
    } finally {
      emulator.control.setDefaultScript(undefined);
    }
  };

  return {
    async onIncomingCall(call) {
      const chain = call.callChainId ?? '';
      const plan = plansByChain.get(chain);
      const reoffered = plan?.seen === true;
      offerKindById.set(normalizeId(call.callId), reoffered ? 'reoffered' : (plan?.kind ?? 'unplanned'));
      watch(call.callId);
      if (plan) plan.seen = true;
      if (!plan) return { answer: {} };
      // A re-offer (a new call id in a chain already offered) is answered at once.
      const wait = reoffered ? 0 : plan.decideAfterMs;
      if (wait > 0) await sleep((h as Harness).clock, wait);
      if ('answer' in plan.decision) live(call.callId, plan.media, plan.holdMs, plan.callerHangsUp);
      return plan.decision;
    },

    output: (key) => outputs.get(key),

    observeBody(json) {
      const value = (json as { value?: unknown })?.value;
      if (!Array.isArray(value)) return;
      for (const item of value as Array<Record<string, unknown>>) {
        const url = String(item?.resourceUrl ?? item?.resource ?? '');
        const id = /\/calls\/([^/]+)$/.exec(url)?.[1];
        const data = Array.isArray(item?.resourceData) ? item.resourceData : [item?.resourceData];
        for (const d of data as Array<{ toneInfo?: { sequenceId?: unknown } } | undefined>) {
          const seq = Number(d?.toneInfo?.sequenceId);
          if (!id || !Number.isFinite(seq)) continue;
          const key = normalizeId(id);
          const set = tonesAtWebhook.get(key) ?? new Set<number>();
          if ([...set].some((s) => s > seq)) arrivedLate.add(`${key}:${seq}`);
          set.add(seq);
          tonesAtWebhook.set(key, set);
        }
      }
    },

    start(harness, from, until) {
      h = harness;
      harness.runtime.tones$.subscribe({
        next: (t) => {
          const key = normalizeId(t.callId);
          tones.set(key, [...(tones.get(key) ?? []), t.sequenceId]);
          capture('tone', t);
        },
        error: (err: unknown) => capture('error', err),
      });
      const span = Math.max(1, until - from);
      for (let i = 0; i < opts.offers; i++) {
        const plan = planOffer(rnd, from + Math.floor(rnd() * span), (i + 0.5) / opts.offers);
        inc(offersByKind, plan.kind);
        schedule(plan.at, () => {
          const info = harness.emulator.ring({
            callbackUri: harness.callbackUri,
            from: `+1425555${String(1000 + i).slice(-4)}`,
            script: plan.script,
          });
          const chain = harness.emulator.control.call(info.id)?.callChainId;
          if (chain) plansByChain.set(chain, plan);
        });
      }
      for (let i = 0; i < opts.placed; i++) {
        const plan = planPlace(rnd, from + Math.floor(rnd() * span), (i + 0.5) / opts.placed);
        schedule(plan.at, () => {
          placeChain = placeChain.then(() => place(plan));
        });
      }
    },

    figures(requests, stoppedByFault) {
      const { control } = (h as Harness).emulator;
      const calls = control.calls();
      const byId = new Map(calls.map((c) => [normalizeId(c.id), c]));
      const decisions = new Map<string, { ok: number; reached: number; seen: string[] }>();
      let decisionRequests = 0;
      let retriedAfterFault = 0;
      for (const r of requests) {
        if ((r.route !== 'answer' && r.route !== 'reject' && r.route !== 'redirect') || !r.callId) continue;
        decisionRequests++;
        const key = normalizeId(r.callId);
        const d = decisions.get(key) ?? { ok: 0, reached: 0, seen: [] as string[] };
        // Graph saw the decisions no injected fault stopped before its handler (a status or reset).
        if (!r.faults.some(stoppedByFault)) d.reached++;
        else retriedAfterFault++;
        d.seen.push(`${r.route} ${r.status || 'reset'} at ${r.at}${r.faults.length ? ' (fault)' : ''}`);
        if (r.status >= 200 && r.status < 300) d.ok++;
        decisions.set(key, d);
      }
      const offerEnds: Record<string, number> = {};
      let decidedTwice = 0;
      const twice: string[] = [];
      let undecided = 0;
      let emulatorOffers = 0;
      for (const [key, kind] of offerKindById) {
        const out = outputs.get(key);
        inc(offerEnds, `${kind}: ${out?.reason ?? 'no output'}`);
      }
      for (const c of calls) {
        if (c.direction !== 'incoming' || !plansByChain.has(c.callChainId)) continue;
        emulatorOffers++;
        const d = decisions.get(normalizeId(c.id));
        if (d && (d.ok > 1 || d.reached > 1)) {
          decidedTwice++;
          twice.push(`${offerKindById.get(normalizeId(c.id)) ?? '?'}: ${d.seen.join(', ')}`);
        }
        if ((d?.ok ?? 0) === 0 && c.endedBy !== 'offerTimeout') undecided++;
      }
      const placedBadEnds: string[] = [];
      for (const [key, kind] of placedKind) {
        const out = outputs.get(key);
        const ri = out?.resultInfo;
        inc(placedEnds, `${kind}: ${out?.reason ?? 'no output'} ${ri ? `${ri.code}/${ri.subcode}` : '-'}`);
        const truth = byId.get(key);
        const bad =
          !out || !DOCUMENTED_REASONS.has(out.reason)
            ? 'undocumented reason'
            : truth?.endedBy && truth.endedBy !== 'bot' && truth.endReason
              ? !ri ||
                Number(ri.code) !== truth.endReason.code ||
                Number(ri.subcode) !== truth.endReason.subcode
                ? `resultInfo ${ri ? `${ri.code}/${ri.subcode}` : 'missing'}, Graph ended it ${truth.endReason.code}/${truth.endReason.subcode}`
                : undefined
              : undefined;
        if (bad) placedBadEnds.push(`${kind} ${out?.reason ?? 'no output'}: ${bad}`);
      }
      let sent = 0;
      let delivered = 0;
      let orderErrors = 0;
      let duplicates = 0;
      let lost = 0;
      let droppedLate = 0;
      const lossDetails: string[] = [];
      for (const key of new Set([...tones.keys(), ...tonesAtWebhook.keys()])) {
        const seqs = tones.get(key) ?? [];
        const atWebhook = tonesAtWebhook.get(key) ?? new Set<number>();
        sent += atWebhook.size;
        delivered += seqs.length;
        const seen = new Set<number>();
        for (let i = 0; i < seqs.length; i++) {
          const s = seqs[i] as number;
          if (seen.has(s)) duplicates++;
          else if (i > 0 && s < (seqs[i - 1] as number)) orderErrors++;
          seen.add(s);
        }
        for (const s of atWebhook) {
          if (seen.has(s)) continue;
          if (arrivedLate.has(`${key}:${s}`)) droppedLate++;
          else {
            lost++;
            if (lossDetails.length < 10)
              lossDetails.push(`${key.slice(0, 8)} seq ${s}: webhook [${[...atWebhook]}], tones$ [${seqs}]`);
          }
        }
      }
      return {
        offers: opts.offers,
        offersByKind,
        emulatorOffers,
        offerEnds,
        decisionRequests,
        decisionsStoppedByFault: retriedAfterFault,
        offersDecidedTwice: decidedTwice,
        decidedTwice: twice.slice(0, 10),
        offersUndecided: undecided,
        placed: opts.placed,
        placeFailed,
        placedEnds,
        placedBadEnds,
        prompts,
        tonesSent: sent,
        tonesDelivered: delivered,
        toneOrderErrors: orderErrors,
        toneDuplicates: duplicates,
        tonesLost: lost,
        tonesDroppedLate: droppedLate,
        toneLosses: lossDetails,
        callsWithoutOutput: [...watched].filter((k) => !outputs.has(k)).length,
      };
    },
  };
}
