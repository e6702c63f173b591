/**
 * Examples are meant to be copied: each imports the library by its package name (a subpath of
 * `graph-call-machines`), never the repository's sources, and `npm test` type-checks them against
 * the built package (`npm run typecheck:examples`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './run.js';

const dir = join(ROOT, 'examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const specifiers = (source: string) =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
const exported = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> })
    .exports,
).map((k) => (k === '.' ? 'graph-call-machines' : `graph-call-machines/${k.slice(2)}`));

describe('examples import the package, not its sources', () => {
  it.each(files)('%s', (file) => {
    const imports = specifiers(readFileSync(join(dir, file), 'utf8'));
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) {
      if (spec.startsWith('.')) expect(spec, `${file} imports ${spec}`).toMatch(/^\.\/[\w-]+\.js$/);
      if (spec.startsWith('graph-call-machines')) expect(exported).toContain(spec);
    }
  });

  it('at least the node:http, Hono, Express and Bot Framework examples use the package', () => {
    for (const f of ['node-http-bot.ts', 'hono-bot.ts', 'express-bot.ts', 'botframework-bot.ts'])
      expect(files).toContain(f);
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(all).toContain("from 'graph-call-machines'");
    expect(all).toContain("from 'graph-call-machines/emulator'");
    expect(all).toContain("from 'graph-call-machines/testing'");
  });
});
