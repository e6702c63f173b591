/**
 * Failures are visible by default: without a `log` option, warnings and
 * errors go to the console, one line each (call id, what failed, what happens
 * next); `log: false` silences the library. The machines' emitted events are
 * turned into those lines here, so keepAlive and download failures are never
 * silent. No line carries a token: entries hold none, and each line is
 * redacted again before it is printed.
 */
import { redact } from '../graph/errors.js';
import type { RecordOutput } from '../machines/index.js';
import type { LogEntry } from '../ports/log.js';

/** A report entry is the library's one `LogEntry` (src/ports/log.ts). */
export type ReportEntry = LogEntry;

export type ReportSink = (entry: ReportEntry) => void;

const PREFIX = 'graph-call-machines';

/** One console line for an entry: scalar fields only, secrets redacted, no newline. */
export function formatEntry(entry: ReportEntry): string {
  const { level, msg, callId, next, ...rest } = entry;
  const details = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object' && typeof v !== 'function')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const line = `${PREFIX} ${level}: ${callId ? `call ${callId}: ` : ''}${msg}${details ? ` [${details}]` : ''}${next ? `; ${next}` : ''}`;
  return redact(line).replace(/\s*[\r\n]+\s*/g, ' ');
}

/** Lines of one kind printed in full before the console sink starts thinning them out. */
const REPEAT_FULL = 10;
/** After that, one line in this many, with the count. */
const REPEAT_EVERY = 100;
const MAX_KINDS = 1_000;

/**
 * The default sink: warnings and errors to the console; info and debug dropped.
 * A flood of one kind of line (forged notifications, a Graph outage hitting one
 * call) is thinned out by count, so the console stays readable and cheap.
 */
export function createConsoleSink(): ReportSink {
  const seen = new Map<string, number>();
  return (entry) => {
    if (entry.level !== 'warn' && entry.level !== 'error') return;
    const kind = `${entry.level} ${entry.callId ?? ''} ${entry.msg} ${entry.next ?? ''}`;
    if (seen.size >= MAX_KINDS && !seen.has(kind)) seen.clear();
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    if (n > REPEAT_FULL && n % REPEAT_EVERY !== 0) return;
    const line =
      formatEntry(entry) + (n > REPEAT_FULL ? ` (${n} times so far; repeats are thinned out)` : '');
    if (entry.level === 'error') console.error(line);
    else console.warn(line);
  };
}

/**
 * The runtime's log: the user's function, the console when none is given, or
 * nothing for `false`. A throwing user log never breaks the runtime.
 */
export function resolveLog(option: ((entry: never) => void) | false | undefined): ReportSink {
  if (option === false) return () => {};
  if (option === undefined) return createConsoleSink();
  const user = option as ReportSink;
  return (entry) => {
    try {
      user(entry);
    } catch {
      // A logging bug must not stop a call.
    }
  };
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

const httpWhy = (e: { status?: number; code?: string }) =>
  e.status ? ` (${e.status}${e.code ? ` ${e.code}` : ''})` : ' (network error or timeout)';

const RECORD_LEVEL: Partial<Record<string, 'warn' | 'error'>> = {
  downloadFailed: 'error',
  processingFailed: 'error',
  processingTimeout: 'warn',
  requestFailed: 'error',
  invalidOptions: 'error',
  operationFailed: 'warn',
  completionTimeout: 'warn',
};

/** What the report reads from the emitting actor's context (the call's keepAlive streak). */
export interface EmitterContext {
  failures?: number;
  lastError?: { status?: number; code?: string } | null;
}

/** A log line for a machine event worth one, or undefined. */
export function entryForEvent(
  callId: string,
  event: { type: string; [k: string]: unknown },
  context?: EmitterContext,
): ReportEntry | undefined {
  const e = event as Record<string, any>;
  switch (event.type) {
    case 'keepAlive.refused': {
      // Loud: the app can no longer keep this call (lost permission, broken credentials, bad request).
      const { type: _, ...why } = e;
      return { level: 'error', msg: 'keepAlive refused: the call is no longer kept alive', callId, ...why };
    }
    case 'keepAlive.failed':
      return {
        level: 'warn',
        callId,
        msg: `keepAlive failed${httpWhy(e)}`,
        next:
          e.retryInMs === null
            ? 'no retry fits before the 45-minute deadline: the call will expire'
            : `retrying in ${seconds(e.retryInMs)}`,
      };
    case 'call.ended': {
      const next = 'its records are stopped and their clips deleted';
      const failures = context?.failures ?? 0;
      const failing =
        failures > 0 ? `: ${failures} failures in a row, the last${httpWhy(context?.lastError ?? {})}` : '';
      // Graph itself ends a call at 45:00 with 408/8537, read as `expired` too.
      if (e.reason === 'expired')
        return {
          level: 'error',
          callId,
          msg: `call expired: no successful keepAlive within 45 minutes${failing}`,
          next,
        };
      if (failures > 0)
        return {
          level: 'error',
          callId,
          msg: `call ended (${e.reason}) while keepAlive was failing${failing}`,
          next,
        };
      return undefined;
    }
    case 'call.hangUpFailed':
      return {
        level: 'warn',
        callId,
        msg: `hang-up failed${httpWhy(e)}`,
        next: 'the call is still up and kept alive',
      };
    case 'call.cancelMediaFailed':
      return {
        level: 'warn',
        callId,
        msg: `cancelMediaProcessing failed${httpWhy(e)}`,
        next: 'running records go on',
      };
    case 'call.recordRejected':
      return {
        level: 'warn',
        callId,
        msg: `record ${e.recordId} refused (${e.reason}${e.message ? `: ${e.message}` : ''})`,
        next: 'nothing was requested from Graph',
      };
    case 'call.recordDone':
      return recordEntry(callId, e.recordId, e.output as RecordOutput | undefined, e.error);
    case 'record.guardFailed':
      return {
        level: 'error',
        callId,
        msg: `record ${e.recordId}: clip guard failed: ${e.error?.message ?? 'unknown error'}`,
        next: 'a clip may survive an outside stop',
      };
    default:
      return undefined;
  }
}

function recordEntry(
  callId: string,
  recordId: string,
  output: RecordOutput | undefined,
  crash: { message?: string } | undefined,
): ReportEntry | undefined {
  if (crash)
    return {
      level: 'error',
      callId,
      msg: `record ${recordId} crashed: ${crash.message ?? 'unknown error'}`,
      next: 'its clip, if any, is deleted',
    };
  const level = output && RECORD_LEVEL[output.outcome];
  if (!output || !level) return undefined;
  const why = output.error?.message;
  return {
    // A cancellation the bot asked for is no failure worth a console line.
    level: output.completionReason === 'operationCanceled' ? 'info' : level,
    callId,
    msg: `record ${recordId} failed: ${output.outcome}${why ? `: ${why}` : ''}`,
    ...(output.completionReason ? { completionReason: output.completionReason } : {}),
    next:
      output.final === 'deleted'
        ? 'anything stored was deleted; the call goes on'
        : 'nothing was stored; the call goes on',
  };
}
