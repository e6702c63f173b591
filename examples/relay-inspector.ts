/**
 * A Stately inspector that streams to a WebSocket relay (`@statelyai/inspect/server`) and can be
 * stopped for good. `createWebSocketInspector` from @statelyai/inspect 0.7 retries a failed socket
 * on a 5-s timer that `stop()` cannot cancel, so a process whose relay is not running never exits.
 * This one owns its retry timer, clears it on `stop()`, and reports whether the relay answered.
 */
import { createInspector } from '@statelyai/inspect';
import { WebSocket } from 'undici';

export type RelayStatus = 'connecting' | 'open' | 'unreachable' | 'stopped';

export interface RelayInspector {
  /** Pass as the runtime's `inspect` option. */
  inspect: ReturnType<typeof createInspector>['inspect'];
  status(): RelayStatus;
  /** Resolves true once the relay accepted the socket, false after `ms` without it. */
  connected(ms: number): Promise<boolean>;
  /** Closes the socket and cancels any retry: nothing of it is left to keep the process alive. */
  stop(): void;
}

/** Events kept while the socket is not open, as the original adapter does (oldest dropped). */
const MAX_BACKLOG = 200;
const RETRY_MS = 5_000;

/** JSON for an inspection event: actor references become their ids, cycles are cut. */
function toJson(event: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(event, (_key, value: unknown) => {
    if (typeof value === 'function') return undefined;
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    if (typeof o.sessionId === 'string' && typeof o.send === 'function')
      return { id: o.id, sessionId: o.sessionId };
    if (seen.has(o)) return '[Circular]';
    seen.add(o);
    return value;
  });
}

export function createRelayInspector(url: string): RelayInspector {
  let socket: WebSocket | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let status: RelayStatus = 'connecting';
  const backlog: string[] = [];
  const waiters = new Set<(open: boolean) => void>();
  const settle = (open: boolean) => {
    for (const w of waiters) w(open);
    waiters.clear();
  };

  const connect = () => {
    retry = undefined;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      status = 'open';
      for (const line of backlog.splice(0)) ws.send(line);
      settle(true);
    };
    ws.onerror = () => {}; // a close always follows; handled there
    ws.onclose = () => {
      if (socket !== ws || status === 'stopped') return;
      status = 'unreachable';
      settle(false);
      retry = setTimeout(connect, RETRY_MS);
      retry.unref(); // a relay that never comes must not hold the process either
    };
  };

  const inspector = createInspector(
    {
      send(event) {
        const line = toJson(event);
        if (status === 'open' && socket?.readyState === WebSocket.OPEN) socket.send(line);
        else if (status !== 'stopped' && backlog.push(line) > MAX_BACKLOG) backlog.shift();
      },
    },
    { autoStart: false },
  );
  connect();

  return {
    inspect: inspector.inspect,
    status: () => status,
    connected(ms) {
      if (status === 'open' || status === 'unreachable' || status === 'stopped')
        return Promise.resolve(status === 'open');
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, ms);
        const done = (open: boolean) => {
          clearTimeout(timer);
          resolve(open);
        };
        waiters.add(done);
      });
    },
    stop() {
      status = 'stopped';
      if (retry) clearTimeout(retry);
      retry = undefined;
      socket?.close();
      backlog.length = 0;
      settle(false);
    },
  };
}
