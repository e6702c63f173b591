/**
 * The public surface, read from the built package (dist/, built by `npm run prepare` before the
 * tests; this test builds nothing): the root exports at most 40 names (values and types), every
 * subpath of package.json "exports" imports by the package's name, and the README's API table
 * lists exactly what each entry point exports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './import-graph.js';

const PACKAGE = 'graph-call-machines';
const MAX_ROOT_NAMES = 40;

type ExportsMap = Record<string, string | { types: string; import: string }>;
const exportsMap = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: ExportsMap })
  .exports;
/** Each entry point: its specifier (`graph-call-machines/adapters`) and its declaration file. */
const entries = Object.entries(exportsMap)
  .filter((e): e is [string, { types: string; import: string }] => typeof e[1] !== 'string')
  .map(([key, target]) => ({
    specifier: key === '.' ? PACKAGE : `${PACKAGE}/${key.slice(2)}`,
    types: join(ROOT, target.types),
  }));

interface Surface {
  values: string[];
  types: string[];
}

/** The names each declaration file exports, as the TypeScript checker sees them. */
function readSurfaces(): Map<string, Surface> {
  const files = entries.map((e) => e.types);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, Surface>();
  for (const entry of entries) {
    const source = program.getSourceFile(entry.types);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`no module at ${entry.types}`);
    const surface: Surface = { values: [], types: [] };
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? surface.values : surface.types).push(symbol.name);
    }
    out.set(entry.specifier, surface);
  }
  return out;
}

/** The README's API table: a row per entry point, the names in backticks in its second cell. */
function readmeTable(): Map<string, string[]> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const head = /^`(graph-call-machines(?:\/[\w-]+)?)`$/.exec(cells[1] ?? '');
    if (!head?.[1] || cells.length < 4) continue;
    rows.set(
      head[1],
      [...(cells[2] ?? '').matchAll(/`([\w$]+)`/g)].map((m) => m[1] as string),
    );
  }
  return rows;
}

const built = entries.every((e) => existsSync(e.types));
const sorted = (names: string[]) => [...names].sort();

describe('public surface (built dist/)', () => {
  // A missing dist/ fails here, loudly, instead of skipping the checks below.
  it('reads the built package', () => {
    expect(built, 'dist/ is missing: run `npm run prepare` (npm test does)').toBe(true);
  });
  const surfaces = built ? readSurfaces() : new Map<string, Surface>();
  const all = (specifier: string) => {
    const s = surfaces.get(specifier);
    return s ? [...s.values, ...s.types] : [];
  };

  it(`the root exports at most ${MAX_ROOT_NAMES} names, values and types together`, () => {
    const names = all(PACKAGE);
    expect(names.length, sorted(names).join(' ')).toBeLessThanOrEqual(MAX_ROOT_NAMES);
    // The internals the root used to leak stay off it.
    for (const internal of [
      'asErrorJson',
      'retryDelay',
      'trackWork',
      'readBody',
      'toMermaid',
      'SNAPSHOT_FORMAT',
    ])
      expect(names).not.toContain(internal);
  });

  it.each(entries.map((e) => e.specifier))('%s imports by name and has its values', async (specifier) => {
    const mod = (await import(specifier)) as Record<string, unknown>;
    const values = surfaces.get(specifier)?.values ?? [];
    expect(values.length).toBeGreaterThan(0);
    expect(sorted(values.filter((v) => mod[v] === undefined))).toEqual([]);
    expect(sorted(Object.keys(mod))).toEqual(sorted(values));
  });

  it('the README API table lists exactly what each entry point exports', () => {
    const table = readmeTable();
    expect(sorted([...table.keys()])).toEqual(sorted(entries.map((e) => e.specifier)));
    for (const { specifier } of entries)
      expect(sorted(table.get(specifier) ?? []), specifier).toEqual(sorted(all(specifier)));
  });
});
