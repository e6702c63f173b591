/**
 * Media operations of emulated calls: record/recordResponse and playPrompt
 * run FIFO per call in one queue (a record's bargeInAllowed pre-empts), each
 * played on the clock from the caller script; cancelMediaProcessing fails the
 * running and queued ones (records with Graph's empty-string shape);
 * completed records leave a downloadable recording.
 */
import { randomBytes } from 'node:crypto';
import type { RecordOptions } from '../graph/schemas.js';
import {
  actionFor,
  callEndedOutcome,
  canceledOutcome,
  type EmulatedRecordOutcome,
  planRecord,
} from './caller-script.js';
import type { EmulatedCall } from './calls.js';
import { deferred, type Env } from './context.js';
import type { CancelOp, GraphVersion, MediaOp, Recording, RecordOp } from './operations.js';
import {
  type PromptOp,
  type PromptOutcome,
  promptCallEnded,
  promptCanceled,
  promptCompleted,
  promptPlayMs,
  promptResource,
} from './prompts.js';
import { canonicalGuid } from './random.js';
import { RESULT, resultInfoData } from './result-info.js';
import type { NotificationItem } from './variants.js';
import { pcmBytes, WAV_HEADER_BYTES } from './wav.js';

export type { CancelOp, GraphVersion, MediaOp, Recording, RecordOp } from './operations.js';

export class Media {
  #recordings = new Map<string, Recording>();
  #ops = new Map<string, MediaOp>();

  constructor(private readonly env: Env) {}

  /** Queue a record operation; it starts at once unless another one runs (or it barges in). */
  startRecord(call: EmulatedCall, options: RecordOptions, gate?: Promise<void>): RecordOp {
    const op: RecordOp = {
      type: 'record',
      id: this.env.random.guid(),
      callId: call.id,
      index: call.records++,
      clientContext: options.clientContext,
      options,
      status: 'notStarted',
      createdAt: this.env.clock.now(),
      startedAt: undefined,
      endedAt: undefined,
      plan: undefined,
      outcome: undefined,
      recording: undefined,
      timers: [],
      done: deferred(),
    };
    call.operations.set(op.id, op);
    this.#ops.set(op.id, op);
    if (options.bargeInAllowed && (call.running || call.queue.length > 0))
      this.#send(call, this.#cancelAll(call), gate);
    if (call.running) call.queue.push(op);
    else this.#run(call, op);
    return op;
  }

  /** Queue a playPrompt operation, behind whatever plays or records. */
  startPrompt(
    call: EmulatedCall,
    body: { uris: string[]; clientContext?: string; loop?: boolean },
  ): PromptOp {
    const op: PromptOp = {
      type: 'playPrompt',
      id: this.env.random.guid(),
      callId: call.id,
      clientContext: body.clientContext,
      uris: body.uris,
      loop: body.loop === true,
      status: 'notStarted',
      createdAt: this.env.clock.now(),
      startedAt: undefined,
      endedAt: undefined,
      outcome: undefined,
      timers: [],
      done: deferred(),
    };
    call.operations.set(op.id, op);
    this.#ops.set(op.id, op);
    if (call.running) call.queue.push(op);
    else this.#run(call, op);
    return op;
  }

