// Run by `npm ci` / `npm install` (and by npx's first run of this package's own bin, which links the
// project and runs its `prepare`): build dist/ unless it is already newer than every file under src/
// (`npm run build` is this with --force),
// so the emulator bin and the examples (which import the package by name) work right after a clone,
// and a second run does not rewrite dist/ under processes that are reading it.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);

let built = 0;
try {
  built = statSync('dist/index.js').mtimeMs;
} catch {}
const config = ['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(f).mtimeMs);
const { bin = {} } = JSON.parse(readFileSync('package.json', 'utf8'));
const bins = typeof bin === 'string' ? [bin] : Object.values(bin);
const binsThere = bins.every((file) => existsSync(file));
if (!process.argv.includes('--force') && binsThere && built >= Math.max(newest('src'), ...config)) {
  console.log('dist/ is up to date');
} else {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  console.log('built dist/');
}

// tsc writes 0644 files. npm makes a bin executable only when it links it, and npx links this project
// once per path (its cache is keyed by the path), so a fresh clone at a path npx has seen before (CI's
// checkout) would run a 0644 bin: "Permission denied". Set the mode ourselves on every run.
for (const file of bins) chmodSync(file, 0o755);
