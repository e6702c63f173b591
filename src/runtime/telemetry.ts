/**
 * Optional OpenTelemetry: a span per Graph request (keepAlive, record,
 * download, hangUp, ...) and per clip write and delete, and a few counters,
 * through `@opentelemetry/api` when it is installed (an optional peer
 * dependency). Without it, or without an SDK registered, everything here is a
 * pass-through. Spans carry the runtime's clock times, so simulated runs show
 * simulated durations. No attribute ever holds a token or a URL query.
 */
import type { Clock } from '../ports/clock.js';
import type { HttpAdapter } from '../ports/http.js';
import type { RecordingStore } from '../ports/stores.js';

// The few shapes used from @opentelemetry/api, so the published types do not need the package.
type Attributes = Record<string, string | number | boolean>;
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(endTime?: number): void;
}
interface OtelApi {
  trace: {
    getTracer(name: string): {
      startSpan(
        name: string,
        options?: { kind?: number; attributes?: Attributes; startTime?: number },
      ): OtelSpan;
    };
  };
  metrics: {
    getMeter(name: string): {
      createCounter(
        name: string,
        options?: { description?: string },
      ): { add(n: number, attrs?: Attributes): void };
    };
  };
}

const NAME = 'graph-call-machines';
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

let api: OtelApi | undefined;
let loading: Promise<boolean> | undefined;

/** Load `@opentelemetry/api` if it is installed; resolves true when it is. Safe to call often. */
export function loadTelemetry(): Promise<boolean> {
  const specifier = '@opentelemetry/api';
  loading ??= (import(specifier) as Promise<OtelApi>).then(
    (m) => {
      api = m;
      return true;
    },
    () => false,
  );
  return loading;
}

function errorText(err: unknown): { status?: number; kind?: string; message: string } {
  const e = err as { status?: number; kind?: string; message?: string };
  return { status: e?.status, kind: e?.kind, message: String(e?.message ?? err).slice(0, 200) };
}

async function inSpan<T>(
  clock: Clock,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  onResult?: (span: OtelSpan, result: T) => void,
): Promise<T> {
  const tracer = api?.trace.getTracer(NAME);
  if (!tracer) return work();
  const span = tracer.startSpan(name, { kind: SPAN_KIND_CLIENT, attributes, startTime: clock.now() });
  try {
    const result = await work();
    onResult?.(span, result);
    return result;
  } catch (err) {
    const e = errorText(err);
    if (e.status) span.setAttribute('http.response.status_code', e.status);
    if (e.kind) span.setAttribute('error.type', e.kind);
    span.setStatus({ code: STATUS_ERROR, message: e.message });
    throw err;
  } finally {
    span.end(clock.now());
  }
}

/** The HTTP adapter with a span per logical request (retries inside it). */
export function tracedHttp(http: HttpAdapter, clock: Clock): HttpAdapter {
  return {
    request: (req) =>
      inSpan(
        clock,
        `${NAME} ${req.operation}`,
        { 'gcm.operation': req.operation, 'http.request.method': req.method },
        () => http.request(req),
        (span, res) => {
          span.setAttribute('http.response.status_code', res.status);
          span.setAttribute('gcm.attempts', res.attempts);
          span.setAttribute('gcm.client_request_id', res.clientRequestId);
        },
      ),
    close: () => http.close(),
  };
}

/** The store as the record actors see it: clip writes (the download body) and deletes in spans. */
export function tracedStore(store: RecordingStore, clock: Clock): RecordingStore {
  return {
    write: (key, body, signal) =>
      inSpan(
        clock,
        `${NAME} clip.write`,
        { 'gcm.store_key': key },
        () => store.write(key, body, signal),
        (span, clip) => span.setAttribute('gcm.bytes', clip.bytes),
      ),
    open: (key) => store.open(key),
    delete: (key) => inSpan(clock, `${NAME} clip.delete`, { 'gcm.store_key': key }, () => store.delete(key)),
    list: () => store.list(),
    close: () => store.close(),
  };
}

type Counter = { add(n: number, attrs?: Attributes): void };
// Per meter: a provider registered after the first count gets its own instruments.
const instruments = new WeakMap<object, Map<string, Counter>>();

function counter(name: string, description: string): Counter | undefined {
  const meter = api?.metrics.getMeter(NAME);
  if (!meter) return undefined;
  const byName = instruments.get(meter) ?? new Map<string, Counter>();
  instruments.set(meter, byName);
  const c = byName.get(name) ?? meter.createCounter(name, { description });
  byName.set(name, c);
  return c;
}

/** Count the machine events worth a metric. */
export function countEvent(event: { type: string; [k: string]: unknown }): void {
  if (!api) return;
  const e = event as Record<string, any>;
  switch (event.type) {
    case 'keepAlive.sent':
      counter('gcm.keepalive.sent', 'keepAlive requests that succeeded')?.add(1);
      break;
    case 'keepAlive.failed':
      counter('gcm.keepalive.failed', 'keepAlive requests that failed')?.add(1, {
        status: e.status ?? 0,
      });
      break;
    case 'call.ended':
      counter('gcm.calls.ended', 'calls ended, by reason')?.add(1, { reason: String(e.reason) });
      break;
    case 'call.recordDone':
      counter('gcm.records.ended', 'records ended, by outcome')?.add(1, {
        outcome: String(e.output?.outcome ?? 'crashed'),
      });
      break;
  }
}
