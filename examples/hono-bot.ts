/**
 * Mounting the notification endpoint in Hono (fetch-style Request -> Response), with JWT validation on.
 *   npx tsx examples/hono-bot.ts
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { runScenario, startBotRuntime } from './scenario.js';

const { runtime, graph } = await startBotRuntime();
const app = new Hono();
app.post('/api/calling', (c) => runtime.fetchHandler(c.req.raw));

const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const callbackUri = `http://127.0.0.1:${port}/api/calling`;
console.log(`hono bot listening on ${callbackUri}`);

await runScenario(runtime, graph, callbackUri);
console.log(`notifications rejected: ${runtime.stats().rejectedNotifications}`);
await runtime.stop();
server.close();
await graph.close();
