/**
 * parseResourceUrl: Graph's plain resource URLs (read by the fast path) and
 * every other spelling (read by URL parsing and the regex) give the same
 * references; what is not a call resource gives none.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseResourceUrl, readResourceUrl } from '../../src/graph/ids.js';

const ID = '0fe0623f-d628-42ed-b4bd-8ac290072cc5';

describe('parseResourceUrl', () => {
  it.each([
    // the fast path's shapes
    [`/communications/calls/${ID}`, { callId: ID }],
    [`/communications/calls/${ID}/operations/op-1`, { callId: ID, operationId: 'op-1' }],
    // the same calls in the other spellings Graph and users write
    [`/communications/calls/${ID}/`, { callId: ID }],
    [`/communications/calls/${ID}?x=1`, { callId: ID }],
    [`/communications/calls/${ID}/participants`, { callId: ID, sub: 'participants' }],
    [`/communications/calls/${ID}/Operations/op-1`, { callId: ID, operationId: 'op-1' }],
    [`/communications/calls/${ID}/operations/op-1/x`, { callId: ID, operationId: 'op-1' }],
    [`/communications/calls/${ID}/operations/`, { callId: ID, sub: 'operations' }],
    [`/Communications/Calls/${ID}`, { callId: ID }],
    [`/app/calls/${ID}/operations/op-1`, { callId: ID, operationId: 'op-1' }],
    [`https://graph.microsoft.com/v1.0/communications/calls/${ID}`, { callId: ID }],
    ['/communications/calls/a%20b', { callId: 'a b' }],
    ['/communications/calls/a/operations/b%2Fc', { callId: 'a', operationId: 'b/c' }],
    ['/communications/calls/a_b', { callId: 'a_b' }],
  ])('%s', (url, ref) => {
    expect(parseResourceUrl(url)).toEqual(ref);
  });

  it.each([
    '/communications/calls/',
    '/communications/calls//operations/x',
    '/communications/call/abc',
    '/users/abc',
    'https://[',
  ])('%s is not a call resource', (url) => {
    expect(parseResourceUrl(url)).toBeUndefined();
  });
});

describe('parseResourceUrl fast path', () => {
  it('reads any URL built from Graph-like parts as the general reading (readResourceUrl) does', () => {
    const part = fc.constantFrom(
      '/v1.0',
      '/beta',
      '/v2',
      '/communications/calls/',
      '/app/calls/',
      'communications',
      'calls',
      '/',
      '//',
      'operations',
      'Operations',
      'keepAlive',
      ID,
      'op-1',
      'a_b',
      '%2F',
      '%20',
      '?x=1',
      '#f',
      'https://graph.microsoft.com',
      '',
    );
    // Graph's own shape, segment by segment, so the fast path's branches are reached often.
    const segment = fc.constantFrom(
      ID,
      'op-1',
      'operations',
      'Operations',
      'keepAlive',
      'a_b',
      '%2F',
      '',
      '?x=1',
    );
    const shaped = fc
      .tuple(
        fc.constantFrom('', '/v1.0', '/beta', '/v2', 'https://graph.microsoft.com/v1.0'),
        fc.array(segment, { maxLength: 4 }),
      )
      .map(([prefix, segs]) => `${prefix}/communications/calls/${segs.join('/')}`);
    const loose = fc.array(part, { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(shaped, loose), (url) => {
        expect(parseResourceUrl(url)).toEqual(readResourceUrl(url));
      }),
      { numRuns: 5000 },
    );
  });
});
