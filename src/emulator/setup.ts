/**
 * How emulated calls are set up and what their parties do outside media:
 * an offered call (ring) waits for the bot's answer, reject or redirect
 * until its decision deadline (then ends, or is offered again under a new
 * id); an answer establishes it (establishing/established in the scripted
 * order, then mediaState); a redirect ends the bot's leg; the callee of a
 * placed call answers, declines, never answers or cannot be reached; the
 * caller presses keys, reported once the bot subscribed to tones.
 * Every wait is a call timer on the emulator's clock.
 */
import type { TimerHandle } from '../adapters/clock.js';
import {
  DEFAULT_REDIRECT_PICKUP_SECONDS,
  DEFAULT_RING_SECONDS,
  redirectTimeoutDefault,
  SETUP_RESULTS,
  toneName,
} from './call-script.js';
import type { CallerScript, ResultInfoValue } from './caller-script.js';
import { callResource, type EmulatedCall } from './calls.js';
import type { Env } from './context.js';
import type { ToneOp } from './prompts.js';
import { resultInfoData } from './result-info.js';
import type { NotificationItem, Variants } from './variants.js';

const CALL = '#microsoft.graph.call';
const ms = (s: number) => Math.round(s * 1000);

export interface RingInput {
  callbackUri: string;
  /** The caller: an E.164 number (`+1...`), a user id, or an identitySet as Graph shows it. */
  from?: string | Record<string, unknown>;
  script?: CallerScript;
  variants?: Partial<Variants>;
}

const identity = (id: string, extra: Record<string, unknown> = {}) => ({
  '@odata.type': '#microsoft.graph.identity',
  id,
  ...extra,
});

export class CallSetup {
  #decisions = new Map<string, TimerHandle>();

  constructor(private readonly env: Env) {}

