/**
 * What a set of model paths covers: each path is replayed on a real actor
 * whose actors never answer (the path's events stand in for their answers),
 * and the transitions it takes (each guarded candidate on its own) and the
 * states it enters are counted against every one the machine has.
 */
import {
  type AnyStateMachine,
  createActor,
  createMachine,
  fromCallback,
  fromPromise,
  type InspectionEvent,
  SimulatedClock as XStateClock,
} from 'xstate';
import { eventLabel, guardName } from '../diagram.js';
import { callMachine, promptMachine, recordMachine } from '../machines/index.js';
import { callModelInput, type ModelEvent, promptModelInput, recordModelInput } from './model-core.js';

function defaultInput(machine: AnyStateMachine): unknown {
  if (machine === callMachine) return callModelInput();
  if (machine === promptMachine) return promptModelInput(false);
  return recordModelInput();
}

const never = fromPromise<never, unknown>(() => new Promise<never>(() => {}));
const quiet = fromCallback(() => () => {});
const stubbedRecord = recordMachine.provide({
  actors: {
    startRecord: never as never,
    downloadRecording: never as never,
    processClip: never as never,
    deleteClip: never as never,
    clipGuard: quiet as never,
  },
});
// A prompt child that never ends by itself: the paths say when it ends (a real one ends at once when the call does).
const promptChild = createMachine({ id: 'prompt', initial: 'waiting', states: { waiting: {} } });
const stubbedPrompt = promptMachine.provide({ actors: { playPrompt: never as never } });
const stubbed = new WeakMap<AnyStateMachine, AnyStateMachine>([
  [recordMachine, stubbedRecord],
  [promptMachine, stubbedPrompt],
  [
    callMachine,
    callMachine.provide({
      actors: {
        keepAlive: never as never,
        hangUp: never as never,
        cancelMedia: never as never,
        answer: never as never,
        reject: never as never,
        redirect: never as never,
        placeCall: never as never,
        subscribeToTone: never as never,
        playPrompt: never as never,
        recordMachine: stubbedRecord as never,
        promptMachine: promptChild as never,
      },
    }),
  ],
]);

interface TransitionLike {
  source: NodeLike;
  eventType: string;
}
interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[] | undefined;
}

function transitionId(t: TransitionLike): string {
  const list = t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  return `${t.source.id}|${t.eventType}|${list.indexOf(t)}`;
}

export interface ReplayResult {
  /** Transition ids taken, in order (`source|eventType|candidate`). */
  transitions: string[];
  /** State node ids entered (or active) along the way. */
  states: string[];
  /** Value after each step, from a real actor with never-answering actors. */
  values: unknown[];
  /** Status of every record and prompt child when the replay ended. */
  children: Record<string, string>;
  /** What the actor emitted, in order. */
  emitted: Array<{ type: string } & Record<string, unknown>>;
  /** The actor's output, when it reached a final state. */
  output: unknown;
  final: { value: unknown; status: string };
}

/**
 * Replay a path on a real actor of the machine whose actors never answer
 * (the path's events stand in for their answers), on a clock that never
 * moves, and record the transitions each event took (eventless ones too).
 */
