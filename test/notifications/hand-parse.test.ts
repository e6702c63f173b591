/**
 * hand-parse.ts reads the common notification shapes by hand. Whatever it returns
 * must be exactly what CommsNotificationsSchema returns (values, and keys in
 * the same order); on anything else it must step aside (undefined) so zod
 * decides. Compared on generated bodies that mix Graph's shapes with odd values,
 * whole bodies and item by item (the webhook reads each item on its own).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommsNotificationSchema, CommsNotificationsSchema } from '../../src/graph/schemas.js';
import { fastCommsNotification, fastCommsNotifications } from '../../src/notifications/hand-parse.js';
import { readNotifications } from '../../src/notifications/parse.js';
import { batch, callTerminated, legacyResource, recordCompleted } from './samples.js';

const junk = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.string({ maxLength: 4 }),
);
const text = fc.oneof(
  fc.constantFrom('', 'x', 'COMPLETED', 'failed', 'Terminated', 'ESTABLISHED', 'operationCanceled', 'None'),
  fc.string({ maxLength: 6 }),
);
const maybeJunk = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: arb, weight: 40 }, { arbitrary: junk, weight: 1 });
/** For a resource's fields: another type more often, as one field off is what a fast path gets wrong. */
const leaf = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: arb, weight: 10 }, { arbitrary: junk, weight: 1 });
/** Mostly valid values (`good`), sometimes ones the schema refuses (`bad`). */
const mostly = <A, B>(good: fc.Arbitrary<A>, bad: fc.Arbitrary<B>): fc.Arbitrary<A | B> =>
  fc.oneof({ arbitrary: good, weight: 8 }, { arbitrary: bad, weight: 1 });
const odataType = mostly(
  fc.oneof(
    fc.constantFrom(
      '#microsoft.graph.call',
      '#microsoft.graph.recordOperation',
      '#microsoft.graph.playPromptOperation',
      'xOPERATION',
      '#microsoft.graph.participant',
      // Known types in other letter case: read as the known type.
      '#microsoft.graph.CALL',
      '#Microsoft.Graph.RecordOperation',
      '',
    ),
    fc.string({ maxLength: 8 }),
  ),
  fc.constant('x'.repeat(257)),
);
const code = leaf(
  mostly(
    fc.oneof(fc.integer(), fc.constantFrom('200', '-5', '9007199254740991')),
    // Not integers, or integer strings no number holds exactly (400 digits would be Infinity).
    fc.constantFrom('1.5', 'x', '', '9007199254740992', '9'.repeat(400), `-${'1'.repeat(400)}`),
  ),
);
const resultInfo = mostly(
  fc.oneof(
    fc.constant(null),
    fc.record(
      { code, subcode: code, message: leaf(fc.oneof(text, fc.constant(null))), extra: junk },
      { requiredKeys: [] },
    ),
  ),
  junk,
);
const resource = fc.oneof(
  {
    arbitrary: fc.record(
      {
        '@odata.type': leaf(odataType),
        id: fc.oneof(
          fc.constantFrom('', 'op-1', '0fe0623f-d628-42ed-b4bd-000000000001', 'x'.repeat(257)),
          junk,
        ),
        status: leaf(text),
        state: leaf(text),
        clientContext: leaf(fc.oneof(text, fc.constant(null))),
        resultInfo,
        callbackUri: leaf(fc.oneof(text, fc.constant(null))),
        recordingLocation: leaf(fc.oneof(text, fc.constant(null))),
        recordingAccessToken: leaf(fc.oneof(text, fc.constant(null))),
        recordResourceLocation: leaf(fc.oneof(text, fc.constant(null))),
        recordResourceAccessToken: leaf(fc.oneof(text, fc.constant(null))),
        completionReason: leaf(fc.oneof(text, fc.constant(null))),
        mediaState: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['@odata.type'] },
    ),
    weight: 40,
  },
  { arbitrary: junk, weight: 1 },
);
const url = maybeJunk(
  fc.oneof(
    { arbitrary: fc.constantFrom('/communications/calls/abc', '/app/calls/abc/operations/def'), weight: 8 },
    { arbitrary: fc.constant('x'.repeat(2049)), weight: 1 },
  ),
);
const notification = fc.oneof(
  {
    arbitrary: fc.record(
      {
        '@odata.type': maybeJunk(fc.constant('#microsoft.graph.commsNotification')),
        changeType: maybeJunk(
          fc.oneof(
            { arbitrary: fc.constantFrom('updated', 'Deleted', 'CREATED'), weight: 8 },
            { arbitrary: fc.constant('exploded'), weight: 1 },
          ),
        ),
        resourceUrl: url,
        resource: url,
        resourceData: maybeJunk(fc.oneof(resource, fc.array(resource, { maxLength: 3 }))),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['changeType'] },
    ),
    weight: 40,
  },
  { arbitrary: junk, weight: 1 },
);
const body = fc.oneof(
  {
    arbitrary: fc.record(
      {
        '@odata.type': maybeJunk(fc.constant('#microsoft.graph.commsNotifications')),
        value: maybeJunk(fc.array(notification, { minLength: 1, maxLength: 3 })),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['value'] },
    ),
    weight: 40,
  },
  { arbitrary: junk, weight: 1 },
);

