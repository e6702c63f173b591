import { describe, expect, it } from 'vitest';
import { runDemo } from '../../demo/run.js';

// `npm start` is the first thing a newcomer runs: its story and summary must hold.
describe('npm start demo (headless)', () => {
  it('records, processes and deletes the message, keeps the first call alive, ends the other two by the rules; answers, rejects, redirects from the ring and reports an unanswered placed call', async () => {
    const lines: string[] = [];
    const summary = await runDemo({ quiet: true, write: (l) => lines.push(l) });
    expect(summary.ok).toBe(true);
    expect(summary.filesLeft).toBe(0);
    expect(summary.recordingsDownloaded).toBe(1);
    expect(summary.recordingsDeleted).toBe(1);
    const byName = Object.fromEntries(summary.calls.map((c) => [c.name, c]));
    // Three simulated hours: a keepAlive every 15 min until the bot hangs up at 3:00.
    expect(byName.voicemail).toMatchObject({ reason: 'hungUp', endedAfter: '03:00:00.000', keepAlives: 11 });
    // Every keepAlive of the second call fails; Graph ends it 45 minutes after its start.
    expect(byName['left alone']).toMatchObject({ endedAfter: '00:45:00.000', keepAlives: 0 });
    expect(['terminated', 'expired']).toContain(byName['left alone']?.reason);
    // The third call's far side vanished at 10 min; the 15-min keepAlive gets 404.
    expect(byName.gone).toMatchObject({ reason: 'notFound', endedAfter: '00:15:00.000' });
    // From the ring: the second caller is rejected as busy, the third redirected to the operator.
    expect(byName.busy).toMatchObject({ reason: 'rejected', endedAfter: '00:00:00.000' });
    expect(byName.redirected).toMatchObject({ reason: 'redirected', endedAfter: '00:00:00.000' });
    // The bot's own call rings out: Graph's 408/10057 after the callee's 60 s, and the summary says so.
    expect(byName.outgoing).toMatchObject({ reason: 'notAnswered', endedAfter: '00:01:00.000' });
    expect(byName.outgoing?.why).toMatch(/^408\/10057 /);
    expect(summary.calls.map((c) => c.name)).toEqual([
      'voicemail',
      'left alone',
      'gone',
      'busy',
      'redirected',
      'outgoing',
    ]);
    expect(summary.greeting).toBe('completed');
    expect(summary.message?.durationSeconds).toBeCloseTo(6, 3);
    expect(lines.join('\n')).toContain('files left: 0');
    expect(lines.join('\n')).not.toContain('demo-app-token');
  });
});
