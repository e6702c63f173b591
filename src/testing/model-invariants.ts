/**
 * The lifecycle rules, checked on each path of the pure machines:
 * - record: a path that entered `holdingClip` (bytes may be stored) and ended passed
 *   `deleting` and ends in `deleted`; it ends only in `deleted`/`failed`;
 * - call: nothing leaves `ended`; a path that reaches `ended` leaves no child running, carries
 *   a documented reason (and Graph's resultInfo when Graph gave one); tones come in order, once;
 * - prompt: a loop prompt never completes by itself; it ends only in completed/failed/canceled;
 * - every machine: a final state has no transitions, and a real actor takes the traversal's route.
 */
import type { AnyStateMachine } from 'xstate';
import { CALL_END_REASONS, callMachine, promptMachine, recordMachine } from '../machines/index.js';
import type { CallSnapshot as CallSnap } from './model-call.js';
import type { ModelEvent, ModelPath } from './model-core.js';
import { type ReplayResult, replay } from './model-coverage.js';
import type { RecordSnapshot as RecordSnap } from './model-record.js';

type PromptSnap = ReturnType<typeof promptMachine.getInitialSnapshot>;
interface NodeLike {
  id: string;
  type?: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, unknown[]>;
  always?: unknown[] | undefined;
}

export interface InvariantViolation {
  path: string;
  rule: string;
}

const FINAL_RECORD = new Set(['deleted', 'failed']);

export function checkInvariants(
  which: 'call' | 'record' | 'prompt',
  paths: ReadonlyArray<ModelPath<CallSnap> | ModelPath<RecordSnap> | ModelPath<PromptSnap>>,
): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  const machine = which === 'call' ? callMachine : which === 'record' ? recordMachine : promptMachine;
  // A final state has nothing to leave by (an actor ignores every event once it is done).
  for (const id of finalStatesWithTransitions(machine))
    out.push({ path: '(machine)', rule: `final state ${id} has transitions` });
  for (const p of paths) {
    const values = p.steps.map((s) => s.state as unknown as { value: unknown; status: string });
    // The traversal offers no event in a final state; a path that still moved on would break the rule.
    const firstFinal = values.findIndex((s) => s.status === 'done');
    if (
      firstFinal >= 0 &&
      values
        .slice(firstFinal)
        .some((s) => JSON.stringify(s.value) !== JSON.stringify(values[firstFinal]!.value))
    )
      out.push({ path: p.description, rule: 'left a final state' });
    const last = values[values.length - 1]!;
    if (which === 'record') {
      const held = values.some(
        (s) => typeof s.value === 'object' && s.value !== null && 'holdingClip' in s.value,
      );
      if (held && last.status === 'done' && last.value !== 'deleted')
        out.push({ path: p.description, rule: 'stored bytes but did not end in deleted' });
      const deleting = values.some((s) => JSON.stringify(s.value).includes('"deleting"'));
      if (held && last.status === 'done' && !deleting)
        out.push({ path: p.description, rule: 'stored bytes but never passed deleting' });
      if (last.status === 'done' && !FINAL_RECORD.has(String(last.value)))
        out.push({ path: p.description, rule: 'ended outside deleted/failed' });
    }
    const r = replay(machine, p);
    if (JSON.stringify(r.values) !== JSON.stringify(values.map((v) => v.value)))
      out.push({ path: p.description, rule: 'a real actor took another route than the traversal' });
    if (which === 'call') {
      if (r.final.status === 'done')
        for (const [id, status] of Object.entries(r.children))
          if (status === 'active')
            out.push({ path: p.description, rule: `child ${id} still running after ended` });
      out.push(...callEndRules(p.description, p.steps, r));
    }
    if (which === 'prompt') {
      const loop = (p.steps[0]!.state as unknown as { context: { loop: boolean } }).context.loop;
      if (loop && last.value === 'completed')
        out.push({ path: p.description, rule: 'a loop prompt completed by itself' });
      if (last.status === 'done' && !FINAL_PROMPT.has(String(last.value)))
        out.push({ path: p.description, rule: 'ended outside completed/failed/canceled' });
    }
  }
  return out;
}

const FINAL_PROMPT = new Set(['completed', 'failed', 'canceled']);

/**
 * A call that ended carries a documented reason, and Graph's resultInfo
 * whenever Graph's end notification came with one; tones come out in
 * sequenceId order, each once.
 */
function callEndRules(
  path: string,
  steps: ReadonlyArray<{ event: ModelEvent }>,
  r: ReplayResult,
): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  if (r.final.status === 'done') {
    const o = (r.output ?? {}) as { reason?: string; resultInfo?: unknown };
    if (!o.reason || !CALL_END_REASONS.has(o.reason))
      out.push({ path, rule: `ended without a reason (${o.reason})` });
    const graphInfo = steps.some((s) => {
      const e = s.event as {
        type: string;
        changeType?: string;
        resource?: { kind: string; resultInfo?: unknown };
      };
      return (
        e.type === 'NOTIFICATION' &&
        e.changeType === 'deleted' &&
        e.resource?.kind === 'call' &&
        !!e.resource.resultInfo
      );
    });
    if (graphInfo && !o.resultInfo) out.push({ path, rule: "ended without Graph's resultInfo" });
    const ended = r.emitted.filter((e) => e.type === 'call.ended');
    if (ended.length !== 1) out.push({ path, rule: `call.ended emitted ${ended.length} times` });
  }
  const tones = r.emitted.filter((e) => e.type === 'call.tone').map((e) => Number(e.sequenceId));
  if (tones.some((n, i) => i > 0 && n <= tones[i - 1]!))
    out.push({ path, rule: `tones out of order or repeated: ${tones.join(',')}` });
  return out;
}

function finalStatesWithTransitions(machine: AnyStateMachine): string[] {
  const out: string[] = [];
  const walk = (node: NodeLike & { type?: string }) => {
    if (node.type === 'final' && (node.transitions.size > 0 || (node.always ?? []).length > 0))
      out.push(node.id);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as NodeLike);
  return out;
}
