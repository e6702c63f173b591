#!/usr/bin/env node
/**
 * Run the Graph calls emulator from a shell:
 *   graph-call-machines-emulator --port 4010 --host 127.0.0.1 --limits spec|current [--simulated] [--seed N]
 *   graph-call-machines-emulator ring --callback <bot url> [--emulator <url>] [--from +1...]  (see cli-ring.ts)
 * With --simulated the emulator's time stands still until POST /_emulator/clock/advance {"ms": N}.
 */
import { parseArgs } from 'node:util';
import { type Clock, SimulatedClock, systemClock } from '../adapters/clock.js';
import { CURRENT_SERVICE_LIMITS, SPEC_LIMITS } from '../graph/limits.js';
import { ring } from './cli-ring.js';
import { startEmulator } from './index.js';

const USAGE = `Usage: graph-call-machines-emulator [options]
  --port <n>         port to listen on (default 4010; 0 = any free port)
  --host <addr>      address to bind (default 127.0.0.1)
  --limits <preset>  record limits: spec (300 s, default) or current (120 s)
  --simulated        run on a simulated clock, advanced only via POST /_emulator/clock/advance
  --seed <n>         seed for generated ids and probabilistic faults
  --audience <id>    aud claim of notification tokens (the bot's app id)
  -h, --help         show this help`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main() {
  // `ring`: a client of a running emulator, not a server.
  if (process.argv[2] === 'ring') process.exit(await ring(process.argv.slice(3)));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4010' },
        host: { type: 'string', default: '127.0.0.1' },
        limits: { type: 'string', default: 'spec' },
        simulated: { type: 'boolean', default: false },
        seed: { type: 'string' },
        audience: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${String(values.port)}`);
  const preset = String(values.limits);
  if (preset !== 'spec' && preset !== 'current') fail(`invalid --limits ${preset} (spec or current)`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) fail(`invalid --seed ${String(values.seed)}`);

  const clock: Clock = values.simulated ? new SimulatedClock() : systemClock;
  const emulator = await startEmulator({
    clock,
    port,
    host: String(values.host),
    limits: preset === 'current' ? CURRENT_SERVICE_LIMITS : SPEC_LIMITS,
    seed,
    audience: typeof values.audience === 'string' ? values.audience : undefined,
  });
  const limits = preset === 'current' ? CURRENT_SERVICE_LIMITS : SPEC_LIMITS;
  process.stdout.write(
    [
      'Graph calls emulator listening',
      `  Graph v1.0  ${emulator.url}`,
      `  Graph beta  ${emulator.betaUrl}`,
      `  OpenID      ${emulator.openIdConfigurationUrl}  (aud ${emulator.audience}, tid ${emulator.tenantId})`,
      `  control     ${emulator.origin}/_emulator/`,
      `  limits      ${preset} (${limits.maxSeconds} s)`,
      `  clock       ${values.simulated ? 'simulated: POST /_emulator/clock/advance {"ms": N} or {"to": epochMs}' : 'system'}`,
      '',
      'Bot options (createCallRuntime) for this emulator:',
      `  graphUrl: '${emulator.url}',`,
      `  notificationAuth: { appId: '${emulator.audience}', openIdConfigurationUrl: '${emulator.openIdConfigurationUrl}' },`,
      `  insecureRecordingHosts: ['${emulator.recordingHost}'],`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