/** As parseNotifications hands it over: JSON.parse output. */
const asJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x) ?? 'null');

describe('fastCommsNotifications', () => {
  it('returns exactly what the schema returns, or steps aside', () => {
    let fast = 0;
    let accepted = 0;
    fc.assert(
      fc.property(body, (generated) => {
        const json = asJson(generated);
        const mine = fastCommsNotifications(json);
        const theirs = CommsNotificationsSchema.safeParse(json);
        if (theirs.success) accepted++;
        if (mine === undefined) return;
        fast++;
        expect(theirs.success).toBe(true);
        expect(mine).toStrictEqual(theirs.data);
        // Same keys in the same order, all the way down.
        expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs.data));
      }),
      { numRuns: 8000 },
    );
    // The comparison must cover many bodies; and every body the schema accepts here is read
    // by the fast path (a new accepted shape belongs in hand-parse.ts too).
    expect(fast).toBeGreaterThan(1000);
    expect(fast).toBe(accepted);
  });

  it('item by item: each item is what the item schema makes of it, or zod decides', () => {
    let fast = 0;
    let accepted = 0;
    fc.assert(
      fc.property(notification, (generated) => {
        const item = asJson(generated);
        const mine = fastCommsNotification(item);
        const theirs = CommsNotificationSchema.safeParse(item);
        if (theirs.success) accepted++;
        if (mine === undefined) return;
        fast++;
        expect(theirs.success).toBe(true);
        expect(JSON.stringify(mine)).toBe(JSON.stringify(theirs.data));
      }),
      { numRuns: 4000 },
    );
    expect(fast).toBeGreaterThan(1000);
    expect(fast).toBe(accepted);
  });

  it('readNotifications keeps exactly the items the item schema accepts, and reports the others by index', () => {
    fc.assert(
      fc.property(fc.array(notification, { minLength: 1, maxLength: 4 }), (generated) => {
        const value = asJson(generated) as unknown[];
        // A forbidden key anywhere refuses the whole body, by design (parse.test.ts): not this property's case.
        fc.pre(!/"(__proto__|constructor|prototype)":/.test(JSON.stringify(value)));
        const { items, rejected } = readNotifications({ value });
        const verdicts = value.map((v) => CommsNotificationSchema.safeParse(v));
        // (The generated urls hold no %-escape, the one thing refused after the schema.)
        const expected = verdicts.flatMap((v) =>
          v.success ? [{ changeType: v.data.changeType, resources: v.data.resourceData }] : [],
        );
        expect(items.map((i) => ({ changeType: i.changeType, resources: i.resources }))).toEqual(expected);
        const failed = verdicts.flatMap((v, i) => (v.success ? [] : [i]));
        expect(rejected.map((e) => e.index)).toEqual(failed);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads the shapes Graph sends', () => {
    for (const n of [recordCompleted, callTerminated, legacyResource]) {
      const json = asJson(batch(n));
      const mine = fastCommsNotifications(json);
      expect(mine).toBeDefined();
      expect(JSON.stringify(mine)).toBe(JSON.stringify(CommsNotificationsSchema.parse(json)));
    }
  });

  it('leaves numbers JSON.parse made infinite to the schema, which refuses them', () => {
    for (const text of [
      '{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/a","resourceData":{"@odata.type":"#microsoft.graph.call","resultInfo":{"code":1e400}}}]}',
      '{"value":[{"changeType":"deleted","resourceUrl":"/communications/calls/a/operations/b","resourceData":{"@odata.type":"#microsoft.graph.recordOperation","status":"failed","resultInfo":{"code":400,"subcode":-1e999}}}]}',
    ]) {
      const json = JSON.parse(text);
      expect(fastCommsNotifications(json)).toBeUndefined();
      expect(CommsNotificationsSchema.safeParse(json).success).toBe(false);
    }
  });

  it('never copies a __proto__ key', () => {
    const json = JSON.parse(
      '{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/a","__proto__":{"polluted":1}}]}',
    );
    expect(fastCommsNotifications(json)).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
