/**
 * Mounting the notification endpoint in Express 5, with JWT validation on.
 *   npx tsx examples/express-bot.ts               handler before any body parser
 *   npx tsx examples/express-bot.ts --json-first  express.json() for the whole app, handler behind it
 * Both record a message: the handler reads the raw body, or `req.body` when a parser got there first.
 */
import type { AddressInfo } from 'node:net';
import { CALLBACK_PATH, createExpressBot } from './express-app.js';
import { runScenario, startBotRuntime } from './scenario.js';

const { runtime, graph } = await startBotRuntime();
const app = createExpressBot(runtime, { jsonFirst: process.argv.includes('--json-first') });

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const callbackUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`;
console.log(`express bot listening on ${callbackUri}`);

await runScenario(runtime, graph, callbackUri);
console.log(`notifications rejected: ${runtime.stats().rejectedNotifications}`);
await runtime.stop();
server.close();
server.closeAllConnections();
await graph.close();
