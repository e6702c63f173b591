/**
 * CPU time of a process tree from /proc (Linux), for benches that charge a
 * browser or a reader process: `/proc/<pid>/stat` utime + stime of the root
 * and every live descendant.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms (user + system) of `root` (unless `withRoot` is false) and all its descendants; `skip` names a command left out. */
export function treeCpuMs(root: number, opts: { withRoot?: boolean; skip?: string } = {}): number {
  const procs = new Map<number, { ppid: number; ticks: number; comm: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command sits in parentheses and may hold spaces: fields follow the last ')'.
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), comm });
    } catch {
      // gone between the listing and the read
    }
  }
  const counted = (pid: number) => procs.get(pid)?.comm !== opts.skip;
  const below = new Set([root]);
  let ticks = opts.withRoot !== false && counted(root) ? (procs.get(root)?.ticks ?? 0) : 0;
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs)
      if (!below.has(pid) && below.has(p.ppid)) {
        below.add(pid);
        if (counted(pid)) ticks += p.ticks;
        grew = true;
      }
  }
  return ticks * TICK_MS;
}
