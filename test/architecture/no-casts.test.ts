/**
 * The machines carry no type assertions (`x as T`, `<T>x`, `x!` stays allowed): their events, children and
 * outputs are typed through setup(), so a cast there would hide a mismatch the model tests rely on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function casts(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1}: ${node.getText().slice(0, 60)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('src/machines', () => {
  it('has no type assertions', () => {
    expect(files('src/machines').flatMap(casts)).toEqual([]);
  });

  it('the check sees a cast when there is one', () => {
    const source = ts.createSourceFile('x.ts', 'const a = b as string;', ts.ScriptTarget.ES2022, true);
    let seen = 0;
    const visit = (n: ts.Node) => {
      if (ts.isAsExpression(n)) seen++;
      ts.forEachChild(n, visit);
    };
    visit(source);
    expect(seen).toBe(1);
  });
});
