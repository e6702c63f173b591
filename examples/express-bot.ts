/**
 * Mounting the notification endpoint in Express 5, with JWT validation on.
 *   npx tsx examples/express-bot.ts
 * The runtime reads the raw body itself (size limit, then the token, then
 * JSON), so mount it before any body parser, or on its own path as here.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { runScenario, startBotRuntime } from './scenario.js';

const { runtime, graph } = await startBotRuntime();
const app = express();
app.post('/api/calling', runtime.nodeHandler);
app.use(express.json()); // the rest of your bot's routes may parse JSON as usual

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const callbackUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/calling`;
console.log(`express bot listening on ${callbackUri}`);

await runScenario(runtime, graph, callbackUri);
console.log(`notifications rejected: ${runtime.stats().rejectedNotifications}`);
await runtime.stop();
server.close();
server.closeAllConnections();
await graph.close();
