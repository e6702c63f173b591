/**
 * Attribution of a process's CPU to a part of its code from a CPU profile
 * taken in the process itself (node:inspector): every sample whose stack
 * passes through a frame of a file matching `part` counts for that part,
 * with everything that frame called (node internals, socket writes). GC
 * cannot be attributed to a caller: it is reported on its own.
 */
import { Session } from 'node:inspector/promises';
import { setTimeout as delay } from 'node:timers/promises';

interface ProfileNode {
  id: number;
  parent?: number;
  children?: number[];
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuShare {
  /** Busy time in the window (samples that were not idle), ms. */
  busyMs: number;
  /** Time with a frame of `part` on the stack, ms. */
  partMs: number;
  gcMs: number;
  /** Time of `part` by the function where the stack enters it, and by the sample's own frame, ms (top 8). */
  entries: Record<string, number>;
  leaves: Record<string, number>;
}

/** Profile this process for `ms` (sampling every `intervalUs`) and attribute its busy time. */
export async function profileShare(part: RegExp, ms: number, intervalUs = 100): Promise<CpuShare> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    await delay(ms);
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    return attribute(profile, part);
  } finally {
    session.disconnect();
  }
}

export function attribute(profile: Profile, part: RegExp): CpuShare {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) (byId.get(c) as ProfileNode).parent = n.id;
  /** Whether a node or one of its callers is in `part`, memoised per node. */
  const inPart = new Map<number, boolean>();
  const check = (id: number): boolean => {
    const known = inPart.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id) as ProfileNode;
    const v = part.test(n.callFrame.url) || (n.parent !== undefined && check(n.parent));
    inPart.set(id, v);
    return v;
  };
  /** The outermost frame of `part` on a node's stack. */
  const entry = (id: number): ProfileNode => {
    let n = byId.get(id) as ProfileNode;
    let found = n;
    while (n.parent !== undefined) {
      if (part.test(n.callFrame.url)) found = n;
      n = byId.get(n.parent) as ProfileNode;
    }
    return found;
  };
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*\/(?:dist|node_modules)\//, '')}`;
  const entries = new Map<string, number>();
  const leaves = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let busy = 0;
  let inside = 0;
  let gc = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the gap *before* sample i; a sample stands for the time until the next one
    // (as DevTools reads it). Idle is sampled sparsely, so the other way would give the first busy
    // sample after a wake-up the whole idle gap.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const name = (byId.get(id) as ProfileNode).callFrame.functionName;
    if (name === '(idle)') return;
    busy += dt;
    if (name === '(garbage collector)') gc += dt;
    else if (check(id)) {
      inside += dt;
      add(entries, label(entry(id)), dt);
      add(leaves, label(byId.get(id) as ProfileNode), dt);
    }
  });
  const top = (m: Map<string, number>) =>
    Object.fromEntries(
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, v]) => [k, Math.round(v) / 1000]),
    );
  return {
    busyMs: busy / 1000,
    partMs: inside / 1000,
    gcMs: gc / 1000,
    entries: top(entries),
    leaves: top(leaves),
  };
}
