/**
 * ResourceDataSchema picks one member schema by `@odata.type`. It must accept
 * and produce exactly what the union it replaced did (each member tried in
 * turn): that union is rebuilt here as the reference and compared on
 * generated resources, known types in every spelling included (a known type
 * in other letter case is read as that type).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CallSchema,
  CommsOperationSchema,
  RecordOperationSchema,
  ResourceDataSchema,
} from '../../src/graph/schemas.js';

const RECORD = '#microsoft.graph.recordOperation';
const CALL = '#microsoft.graph.call';

/** The union as it was: call, recordOperation, unknown, commsOperation, first success wins. */
const Reference = z
  .object({ '@odata.type': z.string().max(256) })
  .loose()
  .pipe(
    z.union([
      CallSchema.transform((data) => ({ kind: 'call' as const, data })),
      RecordOperationSchema.transform((data) => ({ kind: 'recordOperation' as const, data })),
      z
        .object({ '@odata.type': z.string() })
        .loose()
        .refine((r) => {
          const t = r['@odata.type'].toLowerCase();
          return t !== CALL.toLowerCase() && t !== RECORD.toLowerCase() && !t.endsWith('operation');
        })
        .transform((data) => ({ kind: 'unknown' as const, data })),
      CommsOperationSchema.refine((r) => r['@odata.type'].toLowerCase() !== RECORD.toLowerCase()).transform(
        (data) => ({ kind: 'commsOperation' as const, data }),
      ),
    ]),
  );

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const text = fc.oneof(
  fc.constantFrom('', 'x', 'COMPLETED', 'failed', 'Terminated'),
  fc.string({ maxLength: 8 }),
);
const odataType = fc.oneof(
  fc.constantFrom(
    CALL,
    RECORD,
    CALL.toUpperCase(),
    '#Microsoft.Graph.RecordOperation',
    '#microsoft.graph.playPromptOperation',
    '#microsoft.graph.cancelMediaProcessingOperation',
    'OPERATION',
    '#microsoft.graph.participant',
    '#microsoft.graph.callMediaState',
    '',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 6 }).map((s) => `${s}Operation`),
);
const resultInfo = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      code: fc.oneof(fc.integer(), fc.constantFrom('200', '5x')),
      subcode: fc.integer(),
      message: maybe(text),
    },
    { requiredKeys: [] },
  ),
  fc.constant('oops'),
);
const resource = fc.record(
  {
    '@odata.type': fc.oneof(odataType, fc.integer()),
    id: fc.oneof(
      fc.constantFrom('', 'op-1', '0fe0623f-d628-42ed-b4bd-000000000001', 'x'.repeat(257)),
      fc.integer(),
    ),
    status: fc.oneof(text, fc.constant(null)),
    state: fc.oneof(text, fc.integer()),
    clientContext: fc.oneof(text, fc.constant(null)),
    resultInfo,
    callbackUri: fc.oneof(text, fc.constant(null)),
    recordingLocation: fc.oneof(text, fc.constant(null)),
    recordingAccessToken: fc.oneof(text, fc.constant(null)),
    recordResourceLocation: text,
    recordResourceAccessToken: text,
    completionReason: fc.oneof(text, fc.constant(null), fc.integer()),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['@odata.type'] },
);

describe('ResourceDataSchema dispatch', () => {
  it('accepts and produces exactly what the member-by-member union did', () => {
    fc.assert(
      fc.property(resource, (r) => {
        const fast = ResourceDataSchema.safeParse(r);
        const slow = Reference.safeParse(r);
        expect(fast.success).toBe(slow.success);
        if (fast.success && slow.success) expect(fast.data).toEqual(slow.data);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a known type in other letter case as that type, spelt canonically', () => {
    const r = ResourceDataSchema.safeParse({
      '@odata.type': '#Microsoft.Graph.RecordOperation',
      id: 'x',
      status: 'failed',
    });
    expect(r.data).toMatchObject({ kind: 'recordOperation', data: { '@odata.type': RECORD, id: 'x' } });
    const c = ResourceDataSchema.safeParse({ '@odata.type': CALL.toUpperCase(), state: 'Terminated' });
    expect(c.data).toMatchObject({ kind: 'call', data: { '@odata.type': CALL, state: 'terminated' } });
    // Still held to the known type's rules.
    const bad = ResourceDataSchema.safeParse({ '@odata.type': '#microsoft.graph.RECORDOPERATION', id: 'x' });
    expect(bad.error?.issues.map((i) => i.path)).toEqual([['status']]);
  });

  it('reports a member issue at its own path', () => {
    const r = ResourceDataSchema.safeParse({ '@odata.type': RECORD, id: '', status: 'failed' });
    expect(r.error?.issues.map((i) => i.path)).toEqual([['id']]);
  });
});