  #script(call: EmulatedCall): CallerScript | undefined {
    return call.script ?? this.env.defaults.script;
  }

  /** Offer a call to the bot: a `created` notification with the call `incoming`. */
  ring(
    input: RingInput,
    chain?: { chainId: string; request: Record<string, unknown>; reoffersLeft: number },
  ) {
    const { env } = this;
    const participantId = env.random.guid();
    const request = chain
      ? { ...chain.request }
      : {
          source: this.#source(input.from),
          targets: [
            {
              '@odata.type': '#microsoft.graph.invitationParticipantInfo',
              identity: {
                '@odata.type': '#microsoft.graph.identitySet',
                application: identity(env.options.audience, { displayName: 'Bot' }),
              },
              endpointType: 'default',
              id: participantId,
            },
          ],
          tenantId: env.options.tenantId,
          requestedModalities: ['audio'],
          myParticipantId: participantId,
        };
    const call = env.calls.create(
      { callbackUri: input.callbackUri, script: input.script, variants: input.variants },
      { direction: 'incoming', state: 'incoming', request, chainId: chain?.chainId },
    );
    const script = this.#script(call);
    call.reoffersLeft = chain?.reoffersLeft ?? script?.offer?.reoffers ?? 0;
    const created: NotificationItem = {
      changeType: 'created',
      callId: call.id,
      resourceData: {
        '@odata.id': `/communications/calls/${call.id}`,
        ...callResource(call),
        incomingContext: { sourceParticipantId: env.random.guid() },
      },
    };
    env.notifier.send(call, script?.offer?.duplicate ? [created, created] : [created]);
    const decisionMs = ms(script?.offer?.decisionSeconds ?? 15);
    this.#decisions.set(
      call.id,
      env.calls.callTimer(call, () => this.#unanswered(call, input), decisionMs),
    );
    return call;
  }

  /** The bot answered: 202 now, then the state notifications (after `gate`, the 202). */
  answer(call: EmulatedCall, body: { callbackUri?: string; mediaConfig: unknown }, gate?: Promise<void>) {
    this.#decided(call);
    if (body.callbackUri) call.callbackUri = body.callbackUri;
    call.request.mediaConfig = body.mediaConfig;
    call.state = 'establishing';
    const est = this.#script(call)?.establish ?? {};
    const go = (g?: Promise<void>) => {
      const established = this.#establish(call);
      const establishing = this.#state(call, 'establishing');
      const items =
        est.order === 'establishedFirst' ? [established, establishing] : [establishing, established];
      return this.env.notifier.send(call, items, g);
    };
    const after = ms(est.afterSeconds ?? 0);
    if (after === 0) return go(gate);
    this.env.calls.callTimer(call, () => void go(), after);
    return Promise.resolve();
  }

  /** The bot rejected the offer: a bare `deleted` (type and `@odata.id` only) follows (call-reject.md). */
  reject(call: EmulatedCall, reason: string, gate?: Promise<void>) {
    this.#decided(call);
    return this.env.calls.end(
      call,
      { code: 200, subcode: 0, message: `Rejected by the bot (${reason}).` },
      {
        by: 'bot',
        notify: true,
        terminating: false,
        deletedData: { '@odata.type': CALL, '@odata.id': `/communications/calls/${call.id}` },
        gate,
      },
    );
  }

  /** The bot redirected the offer: its leg ends when a target picks up, or when the timeout passes. */
  redirect(call: EmulatedCall, targets: number, timeoutSeconds: number | undefined) {
    this.#decided(call);
    call.state = 'redirecting';
    const script = this.#script(call)?.redirect ?? {};
    const timeout = timeoutSeconds ?? redirectTimeoutDefault(targets);
    const pickUp = script.afterSeconds ?? DEFAULT_REDIRECT_PICKUP_SECONDS;
    if (script.outcome !== 'notAnswered' && pickUp < timeout) {
      this.env.calls.callTimer(
        call,
        () => {
          // call-redirect.md example 3: the whole call, terminated, with an opaque encrypted answeredBy.
          const answeredBy = {
            '@odata.type': '#microsoft.graph.participantInfo',
            identity: {
              '@odata.type': '#microsoft.graph.identitySet',
              encrypted: identity(this.env.random.guid().replace(/-/g, '')),
            },
            endpointType: 'default',
          };
          void this.env.calls.end(
            call,
            { code: 200, subcode: 0, message: 'Redirected: a target answered.' },
            {
              by: 'redirected',
              notify: true,
              terminating: false,
              deletedData: { ...callResource(call), state: 'terminated', answeredBy },
            },
          );
        },
        ms(pickUp),
      );
      return;
    }
    const result = script.resultInfo ?? SETUP_RESULTS.noAnswer;
    this.env.calls.callTimer(
      call,
      () =>
        void this.env.calls.end(call, result, {
          by: 'redirected',
          notify: true,
          terminating: false,
          deletedData: { ...callResource(call), state: 'terminated', resultInfo: resultInfoData(result) },
        }),
      ms(timeout),
    );
  }

  /** A call the bot placed: `establishing` now, then the callee's script. */
  place(call: EmulatedCall, gate?: Promise<void>): Promise<void> {
    const script = this.#script(call);
    const callee = script?.callee ?? {
      kind: 'answer' as const,
      afterSeconds: script?.answerAfterSeconds ?? 0,
    };
    const sent = this.env.notifier.send(call, [this.#state(call, 'establishing')], gate);
    const later = (fn: () => void, seconds: number) => this.env.calls.callTimer(call, fn, ms(seconds));
    switch (callee.kind) {
      case 'answer': {
        const answer = () => {
          void this.env.notifier.send(call, [this.#establish(call)]);
          if (callee.hangUpAfterSeconds !== undefined)
            later(
              () => void this.env.calls.end(call, SETUP_RESULTS.calleeHungUp, { by: 'caller', notify: true }),
              callee.hangUpAfterSeconds,
            );
        };
        later(answer, callee.afterSeconds ?? 0);
        break;
      }
      case 'decline':
        later(
          () => void this.#endUnestablished(call, callee.resultInfo ?? SETUP_RESULTS.declined, 'caller'),
          callee.afterSeconds ?? 1,
        );
        break;
      case 'noAnswer': {
        const asked = call.request.ringingTimeoutInSeconds;
        const ring = typeof asked === 'number' ? asked : (callee.ringSeconds ?? DEFAULT_RING_SECONDS);
        later(
          () => void this.#endUnestablished(call, callee.resultInfo ?? SETUP_RESULTS.noAnswer, 'caller'),
          ring,
        );
        break;
      }
      case 'unreachable':
        later(
          () => void this.#endUnestablished(call, callee.resultInfo ?? SETUP_RESULTS.unreachable, 'caller'),
          callee.afterSeconds ?? 0,
        );
        break;
    }
    return sent;
  }

  /** A call that starts established (control.createCall): its scripted key presses start now. */
  startedEstablished(call: EmulatedCall): void {
    this.#scheduleKeys(call);
  }

  subscribeToTone(call: EmulatedCall, clientContext: string | undefined): ToneOp {
    const now = this.env.clock.now();
    const op: ToneOp = {
      type: 'subscribeToTone',
      id: this.env.random.guid(),
      clientContext,
      status: 'completed',
      createdAt: now,
      endedAt: now,
    };
    call.operations.set(op.id, op);
    call.toneSubscribed = true;
    return op;
  }

  /** The caller presses keys now; returns how many were reported (none before subscribeToTone). */
  press(call: EmulatedCall, keys: string[]): number {
    if (call.endedAt !== undefined || call.state !== 'established' || !call.toneSubscribed) return 0;
    const items: NotificationItem[] = [];
    for (const key of keys) {
      const tone = toneName(key);
      if (!tone) continue;
      items.push(
        this.#state(call, 'established', {
          toneInfo: { '@odata.type': '#microsoft.graph.toneInfo', sequenceId: ++call.toneSeq, tone },
        }),
      );
    }
    void this.env.notifier.send(call, items);
    return items.length;
  }

  clear(): void {
    this.#decisions.clear();
  }

  /** A call `updated` as call-answer.md shows them: type, `@odata.id`, state, and what changed. */
  #state(call: EmulatedCall, state: string, extra: Record<string, unknown> = {}): NotificationItem {
    return {
      changeType: 'updated',
      callId: call.id,
      resourceData: { '@odata.type': CALL, '@odata.id': `/communications/calls/${call.id}`, state, ...extra },
    };
  }

  /** The call is now established: its notification (with mediaState when audio is already active). */
  #establish(call: EmulatedCall): NotificationItem {
    call.state = 'established';
    const after = ms(this.#script(call)?.establish?.mediaActiveAfterSeconds ?? 0);
    const item = this.#state(call, 'established');
    if (after === 0) {
      call.mediaAudio = 'active';
      item.resourceData.mediaState = { '@odata.type': '#microsoft.graph.callMediaState', audio: 'active' };
    } else {
      this.env.calls.callTimer(
        call,
        () => {
          call.mediaAudio = 'active';
          void this.env.notifier.send(call, [
            this.#state(call, 'established', {
              mediaState: { '@odata.type': '#microsoft.graph.callMediaState', audio: 'active' },
            }),
          ]);
        },
        after,
      );
    }
    this.#scheduleKeys(call);
    return item;
  }

  #scheduleKeys(call: EmulatedCall) {
    for (const key of this.#script(call)?.keys ?? [])
      this.env.calls.callTimer(call, () => void this.press(call, [key.tone]), ms(key.atSeconds));
  }

  #decided(call: EmulatedCall) {
    const h = this.#decisions.get(call.id);
    this.#decisions.delete(call.id);
    if (h === undefined) return;
    this.env.timers.clear(h);
    call.timers.delete(h);
  }

  /** The decision deadline passed: the offer ends, and comes again under a new id while re-offers are left. */
  #unanswered(call: EmulatedCall, input: RingInput) {
    this.#decisions.delete(call.id);
    const result = this.#script(call)?.offer?.timeoutResult ?? SETUP_RESULTS.offerTimedOut;
    void this.#endUnestablished(call, result, 'offerTimeout');
    if (call.reoffersLeft > 0)
      this.ring(
        { ...input, script: call.script, variants: call.variants },
        { chainId: call.chainId, request: call.request, reoffersLeft: call.reoffersLeft - 1 },
      );
  }

  /** A call that never got established ends with only a `deleted` carrying its resultInfo. */
  #endUnestablished(
    call: EmulatedCall,
    result: ResultInfoValue,
    by: 'caller' | 'offerTimeout' | 'redirected',
  ) {
    return this.env.calls.end(call, result, {
      by,
      notify: true,
      terminating: false,
      deletedData: {
        '@odata.type': CALL,
        '@odata.id': `/communications/calls/${call.id}`,
        state: 'terminated',
        resultInfo: resultInfoData(result),
      },
    });
  }

  #source(from: RingInput['from']): Record<string, unknown> {
    const set = (members: Record<string, unknown>) => ({
      '@odata.type': '#microsoft.graph.identitySet',
      ...members,
    });
    const identitySet =
      typeof from === 'object'
        ? set(from)
        : typeof from === 'string' && from.startsWith('+')
          ? set({ phone: identity(from) })
          : set({
              user: identity(from ?? this.env.random.guid(), {
                displayName: 'Emulated Caller',
                tenantId: this.env.options.tenantId,
              }),
            });
    return {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: identitySet,
      region: 'amer',
      languageId: 'en-US',
    };
  }
}

declare module './context.js' {
  interface EnvParts {
    setup: CallSetup;
  }
}
