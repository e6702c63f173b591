/** Test helpers for the live view over plain HTTP: an SSE reader and a fake runtime. */
import { type IncomingMessage, request } from 'node:http';
import { Subject } from 'rxjs';
import type { RuntimeEvent, StateChange } from '../../src/runtime.js';

export interface Stream {
  /** Raw text received so far. */
  text(): string;
  frames(): Array<Record<string, unknown> & { type: string }>;
  /** Resolves once a frame matches. */
  until(match: (f: Record<string, unknown> & { type: string }) => boolean, ms?: number): Promise<void>;
  res: IncomingMessage;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/events', url), { headers }, (res) => {
      let raw = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        for (const w of waiters.splice(0)) w();
      });
      const frames = () =>
        raw
          .split('\n\n')
          .filter((b) => b.startsWith('data: '))
          .map((b) => JSON.parse(b.slice(6)));
      resolve({
        res,
        text: () => raw,
        frames,
        until(match, ms = 5_000) {
          return new Promise<void>((ok, fail) => {
            const give = setTimeout(() => fail(new Error('no matching frame')), ms);
            const check = () => {
              if (frames().some(match)) {
                clearTimeout(give);
                ok();
              } else waiters.push(check);
            };
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: string }>(
    (resolve, reject) => {
      const req = request(new URL(path, url), { method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** A runtime as the view sees it, driven by hand. */
export function fakeRuntime(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  const states$ = new Subject<StateChange>();
  const events$ = new Subject<RuntimeEvent>();
  const contexts = new Map<string, Record<string, unknown>>();
  return {
    clock: { now: () => t },
    states$,
    events$,
    get: (id: string) => {
      const context = contexts.get(id);
      return context ? { getSnapshot: () => ({ context }) } : undefined;
    },
    contexts,
    set now(v: number) {
      t = v;
    },
    get now() {
      return t;
    },
    state(callId: string, value: unknown, machine: 'call' | 'record' = 'call', actor = 'call') {
      states$.next({ at: t, callId, actor, machine, value, status: 'active' });
    },
  };
}
