/**
 * The call context fields the emulator-driven runs read, in one place. The
 * context is being regrouped (end fields under `end`): each reader accepts the
 * flat and the grouped shape, so either side of that change compiles and runs.
 */
import type { CallSnapshot } from './model-call.js';

type Loose = Record<string, unknown>;
const ctxOf = (s: CallSnapshot) => s.context as unknown as Loose;

export const callIdOf = (s: CallSnapshot): string => String(ctxOf(s).callId);

/** How the call ended (null while it runs). */
export function endReasonOf(s: CallSnapshot): string | null {
  const c = ctxOf(s);
  const end = c.end as Loose | undefined;
  return ((end && typeof end === 'object' ? end.reason : c.endReason) as string | null | undefined) ?? null;
}
