/**
 * The notification endpoint on plain node:http, with JWT validation on; no framework.
 *   npx tsx examples/node-http-bot.ts
 *   EMULATOR_URL=http://127.0.0.1:4010 npx tsx examples/node-http-bot.ts   # an emulator CLI elsewhere
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runScenario, startBotRuntime } from './scenario.js';

const { runtime, graph } = await startBotRuntime();
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/calling') return runtime.nodeHandler(req, res);
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const callbackUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/calling`;
console.log(`node:http bot listening on ${callbackUri}`);

await runScenario(runtime, graph, callbackUri);
console.log(`notifications rejected: ${runtime.stats().rejectedNotifications}`);
await runtime.stop();
server.close();
server.closeAllConnections();
await graph.close();
