/**
 * The in-process control surface: create calls, script callers, inject faults,
 * move a simulated clock, read what happened. The HTTP control API
 * (routes-control.ts) is a thin JSON layer over the same object.
 */
import type { z } from 'zod';
import { type CallerScript, CallerScriptSchema } from './caller-script.js';
import type { Env } from './context.js';
import { type FaultSpec, FaultSpecSchema } from './faults.js';
import type { RequestLog } from './request-log.js';
import { RESULT } from './result-info.js';
import type {
  CreateCallOptions,
  EmulatedCallInfo,
  EmulatorControl,
  HangUpByCallerOptions,
  RingOptions,
} from './types.js';
import { type Variants, VariantsSchema } from './variants.js';

/** A control request that cannot be served: 400 invalid input, 404 unknown call, 409 wrong clock. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  errors?: Issue[][];
}

/** The most specific issue: inside a union, the branch that got furthest into the input. */
function deepest(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return issue;
  let best: Issue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0] && deepest(branch[0]);
    if (first && (!best || first.path.length > best.path.length)) best = first;
  }
  return best && best.path.length > 0 ? { ...best, path: [...issue.path, ...best.path] } : issue;
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0] as Issue | undefined;
  const issue = first && deepest(first);
  const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  throw new ControlError(400, `invalid ${what}: ${where}${issue?.message ?? 'invalid'}`);
}

const PartialVariantsSchema = VariantsSchema.partial();

export function createControl(
  env: Env,
  log: RequestLog,
  initial: { script?: CallerScript; variants: Partial<Variants> },
): EmulatorControl {
  const knownCall = (callId: string) => {
    const call = env.calls.find(String(callId));
    if (!call) throw new ControlError(404, `unknown call ${String(callId).slice(0, 64)}`);
    return call;
  };

  const info = (call: { id: string; callbackUri: string; startedAt: number }): EmulatedCallInfo => ({
    id: call.id,
    callbackUri: call.callbackUri,
    url: `${env.origin}/v1.0/communications/calls/${call.id}`,
    startedAt: call.startedAt,
  });
  /** callbackUri, script and variants of createCall and ring, checked. */
  const callInput = (opts: { callbackUri?: unknown; script?: unknown; variants?: unknown } | undefined) => {
    if (
      !opts ||
      typeof opts.callbackUri !== 'string' ||
      !/^https?:\/\//i.test(opts.callbackUri) ||
      !URL.canParse(opts.callbackUri)
    )
      throw new ControlError(400, 'invalid call: callbackUri must be an http(s) URL');
    return {
      callbackUri: opts.callbackUri,
      script: opts.script === undefined ? undefined : parseInput(CallerScriptSchema, opts.script, 'script'),
      variants:
        opts.variants === undefined
          ? undefined
          : parseInput(PartialVariantsSchema, opts.variants, 'variants'),
    };
  };

  const control: EmulatorControl = {
    ring(opts: RingOptions): EmulatedCallInfo {
      const checked = callInput(opts);
      const from = opts.from;
      if (
        from !== undefined &&
        !(typeof from === 'string' && from.length > 0 && from.length <= 256) &&
        !(typeof from === 'object' && from !== null && !Array.isArray(from))
      )
        throw new ControlError(400, 'invalid ring: from must be a phone number, a user id or an identitySet');
      return info(env.setup.ring({ ...checked, from }));
    },
    pressKeys(callId, keys) {
      const call = knownCall(callId);
      const list = typeof keys === 'string' ? [...keys] : keys;
      if (!Array.isArray(list) || list.some((k) => typeof k !== 'string'))
        throw new ControlError(400, 'invalid keys: a string such as "12#" or an array of tone names');
      return env.setup.press(call, list);
    },
    createCall(opts: CreateCallOptions): EmulatedCallInfo {
      const { script, variants } = callInput(opts);
      let call: ReturnType<typeof env.calls.create>;
      try {
        call = env.calls.create(
          { ...opts, script, variants },
          { direction: 'incoming', state: 'established' },
        );
      } catch (err) {
        throw new ControlError(400, `invalid call: ${err instanceof Error ? err.message : 'rejected'}`);
      }
      env.setup.startedEstablished(call);
      return info(call);
    },
    setCallerScript(callId, script) {
      knownCall(callId).script = parseInput(CallerScriptSchema, script, 'script');
    },
    setDefaultScript(script) {
      env.defaults.script =
        script === undefined ? undefined : parseInput(CallerScriptSchema, script, 'script');
    },
    setVariants(variants, callId) {
      const v = parseInput(PartialVariantsSchema, variants, 'variants');
      if (callId === undefined) env.defaults.variants = { ...env.defaults.variants, ...v };
      else {
        const call = knownCall(callId);
        call.variants = { ...call.variants, ...v };
      }
    },
    injectFault(fault: FaultSpec) {
      return env.faults.add(parseInput(FaultSpecSchema, fault, 'fault') as FaultSpec);
    },
    removeFault: (id) => env.faults.remove(id),
    clearFaults: () => env.faults.clear(),
    faults: () => env.faults.list(),
    advance(ms) {
      const clock = env.clock as { advance?: (ms: number) => Promise<void> };
      if (typeof clock.advance !== 'function')
        throw new ControlError(409, 'advance needs the emulator to run on a SimulatedClock');
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
        throw new ControlError(400, 'invalid advance: ms must be a finite number >= 0');
      return clock.advance.call(env.clock, ms);
    },
    now: () => env.clock.now(),
    // Lets a bot in another process drive both clocks in step (the README's "emulator CLI" recipe).
    nextDue: () => (env.clock as { nextDue?: () => number | undefined }).nextDue?.call(env.clock),
    calls: () => env.calls.all().map((c) => env.calls.summary(c)),
    call(callId) {
      const call = env.calls.find(String(callId));
      return call ? env.calls.summary(call) : undefined;
    },
    requests: (filter) => log.list(filter),
    notifications: (filter) => env.notifier.records(filter),
    hangUpByCaller(callId, opts: HangUpByCallerOptions = {}) {
      const call = knownCall(callId);
      if (!env.calls.live(call.id)) return false;
      const resultInfo = { ...RESULT.conversationEnded, ...opts.resultInfo };
      void env.calls.end(call, resultInfo, { by: 'caller', notify: !opts.silent });
      return true;
    },
    idle: () => env.notifier.idle(),
    reset() {
      env.timers.clearAll();
      env.calls.clear();
      env.media.clear();
      env.setup.clear();
      env.faults.clear();
      env.notifier.reset();
      log.clear();
      env.defaults.script = initial.script;
      env.defaults.variants = { ...initial.variants };
    },
  };
  return control;
}
