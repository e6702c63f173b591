/**
 * The machines render meaningfully in the Stately inspector and in diagrams:
 * every state and every transition has a description, every action, guard,
 * actor and delay is referenced by a name from setup(), and the tags mark the
 * call's live states and the record's clip-holding states.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { callMachine, recordMachine } from '../../src/machines/index.js';

interface Node {
  id: string;
  description?: string;
  tags: readonly string[];
  states: Record<string, Node>;
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  entry: unknown[];
  exit: unknown[];
  invoke: Array<{ src: unknown; id: string }>;
}
interface Transition {
  eventType: string;
  description?: string;
  guard?: unknown;
  actions: unknown[];
}

function nodes(machine: AnyStateMachine): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    out.push(n);
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(machine.root as unknown as Node);
  return out;
}

const transitions = (n: Node) => [...[...n.transitions.values()].flat(), ...(n.always ?? [])];

function guardNames(guard: unknown): string[] {
  if (!guard) return [];
  if (typeof guard === 'string') return [guard];
  const g = guard as { type?: string; guards?: unknown[] };
  if (g.guards) return g.guards.flatMap(guardNames); // and([...]) / or([...]) of named guards
  return [g.type ?? '(inline)'];
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  const a = action as { type?: string };
  return a.type ?? '(inline)';
}

const machines = { callMachine, recordMachine } as Record<string, AnyStateMachine>;

describe.each(Object.keys(machines))('%s renders meaningfully', (name) => {
  const machine = machines[name]!;
  const impl = (machine as unknown as { implementations: Record<string, Record<string, unknown>> })
    .implementations;

  it('every state has a description', () => {
    expect(
      nodes(machine)
        .filter((n) => !n.description?.trim())
        .map((n) => n.id),
    ).toEqual([]);
  });

  it('every transition has a description', () => {
    const missing = nodes(machine).flatMap((n) =>
      transitions(n)
        .filter((t) => !t.description?.trim())
        .map((t) => `${n.id} on ${t.eventType || '(always)'}`),
    );
    expect(missing).toEqual([]);
  });

  it('every action, guard, actor and delay is named in setup()', () => {
    const unnamed: string[] = [];
    for (const n of nodes(machine)) {
      for (const t of transitions(n)) {
        for (const a of t.actions.map(actionName))
          if (!(a in impl.actions!)) unnamed.push(`action ${a} (${n.id})`);
        for (const g of guardNames(t.guard)) if (!(g in impl.guards!)) unnamed.push(`guard ${g} (${n.id})`);
        const delay = /^xstate\.after\.([^.]+)\./.exec(t.eventType)?.[1];
        if (delay && !(delay in impl.delays!)) unnamed.push(`delay ${delay} (${n.id})`);
      }
      // Entry/exit: our named actions, plus XState's own raise/cancel that arm `after` timers.
      for (const a of [...n.entry, ...n.exit].map(actionName))
        if (!(a in impl.actions!) && a !== 'xstate.raise' && a !== 'xstate.cancel')
          unnamed.push(`entry/exit ${a} (${n.id})`);
      for (const inv of n.invoke)
        if (typeof inv.src !== 'string' || !(inv.src in impl.actors!))
          unnamed.push(`actor of ${inv.id} (${n.id})`);
    }
    expect(unnamed).toEqual([]);
  });
});

describe('tags', () => {
  const tagged = (m: AnyStateMachine, tag: string) =>
    nodes(m)
      .filter((n) => n.tags.includes(tag))
      .map((n) => n.id);

  it('call: `live` while the call exists on Graph (keepAlives owed)', () => {
    expect(tagged(callMachine, 'live')).toEqual([
      'call.established',
      'call.established.active',
      'call.established.keepAliveDue',
      'call.established.retryWait',
      'call.terminating',
    ]);
  });

  it('call: `setup` while Graph sets the call up (offer, answer, placing, ringing)', () => {
    expect(tagged(callMachine, 'setup')).toEqual([
      'call.offered',
      'call.answering',
      'call.establishing',
      'call.placing',
      'call.ringing',
      'call.rejecting',
      'call.redirecting',
    ]);
  });

  it('record: `operation` while a Graph record operation may run, `media` wherever a clip may be stored', () => {
    expect(tagged(recordMachine, 'operation')).toEqual(['record.requesting', 'record.recording']);
    const media = tagged(recordMachine, 'media');
    expect(media[0]).toBe('record.holdingClip');
    expect(media.every((id) => id.startsWith('record.holdingClip'))).toBe(true);
    expect(media).toHaveLength(
      nodes(recordMachine).filter((n) => n.id.startsWith('record.holdingClip')).length,
    );
  });
});
