/**
 * `graph-call-machines/view` as a subpath. A build takes half a minute on the
 * CI machine, so the test imports the built package when `npm run build` has
 * run (dist/ present) and the source otherwise; the export map must point at
 * what the build makes of src/view/index.ts either way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const built = existsSync(new URL('../../dist/view/index.js', import.meta.url));

describe('the ./view subpath', () => {
  it('is in the export map, built from src/view/index.ts', () => {
    expect(pkg.exports['./view']).toEqual({
      types: './dist/view/index.d.ts',
      import: './dist/view/index.js',
    });
    expect(existsSync(new URL('../../src/view/index.ts', import.meta.url))).toBe(true);
  });

  it('declares mermaid an optional peer (the page falls back to text without it)', () => {
    expect(pkg.peerDependencies.mermaid).toBeDefined();
    expect(pkg.peerDependenciesMeta.mermaid).toEqual({ optional: true });
    expect(pkg.devDependencies.mermaid).toBeDefined();
  });

  it(`exports createLiveView (${built ? 'built package' : 'source; run npm run build for the built one'})`, async () => {
    const mod = built
      ? await import(/* @vite-ignore */ 'graph-call-machines/view' as string)
      : await import('../../src/view/index.js');
    expect(typeof mod.createLiveView).toBe('function');
    expect(typeof mod.LiveViewError).toBe('function');
  });
});
