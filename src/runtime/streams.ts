/**
 * What observers see of the runtime: state changes and emitted events of
 * every call and record actor (rxjs Subjects fed from XState inspection),
 * the notifications routed (tokens scrubbed), and the user's own inspector.
 */
import { Subject } from 'rxjs';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { ParsedNotification } from '../notifications/index.js';
import type { Clock } from '../ports/clock.js';
import { type EmitterContext, entryForEvent, type ReportSink } from './report.js';
import { countEvent } from './telemetry.js';
import type { RuntimeEvent, StateChange } from './types.js';

export interface RuntimeStreams {
  readonly states: Subject<StateChange>;
  readonly events: Subject<RuntimeEvent>;
  readonly notifications: Subject<ParsedNotification>;
  /** The inspector of one call's actor tree; `changed(key)` hears of every snapshot of ours. */
  /** `callId` may be a function: a placed call is renamed when Graph's 201 names it. */
  inspectFor(callId: string | (() => string), changed: (key: string) => void): (ev: InspectionEvent) => void;
  /** A notification as observers see it (recording tokens replaced). */
  publish(item: ParsedNotification): void;
  complete(): void;
}

type UserInspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;

export function createRuntimeStreams(
  clock: Clock,
  log: ReportSink,
  userInspect: UserInspect,
): RuntimeStreams {
  const states = new Subject<StateChange>();
  const events = new Subject<RuntimeEvent>();
  const notifications = new Subject<ParsedNotification>();

  const inspectUser = (ev: InspectionEvent) => {
    try {
      if (typeof userInspect === 'function') userInspect(ev);
      else userInspect?.next?.(ev);
    } catch (err) {
      log({ level: 'warn', msg: 'inspect observer threw', error: (err as Error)?.message });
    }
  };

  function watchEmits(idOf: () => string, ref: AnyActorRef) {
    const name = machineOf(ref);
    if (!name) return;
    ref.on('*', (emitted: { type: string }) => {
      const callId = idOf();
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

  function inspectFor(id: string | (() => string), changed: (key: string) => void) {
    const idOf = typeof id === 'function' ? id : () => id;
    return (ev: InspectionEvent) => {
      if (ev.type === '@xstate.actor') watchEmits(idOf, ev.actorRef as AnyActorRef);
      if (ev.type === '@xstate.snapshot') {
        const name = machineOf(ev.actorRef as AnyActorRef);
        if (name) {
          const callId = idOf();
          changed(normalizeId(callId));
          const snap = ev.snapshot as { value?: unknown; status?: string };
          states.next({
            at: clock.now(),
            callId,
            actor: name === 'call' ? 'call' : (ev.actorRef as AnyActorRef).id,
            machine: name,
            value: snap.value,
            status: snap.status ?? 'active',
          });
        }
      }
      if (userInspect) inspectUser(ev);
    };
  }

  return {
    states,
    events,
    notifications,
    inspectFor,
    publish: (item) => notifications.next(scrub(item)),
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
