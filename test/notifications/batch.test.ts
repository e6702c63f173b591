/**
 * Issue 13.1 and 13.6: a batch is read item by item. A malformed item is
 * skipped and reported (typed, no token in it); the valid items beside it are
 * delivered and the POST is still 2xx (Graph retries a 4xx with the same bad
 * item). Only a body that is not a notifications envelope is refused.
 */
import { describe, expect, it } from 'vitest';
import { NotificationItemError } from '../../src/notifications/errors.js';
import { fastCommsNotification } from '../../src/notifications/hand-parse.js';
import { createNotificationHandler } from '../../src/notifications/http.js';
import type { ParsedNotification } from '../../src/notifications/parse.js';
import { parseNotifications, readNotifications } from '../../src/notifications/parse.js';
import { batch, CALL_ID, callTerminated, OP_ID, recordCompleted } from './samples.js';

const SECRET = 'recording-token-must-never-show';

/** A record completion that cannot be read: `status: 3`, with a token that must not leak. */
const badStatus = {
  ...recordCompleted,
  resourceData: { ...recordCompleted.resourceData, status: 3, recordingAccessToken: SECRET },
};

const withCode = (code: unknown) => ({
  ...callTerminated,
  resourceData: [{ '@odata.type': '#microsoft.graph.call', state: 'terminated', resultInfo: { code } }],
});

const FOUR_HUNDRED_DIGITS = '9'.repeat(400);

describe('readNotifications: one bad item costs only itself', () => {
  it('skips a malformed item, reads the valid one beside it, and says which and why', () => {
    const { items, rejected } = readNotifications(JSON.stringify(batch(badStatus, callTerminated)));
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ changeType: 'deleted', resources: [{ kind: 'call' }] });
    expect(rejected).toHaveLength(1);
    const err = rejected[0]!;
    expect(err).toBeInstanceOf(NotificationItemError);
    expect(err).toMatchObject({ status: 400, code: 'invalidNotification', index: 0, callId: CALL_ID });
    expect(err.operationId).toBe(OP_ID);
    expect(err.message).toMatch(/^value\.0\.resourceData\.0\.status: /);
    expect(JSON.stringify(err)).not.toContain(SECRET);
    expect(`${err.message} ${err.stack}`).not.toContain(SECRET);
  });

  it('still refuses the whole body when the envelope is not sound', () => {
    for (const body of ['{}', '{"value":[]}', '{"value":{"changeType":"deleted"}}', '[1]', 'null']) {
      expect(() => readNotifications(body)).toThrow(expect.objectContaining({ code: 'invalidBody' }));
    }
  });

  it('keeps parseNotifications strict: a bad item refuses the body', () => {
    expect(() => parseNotifications(JSON.stringify(batch(badStatus, callTerminated)))).toThrow(
      expect.objectContaining({ code: 'invalidBody', message: expect.stringMatching(/value\.0\./) }),
    );
  });

  it('reads a known @odata.type in other letter case as that type', () => {
    const miscased = {
      ...recordCompleted,
      resourceData: { ...recordCompleted.resourceData, '@odata.type': '#microsoft.graph.RecordOperation' },
    };
    const { items, rejected } = readNotifications(JSON.stringify(batch(miscased, callTerminated)));
    expect(rejected).toEqual([]);
    expect(items[0]?.resources[0]).toMatchObject({
      kind: 'recordOperation',
      data: { '@odata.type': '#microsoft.graph.recordOperation', status: 'completed' },
    });
    // The fast reader agrees (and does not leave it to zod).
    expect(fastCommsNotification(JSON.parse(JSON.stringify(miscased)))).toBeDefined();
  });

  it('keeps an unknown @odata.type as an unknown resource', () => {
    const other = {
      ...callTerminated,
      resourceData: { '@odata.type': '#microsoft.graph.somethingNew', x: 1 },
    };
    const { items, rejected } = readNotifications(JSON.stringify(batch(other)));
    expect(rejected).toEqual([]);
    expect(items[0]?.resources[0]).toMatchObject({ kind: 'unknown' });
  });
});

describe('numbers out of range (13.6)', () => {
  it.each([
    ['a numeric string of 400 digits', FOUR_HUNDRED_DIGITS, /out of range/],
    ['a negative one', `-${FOUR_HUNDRED_DIGITS}`, /out of range/],
    ['a string past 2^53', '9007199254740993', /out of range/],
  ])('refuses %s as a per-item error, in both readers', (_what, code, why) => {
    const item = JSON.parse(JSON.stringify(withCode(code)));
    expect(fastCommsNotification(item)).toBeUndefined();
    const { items, rejected } = readNotifications(JSON.stringify(batch(withCode(code), recordCompleted)));
    expect(items).toHaveLength(1);
    expect(rejected[0]?.message).toMatch(why);
    expect(rejected[0]?.message).toMatch(/resultInfo\.code/);
  });

  it('refuses a JSON number that parses to Infinity the same way', () => {
    const text = `{"value":[${JSON.stringify(withCode(0)).replace('"code":0', '"code":1e400')}]}`;
    const { items, rejected } = readNotifications(text);
    expect(items).toEqual([]);
    expect(rejected[0]?.message).toMatch(/resultInfo\.code: number out of range/);
  });

  it('still reads numeric strings that convert exactly', () => {
    const { items, rejected } = readNotifications(JSON.stringify(batch(withCode('-9007199254740991'))));
    expect(rejected).toEqual([]);
    const data = items[0]?.resources[0]?.data as { resultInfo?: { code?: number } };
    expect(data.resultInfo?.code).toBe(-9007199254740991);
  });
});

describe('the handler answers 202 to a sound batch with a bad item', () => {
  it('delivers the valid items and reports the bad one, after the answer', async () => {
    const delivered: ParsedNotification[][] = [];
    const reported: NotificationItemError[] = [];
    const refused: unknown[] = [];
    const handler = createNotificationHandler({
      verifier: false,
      onNotifications: (items) => delivered.push(items),
      onRejectedItem: (err) => reported.push(err),
      onError: (err) => refused.push(err),
    });
    const res = await handler.handle(JSON.stringify(batch(badStatus, callTerminated)), {});
    expect(res).toEqual({ status: 202, rejected: 1 });
    await Promise.resolve();
    expect(delivered.map((items) => items.length)).toEqual([1]);
    expect(reported.map((e) => e.index)).toEqual([0]);
    expect(refused).toEqual([]);
  });

  it('answers 202 when every item is bad (a retry would carry the same items), delivering nothing', async () => {
    const delivered: unknown[] = [];
    const reported: unknown[] = [];
    const handler = createNotificationHandler({
      verifier: false,
      onNotifications: (items) => delivered.push(items),
      onRejectedItem: (err) => reported.push(err),
    });
    expect(await handler.handle(JSON.stringify(batch(badStatus, badStatus)), {})).toEqual({
      status: 202,
      rejected: 2,
    });
    await Promise.resolve();
    expect(delivered).toEqual([]);
    expect(reported).toHaveLength(2);
  });

  it('a throwing onRejectedItem does not stop the valid items', async () => {
    const delivered: unknown[] = [];
    const handler = createNotificationHandler({
      verifier: false,
      onNotifications: (items) => delivered.push(items),
      onRejectedItem: () => {
        throw new Error('logger down');
      },
    });
    await handler.handle(JSON.stringify(batch(badStatus, callTerminated)), {});
    await Promise.resolve();
    expect(delivered).toHaveLength(1);
  });
});
