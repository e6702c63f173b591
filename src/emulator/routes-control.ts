/**
 * The control API under /_emulator/ (JSON, no auth), for tests and tools in
 * other languages. Every route maps onto EmulatorControl; bad input is a 400
 * naming the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ControlError, parseInput } from './control.js';
import { ROUTES } from './faults.js';
import { write } from './server.js';
import type { EmulatorControl, RequestFilter } from './types.js';

const HangUpSchema = z
  .object({
    resultInfo: z
      .object({
        code: z.int().optional(),
        subcode: z.int().optional(),
        message: z.string().max(500).optional(),
      })
      .strict()
      .optional(),
    silent: z.boolean().optional(),
  })
  .strict();

const KeysSchema = z
  .object({ keys: z.union([z.string().min(1).max(100), z.array(z.string().max(16)).min(1).max(100)]) })
  .strict();

const MAX_ADVANCE_MS = 366 * 24 * 3600_000;
/** `{ ms }` moves the clock by ms; `{ to }` to an absolute epoch-ms time (a bot driving both clocks). */
const AdvanceSchema = z.union([
  z.object({ ms: z.number().min(0).max(MAX_ADVANCE_MS) }).strict(),
  z.object({ to: z.number().int() }).strict(),
]);

const RequestFilterSchema = z
  .object({
    route: z.enum([...ROUTES, 'openIdConfiguration', 'jwks', 'unknown']).optional(),
    callId: z.string().max(64).optional(),
    method: z.string().max(16).optional(),
    status: z.coerce.number().int().optional(),
  })
  .strict();

type Body = () => Promise<unknown>;

function clockJson(control: EmulatorControl) {
  const now = control.now();
  return { now, iso: new Date(now).toISOString(), nextDue: control.nextDue() ?? null };
}

export function createControlRoutes(control: EmulatorControl) {
  return async (req: IncomingMessage, res: ServerResponse, path: string, readBody: Body): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const query = new URL(req.url ?? '/', 'http://emulator').searchParams;
    const segs = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
    try {
      const reply = await route(control, method, segs, query, readBody);
      write(res, reply.json === undefined ? { status: reply.status } : reply);
    } catch (err) {
      const status = err instanceof ControlError ? err.status : 500;
      const message = err instanceof Error ? err.message : 'control request failed';
      write(res, {
        status,
        json: { error: { code: status === 500 ? 'emulatorError' : 'invalidControlInput', message } },
      });
    }
  };
}

async function json(readBody: Body): Promise<unknown> {
  try {
    return await readBody();
  } catch (err) {
    throw new ControlError(400, err instanceof Error ? err.message : 'invalid body');
  }
}

async function route(
  control: EmulatorControl,
  method: string,
  segs: string[],
  query: URLSearchParams,
  readBody: Body,
): Promise<{ status: number; json?: unknown }> {
  const [a, b, c] = segs;
  const is = (m: string, n: number) => method === m && segs.length === n;
  if (a === 'calls') {
    if (is('POST', 1)) return { status: 201, json: control.createCall((await json(readBody)) as never) };
    if (is('GET', 1)) return { status: 200, json: control.calls() };
    if (is('GET', 2)) {
      const call = control.call(b!);
      if (!call) throw new ControlError(404, `unknown call ${b!.slice(0, 64)}`);
      return { status: 200, json: call };
    }
    if (is('PUT', 3) && c === 'script') {
      control.setCallerScript(b!, (await json(readBody)) as never);
      return { status: 200, json: { ok: true } };
    }
    if (is('PUT', 3) && c === 'variants') {
      control.setVariants((await json(readBody)) as never, b!);
      return { status: 200, json: { ok: true } };
    }
    if (is('POST', 3) && c === 'hangup') {
      const opts = parseInput(HangUpSchema, (await json(readBody)) ?? {}, 'hangup');
      return { status: 200, json: { ended: control.hangUpByCaller(b!, opts) } };
    }
  }
  if (a === 'ring' && is('POST', 1))
    return { status: 201, json: control.ring((await json(readBody)) as never) };
  if (a === 'calls' && is('POST', 3) && c === 'keys') {
    const { keys } = parseInput(KeysSchema, await json(readBody), 'keys');
    return { status: 200, json: { reported: control.pressKeys(b!, keys) } };
  }
  if (a === 'script' && is('PUT', 1)) {
    control.setDefaultScript(((await json(readBody)) ?? undefined) as never);
    return { status: 200, json: { ok: true } };
  }
  if (a === 'variants' && is('PUT', 1)) {
    control.setVariants((await json(readBody)) as never);
    return { status: 200, json: { ok: true } };
  }
  if (a === 'faults') {
    if (is('POST', 1))
      return { status: 201, json: { id: control.injectFault((await json(readBody)) as never) } };
    if (is('GET', 1)) return { status: 200, json: control.faults() };
    if (is('DELETE', 1)) {
      control.clearFaults();
      return { status: 204 };
    }
    if (is('DELETE', 2)) {
      if (!control.removeFault(b!)) throw new ControlError(404, `unknown fault ${b!.slice(0, 64)}`);
      return { status: 204 };
    }
  }
  if (a === 'clock') {
    if (is('GET', 1)) return { status: 200, json: clockJson(control) };
    if (is('POST', 2) && b === 'advance') {
      const input = parseInput(AdvanceSchema, await json(readBody), 'advance');
      const ms = 'ms' in input ? input.ms : input.to - control.now();
      if (ms < 0 || ms > MAX_ADVANCE_MS)
        throw new ControlError(
          400,
          `invalid advance: to must be between now (${control.now()}) and a year on`,
        );
      await control.advance(ms);
      return { status: 200, json: clockJson(control) };
    }
  }
  if (a === 'requests' && is('GET', 1)) {
    const filter = parseInput(
      RequestFilterSchema,
      Object.fromEntries(query),
      'request filter',
    ) as RequestFilter;
    return { status: 200, json: control.requests(filter) };
  }
  if (a === 'notifications' && is('GET', 1)) {
    const callId = query.get('callId') ?? undefined;
    return { status: 200, json: control.notifications(callId ? { callId } : {}) };
  }
  if (a === 'reset' && is('POST', 1)) {
    control.reset();
    return { status: 204 };
  }
  throw new ControlError(404, `no control route ${method} /_emulator/${segs.join('/')}`);
}
