/**
 * Emulated calls and their lifecycle: creation, the keepAlive window (a call
 * with no successful keepAlive for keepAliveTimeoutMs ends at exactly that
 * instant of the clock), and the end of a call from any side, with Graph's
 * `updated/terminating` then `deleted/terminated` notifications.
 */
import type { TimerHandle } from '../adapters/clock.js';
import type { CallState } from '../graph/schemas.js';
import type { CallerScript, ResultInfoValue } from './caller-script.js';
import type { Env } from './context.js';
import type { CancelOp, MediaOp, PromptOp, RecordOp, ToneOp } from './operations.js';
import { canonicalGuid } from './random.js';
import { RESULT, resultInfoData } from './result-info.js';
import type { CallEndCause, CallSummary, CreateCallOptions } from './types.js';
import type { NotificationItem, Variants } from './variants.js';

export interface EmulatedCall {
  id: string;
  callbackUri: string;
  direction: 'incoming' | 'outgoing';
  state: CallState;
  startedAt: number;
  lastKeepAliveAt: number | undefined;
  /** The call ends at this clock time unless a keepAlive succeeds first. */
  deadline: number;
  endedAt: number | undefined;
  endReason: ResultInfoValue | undefined;
  endedBy: CallEndCause | undefined;
  script: CallerScript | undefined;
  variants: Partial<Variants> | undefined;
  chainId: string;
  /** What the bot sent when it created the call (source, targets, ...), echoed by GET. */
  request: Record<string, unknown>;
  operations: Map<string, RecordOp | CancelOp | PromptOp | ToneOp>;
  /** Record and playPrompt operations waiting, in order, and the one playing. */
  queue: MediaOp[];
  running: MediaOp | undefined;
  /** Record requests so far (picks the caller action of each). */
  records: number;
  /** `mediaState.audio`: active once the call is established. */
  mediaAudio: 'active' | 'inactive';
  /** subscribeToTone was called: key presses are reported. */
  toneSubscribed: boolean;
  /** Last toneInfo sequenceId sent. */
  toneSeq: number;
  /** Re-offers left for an offered call the bot lets time out. */
  reoffersLeft: number;
  /** Timers that die with the call (expiry, answer, a scripted hang-up). */
  timers: Set<TimerHandle>;
  expiry: TimerHandle | undefined;
}

export { RESULT, resultInfoData } from './result-info.js';

export interface EndCallOptions {
  by: CallEndCause;
  /** Send terminating/terminated (false: the far side vanished silently). */
  notify: boolean;
  /** Sent ahead of the call's own notifications (e.g. the completion of the record the hang-up ended). */
  extra?: NotificationItem[];
  /** Notifications wait for this (the response of the request that caused them). */
  gate?: Promise<void>;
  /** false: only the `deleted` (an offer that ends unanswered, rejected or redirected). */
  terminating?: boolean;
  /** Replaces the `deleted` notification's resourceData (reject's bare call; redirect's answeredBy). */
  deletedData?: Record<string, unknown>;
}

export class CallStore {
  #calls = new Map<string, EmulatedCall>();

  constructor(private readonly env: Env) {}

