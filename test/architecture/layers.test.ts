/**
 * The layering rule (README, Development): which folder of src may import
 * which. Read from the import graph, so a new import across a layer fails
 * here, in `npm test`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importsOf, listFiles, ROOT } from './import-graph.js';

/**
 * Subpath entries that gather public names from several layers. They only re-export (checked
 * below), so they add no dependency of their own; they may not reach the emulator, testing or view.
 */
const ENTRIES: Record<string, string> = {
  'src/adapters/index.ts': 'entry:adapters',
  // Its createNotificationVerifier comes with defaults (an undici adapter) from runtime/standalone-verifier.ts.
  'src/notifications/index.ts': 'entry:notifications',
};

/** The layer of a file: its folder under src, or the entry file's name. */
function layerOf(file: string): string {
  const entry = ENTRIES[file];
  if (entry) return entry;
  const rest = file.replace(/^src\//, '');
  const folder = rest.includes('/') ? (rest.split('/')[0] as string) : rest.replace(/\.ts$/, '');
  return folder;
}

interface Rule {
  /** Our files it may import: layers (folders) or single files (`graph/schemas.ts`). */
  may?: string[];
  /** Our layers it may not import (everything else is allowed). */
  mayNot?: string[];
  /** Packages it may import (any when absent); node: built-ins always. */
  packages?: string[];
  /** Type-only imports are exempt (the ports name types of the layers that use them). */
  typesFree?: boolean;
}

const RULES: Record<string, Rule> = {
  machines: { may: ['machines', 'graph/schemas.ts', 'graph/limits.ts'], packages: ['xstate', 'zod'] },
  ports: { may: ['ports'], typesFree: true },
  adapters: { may: ['adapters', 'ports', 'graph/errors.ts'] },
  redis: { may: ['redis', 'ports'] },
  notifications: { may: ['notifications', 'ports', 'graph'] },
  runtime: { mayNot: ['emulator', 'testing', 'view'] },
  emulator: { mayNot: ['runtime'] },
  'entry:adapters': { mayNot: ['emulator', 'testing', 'view'] },
  'entry:notifications': { mayNot: ['emulator', 'testing', 'view'] },
};
// The entry files of the subpaths belong to their folders.
RULES.redis = { ...RULES.redis, may: [...(RULES.redis?.may ?? []), 'redis.ts'] };

/**
 * Imports that break the rule today, each with its way out. The test fails when one is fixed
 * without being removed from here, so the list only shrinks.
 */
const KNOWN: Record<string, string> = {
  // The adapter's options are checked where they are given, by the zod schemas of src/options.
  'src/adapters/undici-http.ts -> src/options/adapters.ts': 'options checked at the entry point',
};

function allowed(file: string, edge: ImportEdge): boolean {
  const rule = RULES[layerOf(file)];
  if (!rule) return true;
  if (edge.external) {
    if (edge.to.startsWith('node:') || !rule.packages) return true;
    return rule.packages.some((p) => edge.to === p || edge.to.startsWith(`${p}/`));
  }
  if (rule.typesFree && edge.typeOnly) return true;
  if (!edge.to.startsWith('src/')) return false;
  const target = edge.to.replace(/^src\//, '');
  const targetLayer = layerOf(edge.to);
  if (rule.mayNot) return !rule.mayNot.includes(targetLayer);
  return (rule.may ?? []).some((m) => m === targetLayer || m === target);
}

describe('layers', () => {
  const breaches: string[] = [];
  for (const file of listFiles('src'))
    for (const edge of importsOf(file)) if (!allowed(file, edge)) breaches.push(`${file} -> ${edge.to}`);

  it('every import follows the rule of its folder (known breaches excepted)', () => {
    expect(breaches.filter((b) => !(b in KNOWN))).toEqual([]);
  });

  it('the known breaches are still there (remove fixed ones from KNOWN)', () => {
    expect(Object.keys(KNOWN).filter((k) => !breaches.includes(k))).toEqual([]);
  });

  it.each(Object.keys(ENTRIES))('the entry %s only re-exports', (file) => {
    const statements = readFileSync(join(ROOT, file), 'utf8')
      .replace(/\/\/.*$/gm, '')
      .split(';')
      .map((st) => st.trim())
      .filter(Boolean);
    expect(statements.filter((st) => !/^export (type )?\{[^}]*\} from '[^']+'$/.test(st))).toEqual([]);
  });

  it('the rule itself holds: an adapter importing the runtime would be refused', () => {
    expect(
      allowed('src/adapters/x.ts', { to: 'src/runtime/seal.ts', typeOnly: false, external: false }),
    ).toBe(false);
    expect(allowed('src/ports/x.ts', { to: 'src/runtime/seal.ts', typeOnly: true, external: false })).toBe(
      true,
    );
    expect(allowed('src/ports/x.ts', { to: 'src/runtime/seal.ts', typeOnly: false, external: false })).toBe(
      false,
    );
    expect(allowed('src/machines/x.ts', { to: 'undici', typeOnly: false, external: true })).toBe(false);
  });
});
