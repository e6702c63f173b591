/**
 * `graph-call-machines-emulator ring`: offer a call to a bot through a
 * running emulator's control API (POST /_emulator/ring), e.g.
 *   graph-call-machines-emulator ring --emulator http://127.0.0.1:4010 --callback http://127.0.0.1:3978/api/calls --from +14255550100
 * Prints the new call as JSON.
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';

export const RING_USAGE = `Usage: graph-call-machines-emulator ring --callback <url> [options]
  --callback <url>   the bot's webhook that gets the offer
  --emulator <url>   the running emulator (default http://127.0.0.1:4010)
  --from <caller>    an E.164 number (+14255550100) or a user id
  --script <json>    a caller script, e.g. '{"offer":{"decisionSeconds":5}}'`;

/** Exit code: 0 offered, 1 the emulator refused or could not be reached, 2 bad arguments. */
export async function ring(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let values: Record<string, string | undefined>;
  let script: unknown;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        callback: { type: 'string' },
        emulator: { type: 'string', default: 'http://127.0.0.1:4010' },
        from: { type: 'string' },
        script: { type: 'string' },
      },
      strict: true,
    }));
    if (!values.callback) throw new Error('--callback is required');
    script = values.script === undefined ? undefined : JSON.parse(values.script);
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${RING_USAGE}\n`);
    return 2;
  }
  try {
    const origin = new URL(String(values.emulator)).origin;
    const res = await request(`${origin}/_emulator/ring`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callbackUri: values.callback, from: values.from, script }),
    });
    const text = await res.body.text();
    (res.statusCode === 201 ? out : err).write(`${text}\n`);
    return res.statusCode === 201 ? 0 : 1;
  } catch (e) {
    err.write(`ring failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
