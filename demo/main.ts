/**
 * `npm start`: a voicemail bot built only from the public API, against the
 * built-in Graph emulator, on simulated time (a few hours in a few seconds).
 *
 *   npm start                 simulated time, live timeline
 *   npm start -- --realtime   wall clock, short intervals (about half a minute)
 *   npm start -- --inspect    also stream inspection events to a local Stately inspector relay
 *   npm start -- --quiet      summary only (used by the README test)
 */
import { parseArgs } from 'node:util';
import { runDemo } from './run.js';

const { values } = parseArgs({
  options: {
    realtime: { type: 'boolean', default: false },
    inspect: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

runDemo({ realtime: values.realtime, inspect: values.inspect, quiet: values.quiet, json: values.json }).then(
  (summary) => {
    process.exitCode = summary.ok ? 0 : 1;
    // The WebSocket inspector reconnects forever once its relay is gone: end the process ourselves.
    if (values.inspect) process.exit();
  },
  (err) => {
    console.error('demo failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
