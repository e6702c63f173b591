/** parseNotifications: shapes Graph sends, and bodies it must refuse with a clear 400. */
import { describe, expect, it } from 'vitest';
import { NotificationError } from '../../src/notifications/errors.js';
import { MAX_JSON_DEPTH, MAX_RESOURCES_PER_BODY, parseNotifications } from '../../src/notifications/parse.js';
import { batch, CALL_ID, callTerminated, legacyResource, nested, OP_ID, recordCompleted } from './samples.js';

function refused(body: string | Uint8Array, code: 'malformedJson' | 'invalidBody'): NotificationError {
  let caught: unknown;
  try {
    parseNotifications(body);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(NotificationError);
  expect(caught).toMatchObject({ status: 400, code });
  return caught as NotificationError;
}

describe('parseNotifications', () => {
  it('parses a batch: refs from resourceUrl or legacy resource, resources as arrays, ids as sent', () => {
    const items = parseNotifications(JSON.stringify(batch(recordCompleted, callTerminated, legacyResource)));
    expect(items).toHaveLength(3);
    const [record, ended, legacy] = items;
    expect(record).toMatchObject({
      changeType: 'deleted',
      ref: { callId: CALL_ID, operationId: OP_ID },
      resourceUrl: recordCompleted.resourceUrl,
    });
    expect(record?.resources).toHaveLength(1);
    expect(record?.resources[0]).toMatchObject({
      kind: 'recordOperation',
      data: { status: 'completed', recordingLocation: 'https://recordings.example/clip/1' },
    });
    // Ids are not normalised here: the router does that.
    expect(ended?.ref).toEqual({ callId: CALL_ID.replace(/-/g, '').toUpperCase() });
    expect(ended?.resources[0]).toMatchObject({ kind: 'call', data: { state: 'terminated' } });
    expect(legacy).toMatchObject({ changeType: 'updated', ref: { callId: CALL_ID } });
    expect(legacy?.resources[0]).toMatchObject({ kind: 'call', data: { state: 'established' } });
  });

  it('keeps the raw notification as received', () => {
    const [item] = parseNotifications(JSON.stringify(batch({ ...legacyResource, extra: { a: 1 } })));
    expect(item?.raw).toEqual({ ...legacyResource, extra: { a: 1 } });
  });

  it('returns a notification whose url names no call with ref undefined', () => {
    const [item] = parseNotifications(
      JSON.stringify(batch({ changeType: 'updated', resourceUrl: '/subscriptions/abc' })),
    );
    expect(item?.ref).toBeUndefined();
    expect(item?.resources).toEqual([]);
  });

  it('accepts bytes, and a UTF-8 BOM', () => {
    const text = JSON.stringify(batch(recordCompleted));
    expect(parseNotifications(new TextEncoder().encode(text))).toHaveLength(1);
    expect(parseNotifications(`\ufeff${text}`)).toHaveLength(1);
    // A view into a larger buffer reads only its own bytes.
    const big = Buffer.from(`xxxx${text}yyyy`);
    expect(parseNotifications(big.subarray(4, big.length - 4))).toHaveLength(1);
  });

  it.each(['', '{', '{"value":[}', 'not json', '{"value":[1,]}', "{'value':[]}"])(
    'refuses malformed JSON %j',
    (body) => {
      const err = refused(body, 'malformedJson');
      expect(err.message).toBe('body is not valid JSON');
    },
  );

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['no value', '{}'],
    ['an empty value', '{"value":[]}'],
    ['no url', '{"value":[{"changeType":"updated"}]}'],
    [
      'an unknown changeType',
      `{"value":[{"changeType":"exploded","resourceUrl":"/communications/calls/${CALL_ID}"}]}`,
    ],
    [
      'a recordOperation without status',
      JSON.stringify(
        batch({
          ...recordCompleted,
          resourceData: { '@odata.type': '#microsoft.graph.recordOperation', id: OP_ID },
        }),
      ),
    ],
  ])('refuses %s with invalidBody and a short summary', (_what, body) => {
    const err = refused(body, 'invalidBody');
    expect(err.message).toMatch(/^not a commsNotifications body: /);
    expect(err.message.length).toBeLessThan(300);
  });

  it('does not echo a huge invalid body in its message', () => {
    const junk = 'A'.repeat(100_000);
    const err = refused(JSON.stringify({ value: [{ changeType: junk, resourceUrl: junk }] }), 'invalidBody');
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).not.toContain('AAAAAAAAAA');
  });

  it.each([
    ['__proto__ at the top', '{"__proto__":{"polluted":true},"value":[]}'],
    [
      '__proto__ deep inside',
      `{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/${CALL_ID}","x":{"a":[{"__proto__":{"polluted":true}}]}}]}`,
    ],
    ['constructor.prototype', '{"value":[],"constructor":{"prototype":{"polluted":true}}}'],
    ['prototype', '{"value":[{"prototype":1}]}'],
  ])('refuses a forbidden key: %s', (_what, body) => {
    const err = refused(body, 'invalidBody');
    expect(err.message).toMatch(/forbidden key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('allows the forbidden words as values and inside other keys', () => {
    const body = JSON.stringify(batch({ ...legacyResource, note: '__proto__', my_constructor: 'prototype' }));
    expect(parseNotifications(body)).toHaveLength(1);
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses deeper`, () => {
    // The envelope itself is 3 levels deep: { value: [ { ... } ] }.
    expect(parseNotifications(nested(MAX_JSON_DEPTH - 3))).toHaveLength(1);
    const err = refused(nested(MAX_JSON_DEPTH - 2), 'invalidBody');
    expect(err.message).toMatch(/deeper than 32/);
    // A nesting bomb is refused fast, by the text scan, without a stack overflow.
    refused(nested(500_000), 'invalidBody');
  });

  it('does not count brackets inside strings as nesting', () => {
    const body = JSON.stringify(batch({ ...legacyResource, note: '[[[[{{{{'.repeat(20), q: 'a\\"[[[[' }));
    expect(parseNotifications(body)).toHaveLength(1);
  });

  it('refuses huge arrays by their length, before the schema walks them', () => {
    const nums = `{"value":[${Array(500_000).fill('1').join(',')}]}`;
    expect(refused(nums, 'invalidBody').message).toMatch(/more than 1000 notifications/);
    // 1000 notifications of 100 resources each (within the schema's own bounds, ~1 MB):
    // validating them all would block the event loop for seconds.
    const item = (n: number, state: unknown) =>
      JSON.stringify({
        changeType: 'updated',
        resourceUrl: `/communications/calls/${CALL_ID}`,
        resourceData: Array.from({ length: n }, () => ({ '@odata.type': '#microsoft.graph.call', state })),
      });
    const many = `{"value":[${Array(1000).fill(item(100, 1)).join(',')}]}`;
    expect(refused(many, 'invalidBody').message).toMatch(/more than 1000 resourceData entries/);
    // Exactly at the cap the body is validated as usual.
    const atCap = `{"value":[${Array(MAX_RESOURCES_PER_BODY / 10)
      .fill(item(10, 'established'))
      .join(',')}]}`;
    expect(parseNotifications(atCap)).toHaveLength(MAX_RESOURCES_PER_BODY / 10);
  });

  it('refuses a resourceUrl with a malformed %-escape as invalidBody (never a URIError)', () => {
    const err = refused(
      JSON.stringify(batch({ changeType: 'updated', resourceUrl: '/communications/calls/%E0%A4%A' })),
      'invalidBody',
    );
    expect(err.message).toMatch(/%-escape/);
  });
});
