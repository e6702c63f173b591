/**
 * One simulated time for a bot and an emulator CLI in another process
 * (`npx graph-call-machines-emulator --simulated`).
 *
 * Each process has its own SimulatedClock. Advancing them one after the other lets them drift:
 * the bot's keepAlive at 45:00 may reach an emulator still at 44:59 or already past the expiry, and
 * a notification token signed at the emulator's time may look expired or not yet valid to the
 * bot. This driver moves both from the bot's process, timer by timer: it asks the emulator for
 * its next due timer (`GET /_emulator/clock` -> `nextDue`), takes the earlier of that and the
 * bot's own, moves both clocks to exactly that instant (`POST /_emulator/clock/advance { to }`),
 * and lets each side's work settle before the next step. Only this driver may move either clock.
 */
import type { SimulatedClock } from 'graph-call-machines';

export interface SharedTime {
  /** Bring the later of the two clocks' times to both. */
  sync(): Promise<void>;
  /** Move both clocks `ms` forward, firing every timer of either side at its own time. */
  advance(ms: number): Promise<void>;
}

interface RemoteClock {
  now: number;
  nextDue: number | null;
}

export function shareTime(clock: SimulatedClock, emulatorOrigin: string): SharedTime {
  const url = (path: string) => new URL(`/_emulator/clock${path}`, emulatorOrigin);
  const read = async (res: Response): Promise<RemoteClock> => {
    if (!res.ok) throw new Error(`emulator clock: ${res.status} ${await res.text()}`);
    return (await res.json()) as RemoteClock;
  };
  const remote = async () => read(await fetch(url('')));
  const moveRemote = async (to: number) =>
    read(
      await fetch(url('/advance'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to }),
      }),
    );

  async function sync() {
    const r = await remote();
    if (r.now > clock.now()) await clock.advanceTo(r.now);
    else if (r.now < clock.now()) await moveRemote(clock.now());
  }

  return {
    sync,
    async advance(ms) {
      await sync();
      const end = clock.now() + ms;
      for (;;) {
        const r = await remote();
        const mine = clock.nextDue();
        const next = Math.max(clock.now(), Math.min(end, mine ?? end, r.nextDue ?? end));
        if (mine === undefined || mine > next) {
          // Only the emulator has something due: the bot reaches `next` first, so it handles the
          // emulator's notifications at their true time, then settles what they started.
          await clock.advanceTo(next);
          await moveRemote(next);
          await clock.advance(0);
        } else {
          // The bot has a timer due: the emulator reaches `next` first, so it sees the bot's request then.
          await moveRemote(next);
          await clock.advanceTo(next);
        }
        if (next >= end) return;
      }
    },
  };
}