export function replay(
  machine: AnyStateMachine,
  path: { steps: ReadonlyArray<{ event: ModelEvent }>; input?: unknown },
): ReplayResult {
  const logic = stubbed.get(machine) ?? machine;
  const transitions: string[] = [];
  const states = new Set<string>();
  const spawned = new Map<string, { getSnapshot(): { status: string } }>();
  const root = { ref: undefined as unknown };
  const input = path.input ?? defaultInput(machine);
  const actor = createActor(logic, {
    input: input as never,
    clock: new XStateClock(),
    inspect: (ev: InspectionEvent) => {
      // The first actor is the root (the initial transitions run before createActor returns).
      if (ev.type === '@xstate.actor' && !root.ref) root.ref = ev.actorRef;
      else if (ev.type === '@xstate.actor' && ev.actorRef !== root.ref) {
        const ref = ev.actorRef as unknown as { id: string; getSnapshot(): { status: string } };
        if (/^(rec|prompt)-/.test(ref.id)) spawned.set(ref.id, ref);
      }
      if (ev.type === '@xstate.microstep' && ev.actorRef === root.ref) {
        for (const t of (ev as unknown as { _transitions: TransitionLike[] })._transitions) {
          transitions.push(transitionId(t));
          states.add(t.source.id);
        }
        for (const n of (ev.snapshot as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
      }
    },
  });
  actor.subscribe({ error: () => {} });
  const emitted: ReplayResult['emitted'] = [];
  actor.on('*', (e: { type: string }) => emitted.push({ ...e }));
  for (const n of (actor.getSnapshot() as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
  actor.start();
  for (const n of (actor.getSnapshot() as unknown as { _nodes: NodeLike[] })._nodes) states.add(n.id);
  const values: unknown[] = [actor.getSnapshot().value];
  for (const step of path.steps.slice(1)) {
    actor.send(step.event as never);
    values.push(actor.getSnapshot().value);
  }
  const snap = actor.getSnapshot();
  const children: Record<string, string> = {};
  for (const [id, ref] of spawned) children[id] = ref.getSnapshot().status;
  actor.stop();
  return {
    transitions,
    states: [...states],
    values,
    children,
    emitted,
    output: snap.output,
    final: { value: snap.value, status: snap.status },
  };
}

/** Every state node (but the root) and every transition candidate of a machine. */
export function machineElements(machine: AnyStateMachine): { states: string[]; transitions: string[] } {
  const states: string[] = [];
  const transitions: string[] = [];
  const walk = (node: NodeLike, isRoot: boolean) => {
    if (!isRoot) states.push(node.id);
    for (const [eventType, list] of node.transitions)
      list.forEach((_t, i) => {
        transitions.push(`${node.id}|${eventType}|${i}`);
      });
    (node.always ?? []).forEach((_t, i) => {
      transitions.push(`${node.id}||${i}`);
    });
    for (const child of Object.values(node.states)) walk(child, false);
  };
  walk(machine.root as unknown as NodeLike, true);
  return { states, transitions };
}

export interface Coverage {
  states: { covered: number; total: number; percent: number; missing: string[] };
  transitions: { covered: number; total: number; percent: number; missing: string[] };
}

/** State and transition coverage of `paths` on `machine` (each guarded candidate is its own transition). */
export function coverage(
  machine: AnyStateMachine,
  paths: ReadonlyArray<{ steps: ReadonlyArray<{ event: ModelEvent }>; input?: unknown }>,
): Coverage {
  const all = machineElements(machine);
  const seenStates = new Set<string>();
  const seenTransitions = new Set<string>();
  for (const p of paths) {
    const r = replay(machine, p);
    for (const s of r.states) seenStates.add(s);
    for (const t of r.transitions) seenTransitions.add(t);
  }
  const part = (universe: string[], seen: Set<string>) => {
    const covered = universe.filter((x) => seen.has(x)).length;
    return {
      covered,
      total: universe.length,
      percent: universe.length ? Math.round((1000 * covered) / universe.length) / 10 : 100,
      missing: universe.filter((x) => !seen.has(x)),
    };
  };
  return { states: part(all.states, seenStates), transitions: part(all.transitions, seenTransitions) };
}

/** `call.keepAliveDue|xstate.error.actor.keepAlive|0` -> `call.keepAliveDue: keepAlive error [isNotFound] -> call.draining`. */
export function describeTransition(machine: AnyStateMachine, id: string): string {
  const [source = '', eventType = '', index = '0'] = id.split('|');
  const node = (machine as unknown as { getStateNodeById(id: string): NodeLike }).getStateNodeById(source);
  const list = eventType === '' ? (node.always ?? []) : (node.transitions.get(eventType) ?? []);
  const t = list[Number(index)] as (TransitionLike & { guard?: unknown; target?: NodeLike[] }) | undefined;
  const guard = guardName(t?.guard);
  const target = t?.target?.length ? ` -> ${t.target.map((n) => n.id).join(',')}` : '';
  return `${source}: ${eventLabel(eventType)}${guard ? ` [${guard}]` : ''}${target}`;
}
