/**
 * parseResourceUrl: Graph's plain resource URLs (read by the fast path) and
 * every other spelling (read by URL parsing and the regex) give the same
 * references; what is not a call resource gives none.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseResourceUrl } from '../../src/graph/ids.js';

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

/** The general reading (URL parsing and the regex), as parseResourceUrl did it for every URL before its fast path. */
function general(url: string) {
  let path = url;
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  const m = /(?:^|\/)(?:communications|app)\/calls\/([^/?#]+)(?:\/([^/?#]+)(?:\/([^/?#]+))?)?/i.exec(path);
  if (!m?.[1]) return undefined;
  const callId = decodeURIComponent(m[1]);
  if (m[2]?.toLowerCase() === 'operations' && m[3]) return { callId, operationId: decodeURIComponent(m[3]) };
  return m[2] ? { callId, sub: m[2] } : { callId };
}

describe('parseResourceUrl fast path', () => {
  it('reads any URL built from Graph-like parts as the general reading does', () => {
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
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const url = parts.join('');
        expect(parseResourceUrl(url)).toEqual(general(url));
      }),
      { numRuns: 5000 },
    );
  });
});
