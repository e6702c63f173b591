/**
 * Injected faults: throttling, server errors, slow answers, reset connections
 * and misbehaving notifications, matched per route (and optionally per call),
 * for the next N matches or with a seeded probability.
 */
import { z } from 'zod';
import { normalizeId } from '../graph/ids.js';
import type { RandomSource } from './random.js';

/** Names of the routes a fault (and the request log) refers to. */
export const ROUTES = [
  'createCall',
  'getCall',
  'hangUp',
  'keepAlive',
  'record',
  'recordResponse',
  'cancelMediaProcessing',
  'getOperation',
  'download',
  'answer',
  'reject',
  'redirect',
  'playPrompt',
  'subscribeToTone',
] as const;
export type RouteName = (typeof ROUTES)[number];

/** The call-setup and media routes (answer, reject, ...), served by routes-setup.ts. */
export type SetupRoute = 'answer' | 'reject' | 'redirect' | 'playPrompt' | 'subscribeToTone';

export type FaultAction =
  /** Answer with this status and a Graph error body (429/503/504 may carry Retry-After: seconds or an HTTP-date). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Hold the request this long on the emulator's clock before handling it. */
  | { kind: 'delay'; ms: number }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' }
  /**
   * Misbehaving notifications. `drop`: never sent; `duplicate`: sent twice;
   * `reorder`: held back and sent after the next one of its call; `early`: the
   * notifications a request causes (a record's completion, a hang-up's
   * termination) reach the bot before the request's own response.
   */
  | { kind: 'notification'; mode: 'drop' | 'duplicate' | 'reorder' | 'early' };

export interface FaultSpec {
  /** Route to match (`'*'`, the default, matches all). Ignored by drop/duplicate/reorder. */
  route?: RouteName | '*';
  /** Only requests (or notifications) of this call; any id spelling. */
  callId?: string;
  /** Apply to the next `count` matches, then expire. */
  count?: number;
  /** Apply to each match with this probability (seeded by the emulator's `seed`). */
  probability?: number;
  /** drop/duplicate/reorder only: match notifications of this change type. */
  changeType?: 'created' | 'updated' | 'deleted';
  /** drop/duplicate/reorder only: call-state notifications or operation ones. */
  resource?: 'call' | 'operation';
  fault: FaultAction;
}

export interface ActiveFault extends FaultSpec {
  id: string;
  /** Matches left (undefined: unlimited). */
  remaining?: number;
  /** Times it has applied. */
  hits: number;
}

const FaultActionSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('status'),
      status: z.int().min(400).max(599),
      retryAfter: z.union([z.string().min(1).max(64), z.number().min(0).transform(String)]).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('delay'),
      ms: z
        .number()
        .min(0)
        .max(24 * 3600_000),
    })
    .strict(),
  z.object({ kind: z.literal('reset') }).strict(),
  z
    .object({ kind: z.literal('notification'), mode: z.enum(['drop', 'duplicate', 'reorder', 'early']) })
    .strict(),
]);

const MATCH_KEYS = ['route', 'callId', 'count', 'probability', 'changeType', 'resource'] as const;

/**
 * A fault as `{ route, count, fault: { kind, ... } }`, or flat as
 * `{ route, count, kind, ... }` (handy over HTTP).
 */
export const FaultSpecSchema = z.preprocess(
  (v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || 'fault' in v || !('kind' in v)) return v;
    const flat = v as Record<string, unknown>;
    const spec: Record<string, unknown> = {};
    const fault: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(flat))
      ((MATCH_KEYS as readonly string[]).includes(k) ? spec : fault)[k] = val;
    return { ...spec, fault };
  },
  z
    .object({
      route: z.enum([...ROUTES, '*']).optional(),
      callId: z.string().min(1).max(64).optional(),
      count: z.int().min(1).optional(),
      probability: z.number().min(0).max(1).optional(),
      changeType: z.enum(['created', 'updated', 'deleted']).optional(),
      resource: z.enum(['call', 'operation']).optional(),
      fault: FaultActionSchema,
    })
    .strict()
    .refine((f) => f.count === undefined || f.probability === undefined, {
      message: 'give count or probability, not both',
      path: ['count'],
    }),
);

/** What the request pipeline must do for one request. */
export interface RequestFaults {
  delayMs: number;
  /** Answer with an error or drop the connection instead of handling the request. */
  terminal?: Extract<FaultAction, { kind: 'status' } | { kind: 'reset' }>;
  /** Deliver the notifications this request causes before answering it. */
  early: boolean;
  /** Ids of the faults that applied (for the request log). */
  applied: string[];
}

export class FaultTable {
  #faults: ActiveFault[] = [];
  #seq = 0;

  constructor(private readonly random: RandomSource) {}

  add(spec: FaultSpec): string {
    const id = `fault-${++this.#seq}`;
    this.#faults.push({ ...spec, id, remaining: spec.count, hits: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length < before;
  }

  clear(): void {
    this.#faults = [];
  }

  list(): ActiveFault[] {
    return this.#faults.map((f) => ({ ...f, fault: { ...f.fault } }));
  }

  /** Faults for a request: every matching delay adds up, the first status/reset wins, early if any says so. */
  forRequest(route: RouteName, callId: string | undefined): RequestFaults {
    const out: RequestFaults = { delayMs: 0, early: false, applied: [] };
    for (const f of this.#faults) {
      if (f.fault.kind === 'notification' && f.fault.mode !== 'early') continue;
      if (f.route !== undefined && f.route !== '*' && f.route !== route) continue;
      if (!this.#callMatches(f, callId)) continue;
      if ((f.fault.kind === 'status' || f.fault.kind === 'reset') && out.terminal) continue;
      if (!this.#take(f)) continue;
      out.applied.push(f.id);
      if (f.fault.kind === 'delay') out.delayMs += f.fault.ms;
      else if (f.fault.kind === 'notification') out.early = true;
      else out.terminal = f.fault;
    }
    this.#prune();
    return out;
  }

  /** The drop/duplicate/reorder fault for one outgoing notification, if any. */
  forNotification(
    callId: string,
    changeType: string,
    resource: 'call' | 'operation',
  ): { id: string; mode: 'drop' | 'duplicate' | 'reorder' } | undefined {
    for (const f of this.#faults) {
      if (f.fault.kind !== 'notification' || f.fault.mode === 'early') continue;
      if (f.changeType !== undefined && f.changeType !== changeType) continue;
      if (f.resource !== undefined && f.resource !== resource) continue;
      if (!this.#callMatches(f, callId) || !this.#take(f)) continue;
      const mode = f.fault.mode;
      this.#prune();
      return { id: f.id, mode };
    }
    return undefined;
  }

  #callMatches(f: ActiveFault, callId: string | undefined) {
    return f.callId === undefined || (callId !== undefined && normalizeId(f.callId) === normalizeId(callId));
  }

  #take(f: ActiveFault): boolean {
    if (f.probability !== undefined && this.random.next() >= f.probability) return false;
    if (f.remaining !== undefined) f.remaining--;
    f.hits++;
    return true;
  }

  #prune() {
    this.#faults = this.#faults.filter((f) => f.remaining === undefined || f.remaining > 0);
  }
}
