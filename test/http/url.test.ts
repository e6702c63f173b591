/**
 * The request URL fast path must split every URL exactly as `new URL()` does,
 * or leave it to `new URL()`.
 */
import { describe, expect, it } from 'vitest';
import { splitUrl } from '../../src/adapters/http/url.js';

const viaUrl = (s: string) => {
  const u = new URL(s);
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
};

const URLS = [
  'https://graph.microsoft.com/v1.0/communications/calls/2f1a0b00-5e6f-4d3c-9a8b-7c6d5e4f3a2b/keepAlive',
  'http://127.0.0.1:4010/v1.0/communications/calls/c1/keepAlive',
  'https://graph.microsoft.com/v1.0/communications/calls/a%2Fb/keepAlive',
  'https://graph.microsoft.com/v1.0/a/./b/../c',
  'https://graph.microsoft.com/v1.0/a/%2e%2E/c',
  'https://graph.microsoft.com/v1.0/a/.%2e',
  'https://graph.microsoft.com/v1.0/a b/ü',
  "https://graph.microsoft.com/v1.0/x?q='a b'&r=1",
  'https://graph.microsoft.com/v1.0/x?$select=id,state',
  'https://graph.microsoft.com/v1.0/x#frag',
  'https://graph.microsoft.com/v1.0/x?y#frag',
  'https://GRAPH.microsoft.com/v1.0/x',
  'https://graph.microsoft.com:443/v1.0/x',
  'http://user:pw@127.0.0.1:4010/v1.0/x',
  'https://graph.microsoft.com',
  'https://graph.microsoft.com/v1.0\\x',
  'https://graph.microsoft.com/v1.0/x`y{z}',
];

describe('splitUrl', () => {
  it('gives what new URL() gives, the first time and from the cache', () => {
    for (let round = 0; round < 2; round++)
      for (const u of URLS) expect({ url: u, ...(splitUrl(u) as object) }).toEqual({ url: u, ...viaUrl(u) });
  });

  it('rejects what new URL() rejects, and schemes other than http(s)', () => {
    expect(splitUrl('not a url')).toBe('invalid');
    expect(splitUrl('/v1.0/relative')).toBe('invalid');
    expect(splitUrl('ftp://graph.microsoft.com/v1.0/x')).toBe('scheme');
    expect(splitUrl('file:///etc/passwd')).toBe('scheme');
  });
});
