/**
 * A bot's Express 5 app with the Graph notification endpoint. It works
 * whichever way the app is built: with the handler mounted before any body
 * parser (the handler reads the raw body: its size limit applies to the bytes),
 * or behind a global `express.json()` (the handler takes the parsed
 * `req.body`; express.json's own `limit` then bounds the size).
 */
import express, { type Express } from 'express';
import type { CallRuntime } from 'graph-call-machines';

export const CALLBACK_PATH = '/api/calling';

// Only the webhook is needed here: any runtime (or a test's) fits.
export function createExpressBot(
  runtime: Pick<CallRuntime, 'nodeHandler'>,
  opts: { jsonFirst?: boolean } = {},
): Express {
  const app = express();
  if (opts.jsonFirst) app.use(express.json()); // one parser for the whole app, the handler included
  app.post(CALLBACK_PATH, runtime.nodeHandler);
  if (!opts.jsonFirst) app.use(express.json()); // the rest of your bot's routes may parse JSON as usual
  return app;
}
