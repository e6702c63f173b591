/**
 * The clock proof: a keepAlive loop on simulated time through the real
 * undici adapter and a real loopback HTTP server. One advance of 24 hours
 * runs all 96 cycles, each request arriving at exactly its simulated time.
 */
import { afterEach, expect, it } from 'vitest';
import { SimulatedClock } from '../src/adapters/clock.js';
import { staticToken } from '../src/adapters/token.js';
import { createUndiciHttp } from '../src/adapters/undici-http.js';
import { createGraphClient } from '../src/graph/client.js';
import { type Loopback, reply, startLoopback } from './http/loopback.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
});

it('runs 96 keepAlive cycles over 24 simulated hours in one advance, each on time', async () => {
  const clock = new SimulatedClock();
  const start = clock.now();
  server = await startLoopback(reply(200), clock);
  const http = createUndiciHttp({ token: staticToken('t'), clock });
  const graph = createGraphClient({ http, graphUrl: `${server.url}/v1.0` });

  const completed: number[] = [];
  const failures: unknown[] = [];
  const arm = () =>
    clock.setTimeout(() => {
      graph.keepAlive('call-1').then(
        () => {
          completed.push(clock.now());
          arm();
        },
        (err) => failures.push(err),
      );
    }, 15 * MIN);
  arm();

  const wall = performance.now();
  await clock.advance(24 * HOUR);
  const wallMs = performance.now() - wall;

  expect(failures).toEqual([]);
  const expected = Array.from({ length: 96 }, (_, i) => start + (i + 1) * 15 * MIN);
  expect(server.seen.map((s) => s.at)).toEqual(expected);
  expect(completed).toEqual(expected);
  expect(
    server.seen.every((s) => s.method === 'POST' && s.url === '/v1.0/communications/calls/call-1/keepAlive'),
  ).toBe(true);
  expect(clock.now()).toBe(start + 24 * HOUR);
  // The next cycle is armed; nothing else (no leaked per-attempt timeout) is pending.
  expect(clock.pendingTimers).toBe(1);
  expect(wallMs).toBeLessThan(10_000);
  await http.close();
});
