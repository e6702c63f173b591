/**
 * What observers see of the runtime: state changes and emitted events of
 * every call and record actor (rxjs Subjects fed from XState inspection),
 * the notifications routed (tokens scrubbed), and the user's own inspector.
 *
 * Memory (issue 18): a call costs the streams one small inspector object; the
 * inspecting code is shared by all calls. An emit listener is added to an actor
 * only when it first emits (seen from its `xstate.emit` action, which XState
 * delivers when the step's snapshot is taken), so an idle call has none.
 */
import { Subject } from 'rxjs';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { ParsedNotification } from '../notifications/index.js';
import type { Clock } from '../ports/clock.js';
import { type EmitterContext, entryForEvent, type ReportSink } from './report.js';
import { countEvent } from './telemetry.js';
import type { RuntimeEvent, StateChange } from './types.js';

/** An event a machine emits. */
export type Emitted = { type: string; [k: string]: unknown };

/** What the streams need of one tracked call (the registry's entry for it). */
export interface StreamedCall {
  /** The call's id now: a placed call is renamed when Graph's 201 names it. */
  readonly name: string;
  /** A snapshot of one of its machines (call or record) was taken: persistence saves on change. */
  changed(): void;
  /** The call machine runs an emit action: heard before any listener gets the event (the rename). */
  willEmit(event: Emitted): void;
  /** The call machine's emitted event, before the log and `events` see it (tones). */
  emitted(event: Emitted): void;
  /** The call actor is done or stopped: heard before its last snapshot is saved or streamed. */
  finished(): void;
}

export interface RuntimeStreams {
  readonly states: Subject<StateChange>;
  readonly events: Subject<RuntimeEvent>;
  readonly notifications: Subject<ParsedNotification>;
  /** The inspection observer of one call's actor tree (pass as createActor's `inspect`). */
  inspector(call: StreamedCall): Observer<InspectionEvent>;
  /** A notification as observers see it (recording tokens replaced). */
  publish(item: ParsedNotification): void;
  /**
   * The call actor failed: its last state change, with status `error`. XState's own inspection leaves
   * it out (a step that throws reports no snapshot, a deferred action's throw the one before it).
   */
  failed(call: StreamedCall, ref: AnyActorRef): void;
  complete(): void;
}

type UserInspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
type See = (call: StreamedCall, ev: InspectionEvent) => void;

/** One per call: its fields are all a call adds; `next` is shared by every call. */
class CallInspector implements Observer<InspectionEvent> {
  readonly see: See;
  readonly call: StreamedCall;
  constructor(see: See, call: StreamedCall) {
    this.see = see;
    this.call = call;
  }
  next(ev: InspectionEvent): void {
    this.see(this.call, ev);
  }
}

export function createRuntimeStreams(
  clock: Clock,
  log: ReportSink,
  userInspect: UserInspect,
): RuntimeStreams {
  const states = new Subject<StateChange>();
  const events = new Subject<RuntimeEvent>();
  const notifications = new Subject<ParsedNotification>();
  /** Actors that have our emit listener. */
  const listening = new WeakSet<AnyActorRef>();

  const inspectUser = (ev: InspectionEvent) => {
    try {
      if (typeof userInspect === 'function') userInspect(ev);
      else userInspect?.next?.(ev);
    } catch (err) {
      log({ level: 'warn', msg: 'inspect observer threw', error: (err as Error)?.message });
    }
  };

  function listen(call: StreamedCall, ref: AnyActorRef, name: 'call' | 'record') {
    if (listening.has(ref)) return;
    listening.add(ref);
    ref.on('*', (emitted: Emitted) => {
      if (name === 'call') call.emitted(emitted);
      const callId = call.name;
      const entry = entryForEvent(
        callId,
        emitted,
        (ref.getSnapshot() as { context?: EmitterContext }).context,
      );
      if (entry) log(entry);
      countEvent(emitted);
      events.next({ ...emitted, at: clock.now(), callId, actor: name === 'call' ? 'call' : ref.id });
    });
  }

  const see: See = (call, ev) => {
    if (ev.type === '@xstate.action' && ev.action.type === 'xstate.emit') {
      const ref = ev.actorRef as AnyActorRef;
      const name = machineOf(ref);
      if (name) {
        // XState defers the delivery to the end of the step: the listener added now hears this event.
        if (name === 'call') call.willEmit((ev.action.params as { event: Emitted }).event);
        listen(call, ref, name);
      }
    }
    if (ev.type === '@xstate.snapshot') {
      const ref = ev.actorRef as AnyActorRef;
      const name = machineOf(ref);
      // A deferred action threw in this step: XState inspects the snapshot from before the throw, and
      // failed() has already reported the error. Nothing to save or stream then.
      const threw = name === 'call' && ref.getSnapshot().status === 'error';
      if (name && !threw) {
        const snap = ev.snapshot as { value?: unknown; status?: string };
        if (name === 'call' && (snap.status === 'done' || snap.status === 'stopped')) call.finished();
        call.changed();
        states.next({
          at: clock.now(),
          callId: call.name,
          actor: name === 'call' ? 'call' : ref.id,
          machine: name,
          value: snap.value,
          status: snap.status ?? 'active',
        });
      }
    }
    if (userInspect) inspectUser(ev);
  };

  return {
    states,
    events,
    notifications,
    inspector: (call) => new CallInspector(see, call),
    // The scrubbed copy is made only for someone to see it.
    publish: (item) => {
      if (notifications.observed) notifications.next(scrub(item));
    },
    failed(call, ref) {
      states.next({
        at: clock.now(),
        callId: call.name,
        actor: 'call',
        machine: 'call',
        value: (ref.getSnapshot() as { value?: unknown }).value,
        status: 'error',
      });
    },
    complete() {
      states.complete();
      events.complete();
      notifications.complete();
    },
  };
}
/** `call` or `record` for our machines' actors, undefined for helper actors (promises, guards). */
function machineOf(ref: AnyActorRef): 'call' | 'record' | undefined {
  const id = (ref as { logic?: { id?: string } }).logic?.id;
  return id === 'call' || id === 'record' ? id : undefined;
}

/** A notification as observers see it: recording tokens replaced. */
function scrub(item: ParsedNotification): ParsedNotification {
  return {
    ...item,
    resources: item.resources.map((r) =>
      r.kind === 'recordOperation' && r.data.recordingAccessToken
        ? { ...r, data: { ...r.data, recordingAccessToken: '[redacted]' } }
        : r,
    ),
    raw: undefined,
  } as ParsedNotification;
}