  /** cancelMediaProcessing: an operation already completed, and a failed completion for each record. */
  cancel(call: EmulatedCall, clientContext: string | undefined, gate?: Promise<void>) {
    const now = this.env.clock.now();
    const op: CancelOp = {
      type: 'cancelMediaProcessing',
      id: this.env.random.guid(),
      clientContext,
      status: 'completed',
      createdAt: now,
      endedAt: now,
    };
    call.operations.set(op.id, op);
    return { op, delivered: this.#send(call, this.#cancelAll(call), gate) };
  }

  /** The call ended: its records end per the script's onCallEnd. Returns their completions. */
  endAll(call: EmulatedCall): NotificationItem[] {
    const mode = (call.script ?? this.env.defaults.script)?.onCallEnd ?? 'complete';
    const now = this.env.clock.now();
    const items: NotificationItem[] = [];
    for (const op of [call.running, ...call.queue]) {
      if (!op) continue;
      if (op.type === 'playPrompt') {
        items.push(...this.#completePrompt(call, op, mode === 'silent' ? undefined : promptCallEnded()));
        continue;
      }
      const speech = op.plan && op.startedAt !== undefined ? op.plan.speechAt(now - op.startedAt) : 0;
      items.push(...this.#complete(call, op, mode === 'silent' ? undefined : callEndedOutcome(speech)));
    }
    call.running = undefined;
    call.queue = [];
    return items;
  }

  /** Resolve each operation's `done` when the notifications carrying it are settled. */
  settleNotified(items: NotificationItem[], delivered: Promise<void>): void {
    for (const item of items) {
      const op = item.operationId ? this.#ops.get(item.operationId) : undefined;
      if (op) void delivered.then(() => op.done.resolve());
    }
  }

  /** The recordOperation resource. v1.0 responses leave out completionReason, which its schema lacks. */
  recordResource(op: RecordOp, version?: GraphVersion): Record<string, unknown> {
    const canceled = op.outcome?.completionReason === 'operationCanceled';
    const rec = op.recording;
    const data: Record<string, unknown> = {
      '@odata.type': '#microsoft.graph.recordOperation',
      id: op.id,
      clientContext: op.clientContext ?? null,
      status: op.status,
      resultInfo: op.outcome ? resultInfoData(op.outcome.resultInfo) : null,
      recordingLocation: rec ? this.recordingUrl(rec) : canceled ? '' : null,
      recordingAccessToken: rec ? rec.token : canceled ? '' : null,
    };
    if (version !== 'v1.0') data.completionReason = op.outcome?.completionReason ?? null;
    return data;
  }

  cancelResource(op: CancelOp): Record<string, unknown> {
    return {
      '@odata.type': '#microsoft.graph.cancelMediaProcessingOperation',
      id: op.id,
      clientContext: op.clientContext ?? null,
      status: op.status,
      resultInfo: null,
    };
  }

  recordingUrl(rec: Recording): string {
    return `${this.env.origin}/_media/recordings/${rec.id}`;
  }

  findRecording(id: string): Recording | undefined {
    const key = canonicalGuid(id);
    return key ? this.#recordings.get(key) : undefined;
  }

  recordingsOf(callId: string): Recording[] {
    return [...this.#recordings.values()].filter((r) => r.callId === callId);
  }

  clear(): void {
    this.#recordings.clear();
    this.#ops.clear();
  }

  #run(call: EmulatedCall, op: MediaOp) {
    if (op.type === 'playPrompt') return this.#runPrompt(call, op);
    const script = call.script ?? this.env.defaults.script;
    const plan = planRecord(actionFor(script, op.index), op.options, script);
    op.status = 'running';
    op.startedAt = this.env.clock.now();
    op.plan = plan;
    call.running = op;
    op.timers.push(this.env.calls.callTimer(call, () => this.#finish(call, op), plan.endAfterMs));
    // A caller who hangs up after the record ended on its own: the call ends later.
    if (plan.hangUpAfterMs !== undefined && plan.hangUpAfterMs > plan.endAfterMs)
      this.env.calls.callTimer(
        call,
        () => void this.env.calls.end(call, RESULT.conversationEnded, { by: 'caller', notify: true }),
        plan.hangUpAfterMs,
      );
  }

  #finish(call: EmulatedCall, op: RecordOp) {
    const plan = op.plan!;
    call.running = undefined;
    const items = this.#complete(call, op, plan.outcome);
    if (plan.hangUpAfterMs === plan.endAfterMs) {
      // The caller hung up: the completion (if any) and the call's end go out together.
      void this.env.calls.end(call, RESULT.conversationEnded, { by: 'caller', notify: true, extra: items });
      return;
    }
    this.#send(call, items);
    this.#next(call);
  }

  #next(call: EmulatedCall) {
    const next = call.queue.shift();
    if (next) this.#run(call, next);
  }

  #runPrompt(call: EmulatedCall, op: PromptOp) {
    op.status = 'running';
    op.startedAt = this.env.clock.now();
    call.running = op;
    const ms = promptPlayMs(op, call.script ?? this.env.defaults.script);
    // A looping prompt holds the queue until cancelMediaProcessing or the call's end.
    if (ms === undefined) return;
    op.timers.push(
      this.env.calls.callTimer(
        call,
        () => {
          call.running = undefined;
          this.#send(call, this.#completePrompt(call, op, promptCompleted()));
          this.#next(call);
        },
        ms,
      ),
    );
  }

  #completePrompt(call: EmulatedCall, op: PromptOp, outcome: PromptOutcome | undefined): NotificationItem[] {
    for (const h of op.timers) this.env.timers.clear(h);
    op.timers = [];
    op.endedAt = this.env.clock.now();
    if (!outcome) {
      op.done.resolve();
      return [];
    }
    op.outcome = outcome;
    op.status = outcome.status;
    return [{ changeType: 'deleted', callId: call.id, operationId: op.id, resourceData: promptResource(op) }];
  }

  /** End an operation; its completion notification, or none when `outcome` is undefined. */
  #complete(
    call: EmulatedCall,
    op: RecordOp,
    outcome: EmulatedRecordOutcome | undefined,
  ): NotificationItem[] {
    for (const h of op.timers) this.env.timers.clear(h);
    op.timers = [];
    op.endedAt = this.env.clock.now();
    if (!outcome) {
      // Graph's silent hang-up: the operation never reports; it stays "running" for ever.
      op.done.resolve();
      return [];
    }
    op.outcome = outcome;
    op.status = outcome.status;
    if (outcome.status === 'completed') op.recording = this.#newRecording(call, op, outcome.recordedSeconds);
    return [
      { changeType: 'deleted', callId: call.id, operationId: op.id, resourceData: this.recordResource(op) },
    ];
  }

  #cancelAll(call: EmulatedCall): NotificationItem[] {
    const items: NotificationItem[] = [];
    for (const op of [call.running, ...call.queue]) {
      if (op?.type === 'playPrompt') items.push(...this.#completePrompt(call, op, promptCanceled()));
      else if (op) items.push(...this.#complete(call, op, canceledOutcome()));
    }
    call.running = undefined;
    call.queue = [];
    return items;
  }

  #send(call: EmulatedCall, items: NotificationItem[], gate?: Promise<void>): Promise<void> {
    const delivered = this.env.notifier.send(call, items, gate);
    this.settleNotified(items, delivered);
    return delivered;
  }

  #newRecording(call: EmulatedCall, op: RecordOp, seconds: number): Recording {
    const rec: Recording = {
      id: this.env.random.guid(),
      callId: call.id,
      operationId: op.id,
      seconds,
      bytes: WAV_HEADER_BYTES + pcmBytes(seconds),
      token: randomBytes(32).toString('base64url'),
      createdAt: this.env.clock.now(),
      downloads: 0,
    };
    this.#recordings.set(rec.id, rec);
    return rec;
  }
}

declare module './context.js' {
  interface EnvParts {
    media: Media;
  }
}
