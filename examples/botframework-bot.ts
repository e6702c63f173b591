/**
 * A Teams calling bot as Teams bots are built: one server, Bot Framework's CloudAdapter for chat
 * (/api/messages) and this library for calls (/api/calls).
 *
 *   npx tsx examples/botframework-bot.ts     # against the emulator (EMULATOR_URL: one in another process)
 *
 * In production set MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId, and in the Azure
 * Bot resource: messaging endpoint https://<host>/api/messages; Channels > Microsoft Teams > Calling
 * tab > Enable calling, "Webhook (for calling)" https://<host>/api/calls. The same app id is Bot
 * Framework's audience and the audience of Graph's call notification tokens, so one id configures
 * both. Here the bot records one message on one emulated call, then stops.
 */
import type { AddressInfo } from 'node:net';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import express from 'express';
import { DEFAULT_AUDIENCE } from 'graph-call-machines/emulator';
import { runScenario, startBotRuntime } from './scenario.js';

const appId = process.env.MicrosoftAppId ?? DEFAULT_AUDIENCE;

// Chat: a Bot Framework bot like any other. A request without Bot Framework's JWT gets 401.
const adapter = new CloudAdapter(
  new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId,
    MicrosoftAppPassword: process.env.MicrosoftAppPassword ?? 'example-secret',
    MicrosoftAppTenantId: process.env.MicrosoftAppTenantId,
    MicrosoftAppType: process.env.MicrosoftAppTenantId ? 'SingleTenant' : 'MultiTenant',
  }),
);
adapter.onTurnError = async (context, error) => {
  console.error(`chat turn failed: ${error.message}`);
  await context.sendActivity('Sorry, something went wrong.');
};
class ChatBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity('Call me: I take voice messages.');
      await next();
    });
  }
}
const chat = new ChatBot();

// Calls: Graph posts call notifications to the calling webhook; the runtime verifies and routes them.
const { runtime, graph } = await startBotRuntime({ appId });

const app = express();
// The runtime reads the raw body itself (size limit, token, then JSON): no JSON parser on this route.
app.post('/api/calls', runtime.nodeHandler);
app.post('/api/messages', express.json(), (req, res) => adapter.process(req, res, (ctx) => chat.run(ctx)));

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`bot listening on ${origin}: chat ${origin}/api/messages, calls ${origin}/api/calls`);

await runScenario(runtime, graph, `${origin}/api/calls`);
console.log(`notifications rejected: ${runtime.stats().rejectedNotifications}`);
await runtime.stop();
server.close();
server.closeAllConnections();
await graph.close();
