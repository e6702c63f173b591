/**
 * `npm start`: a voicemail bot built only from the public API, against the
 * built-in Graph emulator, on simulated time (a few hours in a few seconds).
 *
 *   npm start                 simulated time, live timeline
 *   npm start -- --realtime   wall clock, short intervals (about half a minute)
 *   npm start -- --view       wall clock, short intervals, with the live view (prints its URL) until Ctrl-C
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
    view: { type: 'boolean', default: false },
  },
});

runDemo({
  // The view shows the story as it happens: on the wall clock.
  realtime: values.realtime || values.view,
  view: values.view,
  inspect: values.inspect,
  quiet: values.quiet,
  json: values.json,
}).then(
  (summary) => {
    process.exitCode = summary.ok ? 0 : 1;
    // The WebSocket inspector reconnects forever once its relay is gone: end the process ourselves.
    if (values.inspect || values.view) process.exit();
  },
  (err) => {
    console.error('demo failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
