/**
 * The call context's shape is a memory budget: XState's `assign` copies the
 * context on every change, and V8 stores an object of more than 19 own fields
 * created that way as a dictionary (about 8x the bytes, 10-50x slower to copy).
 * New fields go into a group (`setup`, `end`, `seq`), not the top level.
 */
import { describe, expect, it } from 'vitest';
import { initialContext } from '../../src/machines/call/logic.js';
import type { CallStart } from '../../src/machines/call/types.js';

const V8_FAST_PROPERTIES_MAX = 19;

describe('call context shape', () => {
  it.each<CallStart>(['established', 'incoming', 'outgoing'])(
    'a %s call keeps at most 19 top-level fields, grouped set-up, end and sequence fields',
    (start) => {
      const ctx = initialContext({ callId: 'c-1', at: 0, start, offer: {}, place: { targets: [] } });
      expect(Object.keys(ctx).length).toBeLessThanOrEqual(V8_FAST_PROPERTIES_MAX);
      expect(Object.keys(ctx.setup).sort()).toEqual(
        ['decideBy', 'establishBy', 'establishedAt', 'establishedEarly', 'offer', 'place'].sort(),
      );
      expect(ctx.end).toEqual({ pendingReason: null, reason: null, endedAt: null, resultInfo: null });
      expect(ctx.seq).toEqual({ record: 0, prompt: 0, cancel: 0, lastTone: -1 });
    },
  );
});
