/**
 * Delivers notifications to each call's callbackUri the way Graph does: a
 * signed commsNotifications POST, in order per call, retried on 5xx, 429 or
 * an unreachable bot with waits on the clock. Every POST is tracked on the
 * clock, so a SimulatedClock does not move while one is in flight. Injected
 * faults drop, duplicate or reorder single notifications.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { sleep, type TimerHandle, trackWork } from '../adapters/clock.js';
import { normalizeId } from '../graph/ids.js';
import type { ResultInfoValue } from './caller-script.js';
import type { EmulatedCall } from './calls.js';
import type { Env } from './context.js';
import { MAX_LOG_ENTRIES } from './request-log.js';
import type { NotificationRecord } from './types.js';
import {
  DEFAULT_VARIANTS,
  envelope,
  type NotificationItem,
  renderNotification,
  type Variants,
} from './variants.js';

/** First retry wait; doubles per attempt. */
const RETRY_BASE_MS = 1_000;
/** A notification held back by a reorder fault goes out alone after this long if nothing follows it. */
const REORDER_HOLD_MS = 2_000;

interface Outgoing {
  json: Record<string, unknown>;
  record: NotificationRecord;
}

export class Notifier {
  #records: NotificationRecord[] = [];
  #chains = new Map<string, Promise<void>>();
  #held = new Map<string, { items: Outgoing[]; timer: TimerHandle }>();
  #seq = 0;
  #agent = new Agent({
    connections: 64,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    connect: { timeout: 10_000 },
  });

  constructor(private readonly env: Env) {}

  variantsOf(call: EmulatedCall): Variants {
    const script = call.script ?? this.env.defaults.script;
    return { ...DEFAULT_VARIANTS, ...this.env.defaults.variants, ...script?.variants, ...call.variants };
  }

  /**
   * Queue notifications of one call. They leave after `gate` (the response of
   * the request that caused them) and after everything queued before for the
   * call. Resolves when each is delivered, failed or dropped.
   */
  send(call: EmulatedCall, items: NotificationItem[], gate?: Promise<void>): Promise<void> {
    const held = this.#held.get(call.id);
    if (items.length === 0 && !held) return Promise.resolve();
    const variants = this.variantsOf(call);
    const out: Outgoing[] = [];
    let passing: Outgoing[] = [];
    if (held) {
      this.env.timers.clear(held.timer);
      this.#held.delete(call.id);
      passing = held.items;
    }
    const duplicates = new Set<Outgoing>();
    for (const item of items) {
      const o = this.#prepare(call, item, variants);
      const fault = this.env.faults.forNotification(call.id, item.changeType, o.record.resource);
      if (fault?.mode === 'drop') {
        o.record.delivery = 'dropped';
        o.record.fault = 'drop';
        continue;
      }
      if (fault?.mode === 'reorder') {
        o.record.fault = 'reorder';
        passing.push(o);
        continue;
      }
      if (fault?.mode === 'duplicate') duplicates.add(o);
      out.push(o);
      // Held-back notifications go right after the first one that overtook them.
      out.push(...passing);
      passing = [];
    }
    if (passing.length > 0) {
      const timer = this.env.timers.set(() => {
        const h = this.#held.get(call.id);
        if (h?.items === passing) {
          this.#held.delete(call.id);
          void this.#enqueue(call, [passing]);
        }
      }, REORDER_HOLD_MS);
      this.#held.set(call.id, { items: passing, timer });
    }
    const posts: Outgoing[][] = variants.batch && out.length > 0 ? [out] : out.map((o) => [o]);
    for (const post of [...posts]) {
      for (const o of post) if (duplicates.has(o)) posts.push([this.#copy(o)]);
    }
    return this.#enqueue(call, posts, gate);
  }

  records(filter: { callId?: string } = {}): NotificationRecord[] {
    const id = filter.callId ? normalizeId(filter.callId) : undefined;
    return this.#records
      .filter((r) => id === undefined || normalizeId(r.callId) === id)
      .map((r) => ({ ...r }));
  }

  /** Resolves when every queued notification is settled. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all(this.#chains.values());
  }

  reset(): void {
    for (const h of this.#held.values()) this.env.timers.clear(h.timer);
    this.#held.clear();
    this.#records = [];
  }

  /** After the emulator's signal is aborted: drop held notifications and connections. */
  async close(): Promise<void> {
    this.reset();
    await this.#agent.destroy().catch(() => {});
  }

  #prepare(call: EmulatedCall, item: NotificationItem, variants: Variants): Outgoing {
    const json = renderNotification(item, variants);
    const data = item.resourceData;
    const info = data.resultInfo as ResultInfoValue | null | undefined;
    const record: NotificationRecord = {
      id: ++this.#seq,
      at: this.env.clock.now(),
      callId: call.id,
      changeType: item.changeType,
      resourceUrl: String(json.resourceUrl ?? json.resource),
      resource: item.operationId ? 'operation' : 'call',
      operationId: item.operationId,
      state:
        typeof data.state === 'string'
          ? data.state
          : typeof data.status === 'string'
            ? data.status
            : undefined,
      completionReason: typeof data.completionReason === 'string' ? data.completionReason : undefined,
      resultInfo: info ? { code: info.code, subcode: info.subcode, message: info.message } : undefined,
      delivery: 'pending',
      attempts: 0,
      httpStatus: undefined,
      deliveredAt: undefined,
      batchSize: 1,
      fault: undefined,
    };
    this.#keep(record);
    return { json, record };
  }

  #copy(o: Outgoing): Outgoing {
    const record: NotificationRecord = { ...o.record, id: ++this.#seq, fault: 'duplicate' };
    this.#keep(record);
    return { json: o.json, record };
  }

  #keep(record: NotificationRecord) {
    this.#records.push(record);
    if (this.#records.length > MAX_LOG_ENTRIES) this.#records.splice(0, MAX_LOG_ENTRIES / 10);
  }

  #enqueue(call: EmulatedCall, posts: Outgoing[][], gate?: Promise<void>): Promise<void> {
    if (posts.length === 0) return Promise.resolve();
    for (const post of posts) for (const o of post) o.record.batchSize = post.length;
    // Hold the clock until the causing response is out, so the POSTs start before time moves on.
    const opened = gate ? trackWork(this.env.clock, gate) : undefined;
    const callId = call.id;
    const prev = this.#chains.get(callId) ?? Promise.resolve();
    const next = prev
      .then(() => opened)
      .then(async () => {
        for (const post of posts) await this.#deliver(call, post);
      })
      .catch(() => {});
    this.#chains.set(callId, next);
    void next.then(() => {
      if (this.#chains.get(callId) === next) this.#chains.delete(callId);
    });
    return next;
  }

  async #deliver(call: EmulatedCall, post: Outgoing[]): Promise<void> {
    const body = JSON.stringify(envelope(post.map((o) => o.json)));
    const attempts = 1 + Math.max(0, this.env.options.notificationRetries);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.env.signal.aborted) return;
      const status = await trackWork(this.env.clock, this.#post(call, body));
      const now = this.env.clock.now();
      for (const o of post) {
        o.record.attempts = attempt;
        o.record.httpStatus = status;
      }
      if (status !== undefined && status >= 200 && status < 300) {
        for (const o of post) {
          o.record.delivery = 'delivered';
          o.record.deliveredAt = now;
        }
        return;
      }
      const retryable = status === undefined || status === 429 || status >= 500;
      if (!retryable || attempt === attempts) break;
      try {
        await sleep(this.env.clock, RETRY_BASE_MS * 2 ** (attempt - 1), this.env.signal);
      } catch {
        return;
      }
    }
    for (const o of post) o.record.delivery = 'failed';
  }

  /** One POST; the bot's status, or undefined when it could not be reached. */
  async #post(call: EmulatedCall, body: string): Promise<number | undefined> {
    try {
      const token = await this.env.signer.token();
      const res = await request(call.callbackUri, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: this.env.signal,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'user-agent': 'Microsoft-Skype/3.0,(Calling/1.0) graph-call-machines-emulator',
          'x-microsoft-skype-chain-id': call.chainId,
          'x-microsoft-skype-message-id': randomUUID(),
        },
        body,
      });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return undefined;
    }
  }
}

declare module './context.js' {
  interface EnvParts {
    notifier: Notifier;
  }
}
