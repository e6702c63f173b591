/** The demo's live, readable timeline: clock, call, what happened. */
import type { HttpAttemptEvent, RuntimeEvent, StateChange } from '../src/adapters/index.js';
import type { Clock } from '../src/index.js';
import { normalizeId, parseResourceUrl } from '../src/notifications/index.js';
import type { DemoSummary } from './summary.js';

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const dim = (s: string) => paint(2, s);

export function createTimeline(o: {
  clock: Clock;
  t0: number;
  write: (line: string) => void;
  quiet: boolean;
}) {
  let names = new Map<string, string>();
  const label = (callId: string | undefined) => {
    if (!callId) return ''.padEnd(10);
    for (const [id, name] of names) if (normalizeId(id) === normalizeId(callId)) return name.padEnd(10);
    return callId.slice(0, 8).padEnd(10);
  };
  const elapsed = (at: number) => {
    const ms = Math.max(0, at - o.t0);
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const s = Math.floor((ms % 60_000) / 1000);
    const frac = ms % 1000;
    return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(frac).padStart(3, '0')}`;
  };
  const line = (callId: string | undefined, kind: string, text: string) => {
    if (o.quiet) return;
    o.write(`${dim(`[+${elapsed(o.clock.now())}]`)} ${label(callId)} ${kind.padEnd(8)} ${text}`);
  };
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v).replace(/[{}"]/g, ''));
  const last = new Map<string, string>();

  return {
    elapsed,
    names(n: Map<string, string>) {
      names = n;
    },
    note(text: string) {
      line(undefined, 'demo', text);
    },
    state(s: StateChange) {
      const key = `${s.callId}/${s.actor}`;
      const v = show(s.value);
      if (last.get(key) === v) return;
      last.set(key, v);
      line(s.callId, s.machine === 'call' ? 'call' : s.actor, paint(36, `-> ${v}`));
    },
    event(e: RuntimeEvent) {
      if (e.type === 'keepAlive.sent') return; // the request line already says it
      const { at: _at, callId, actor: _a, type, ...rest } = e;
      const extra = Object.keys(rest).length ? ` ${dim(show(rest))}` : '';
      line(callId, 'event', `${type}${extra}`);
    },
    request(e: HttpAttemptEvent) {
      const ref = parseResourceUrl(e.url);
      const status = e.status ?? e.error ?? '?';
      const ok = typeof e.status === 'number' && e.status < 300;
      const path = e.url
        .replace(/^https?:\/\/[^/]+/, '')
        .replace(/\/communications\/calls\/[^/]+/, '/calls/{id}');
      const retry = e.retryInMs !== undefined ? dim(` retry in ${Math.round(e.retryInMs / 1000)} s`) : '';
      line(ref?.callId, 'http', `${e.method} ${path} ${paint(ok ? 32 : 33, String(status))}${retry}`);
    },
    progress() {
      if (!o.quiet) o.write(dim(`  ... simulated ${elapsed(o.clock.now())}`));
    },
    summary(s: DemoSummary) {
      const out = (t: string) => o.write(t);
      out('');
      out(
        `Summary (${(s.simulatedMs / 3_600_000).toFixed(2)} h of ${'call time'} in ${s.wallMs} ms of wall time)`,
      );
      out('  call        ended by    after          keepAlives');
      for (const c of s.calls)
        out(
          `  ${c.name.padEnd(11)} ${c.reason.padEnd(11)} ${c.endedAfter.padEnd(14)} ${c.keepAlives}${c.why ? `  ${c.why}` : ''}`,
        );
      out(`  keepAlives sent: ${s.keepAlivesSent}`);
      out(`  recordings downloaded: ${s.recordingsDownloaded}, deleted: ${s.recordingsDeleted}`);
      if (s.message)
        out(
          `  message: ${s.message.durationSeconds.toFixed(2)} s, ${s.message.loudnessDbfs.toFixed(1)} dBFS, ${s.message.bytes} bytes`,
        );
      out(`  files left: ${s.filesLeft}`);
      out(s.ok ? '  result: ok' : '  result: NOT OK');
    },
  };
}
