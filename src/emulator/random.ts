/**
 * Randomness of the emulator. With a seed, ids and probabilistic faults repeat
 * run after run (mulberry32); without one they come from the OS. Secrets
 * (recording tokens, key ids) never come from here: they use crypto directly.
 */
import { randomUUID } from 'node:crypto';

export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** A lower-case hyphenated GUID. */
  guid(): string;
}

export function createRandom(seed?: number): RandomSource {
  if (seed === undefined) return { next: Math.random, guid: randomUUID };
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(next() * 16).toString(16);
    return s;
  };
  return {
    next,
    // Version-4 layout, so strict UUID parsers accept the seeded ids too.
    guid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`,
  };
}

const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The canonical form of a GUID in any case, with or without dashes; undefined when it is not one. */
export function canonicalGuid(id: string): string | undefined {
  if (!GUID.test(id)) return undefined;
  const h = id.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