  create(
    opts: CreateCallOptions,
    shape: {
      direction: 'incoming' | 'outgoing';
      state: CallState;
      request?: Record<string, unknown>;
      /** A re-offer keeps the chain of the offer it replaces. */
      chainId?: string;
    },
  ): EmulatedCall {
    const id = opts.id === undefined ? this.env.random.guid() : canonicalGuid(opts.id);
    if (!id) throw new TypeError(`call id must be a GUID: ${String(opts.id).slice(0, 64)}`);
    if (this.#calls.has(id)) throw new TypeError(`call ${id} already exists`);
    const now = this.env.clock.now();
    const call: EmulatedCall = {
      id,
      callbackUri: opts.callbackUri,
      direction: shape.direction,
      state: shape.state,
      startedAt: now,
      lastKeepAliveAt: undefined,
      deadline: now + this.env.options.keepAliveTimeoutMs,
      endedAt: undefined,
      endReason: undefined,
      endedBy: undefined,
      script: opts.script,
      variants: opts.variants,
      chainId: shape.chainId ?? this.env.random.guid(),
      request: shape.request ?? {},
      operations: new Map(),
      queue: [],
      running: undefined,
      records: 0,
      mediaAudio: shape.state === 'established' ? 'active' : 'inactive',
      toneSubscribed: false,
      toneSeq: 0,
      reoffersLeft: 0,
      timers: new Set(),
      expiry: undefined,
    };
    this.#calls.set(id, call);
    this.#armExpiry(call);
    return call;
  }

  /** Any call ever seen, ended or not, by id in any spelling. */
  find(id: string): EmulatedCall | undefined {
    const key = canonicalGuid(id);
    return key ? this.#calls.get(key) : undefined;
  }

  /**
   * A call that is still alive. A call past its deadline ends here first, so
   * the 45-minute rule holds to the millisecond even if its timer has not run yet.
   */
  live(id: string): EmulatedCall | undefined {
    const call = this.find(id);
    if (!call || call.endedAt !== undefined) return undefined;
    if (this.env.clock.now() >= call.deadline) {
      this.expire(call);
      return undefined;
    }
    return call;
  }

  all(): EmulatedCall[] {
    return [...this.#calls.values()];
  }

  keepAlive(call: EmulatedCall): void {
    const now = this.env.clock.now();
    call.lastKeepAliveAt = now;
    call.deadline = now + this.env.options.keepAliveTimeoutMs;
    this.#armExpiry(call);
  }

  /** A timer that is cleared when the call ends. */
  callTimer(call: EmulatedCall, fn: () => void, ms: number): TimerHandle {
    const h = this.env.timers.set(() => {
      call.timers.delete(h);
      fn();
    }, ms);
    call.timers.add(h);
    return h;
  }

  expire(call: EmulatedCall): void {
    void this.end(call, RESULT.keepAliveTimeout, { by: 'keepAliveTimeout', notify: true });
  }

  /**
   * End the call: its media operations end (per its script), then Graph's two
   * termination notifications. Resolves when they have been delivered.
   */
  end(call: EmulatedCall, reason: ResultInfoValue, opts: EndCallOptions): Promise<void> {
    if (call.endedAt !== undefined) return Promise.resolve();
    for (const h of call.timers) this.env.timers.clear(h);
    call.timers.clear();
    call.state = 'terminated';
    call.endedAt = this.env.clock.now();
    call.endReason = { ...reason };
    call.endedBy = opts.by;
    call.mediaAudio = 'inactive';
    const items = [...(opts.extra ?? []), ...this.env.media.endAll(call)];
    if (opts.notify) {
      if (opts.terminating !== false)
        items.push({
          changeType: 'updated',
          callId: call.id,
          resourceData: { ...callResource(call), state: 'terminating', resultInfo: null },
        });
      items.push({
        changeType: 'deleted',
        callId: call.id,
        resourceData: opts.deletedData ?? {
          ...callResource(call),
          state: 'terminated',
          resultInfo: resultInfoData(reason),
        },
      });
    }
    const delivered = this.env.notifier.send(call, items, opts.gate);
    this.env.media.settleNotified(items, delivered);
    return delivered;
  }

  summary(call: EmulatedCall): CallSummary {
    // Report a call past its deadline as the next request would see it: ended.
    if (call.endedAt === undefined && this.env.clock.now() >= call.deadline) this.expire(call);
    const retention = this.env.options.recordingRetentionMs;
    return {
      id: call.id,
      state: call.state,
      direction: call.direction,
      callbackUri: call.callbackUri,
      callChainId: call.chainId,
      mediaAudio: call.mediaAudio,
      toneSubscribed: call.toneSubscribed,
      startedAt: call.startedAt,
      lastKeepAliveAt: call.lastKeepAliveAt,
      expiresAt: call.endedAt === undefined ? call.deadline : undefined,
      endedAt: call.endedAt,
      endReason: call.endReason,
      endedBy: call.endedBy,
      operations: [...call.operations.values()].map((op) => ({
        id: op.id,
        type: op.type,
        status: op.status,
        completionReason:
          op.type === 'record' || op.type === 'playPrompt' ? op.outcome?.completionReason : undefined,
        createdAt: op.createdAt,
        endedAt: op.endedAt,
      })),
      recordings: this.env.media.recordingsOf(call.id).map((r) => ({
        id: r.id,
        operationId: r.operationId,
        seconds: r.seconds,
        bytes: r.bytes,
        createdAt: r.createdAt,
        availableUntil: call.endedAt === undefined ? undefined : call.endedAt + retention,
        downloads: r.downloads,
      })),
    };
  }

  clear(): void {
    for (const call of this.#calls.values()) for (const h of call.timers) this.env.timers.clear(h);
    this.#calls.clear();
  }

  #armExpiry(call: EmulatedCall) {
    if (call.expiry !== undefined) {
      this.env.timers.clear(call.expiry);
      call.timers.delete(call.expiry);
    }
    call.expiry = this.callTimer(
      call,
      () => {
        call.expiry = undefined;
        this.expire(call);
      },
      call.deadline - this.env.clock.now(),
    );
  }
}

/** The call resource as GET returns it and notifications carry it. */
export function callResource(call: EmulatedCall): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.call',
    id: call.id,
    state: call.state,
    direction: call.direction,
    callbackUri: call.callbackUri,
    callChainId: call.chainId,
    requestedModalities: call.request.requestedModalities ?? ['audio'],
    mediaConfig: call.request.mediaConfig ?? { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    mediaState: { '@odata.type': '#microsoft.graph.callMediaState', audio: call.mediaAudio },
    myParticipantId: call.request.myParticipantId ?? null,
    source: call.request.source ?? null,
    targets: call.request.targets ?? [],
    tenantId: call.request.tenantId ?? null,
    resultInfo: call.endReason ? resultInfoData(call.endReason) : null,
  };
}

declare module './context.js' {
  interface EnvParts {
    calls: CallStore;
  }
}
