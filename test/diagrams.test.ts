/**
 * The diagrams in docs/machines.md and the README are the machines' own:
 * this fails when either file is out of date (run `npm run diagrams`), and
 * checks the generated Mermaid is well-formed stateDiagram-v2: declared
 * states, nested blocks balanced, edges only between states of the same
 * block (Mermaid cannot draw others), final states, guards and delays on the labels.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MACHINES_DOC, README, renderDocs } from '../scripts/diagrams.js';
import { eventLabel, guardName, toMermaid } from '../src/diagram.js';
import { callMachine, recordMachine } from '../src/machines/index.js';

/** A structural check of the stateDiagram-v2 subset toMermaid writes; returns the problems found. */
function lint(text: string): string[] {
  const problems: string[] = [];
  const lines = text.trimEnd().split('\n');
  if (lines[0] !== 'stateDiagram-v2') problems.push('first line is not stateDiagram-v2');
  const scopes: Array<Set<string>> = [new Set()];
  const declared = new Set<string>();
  const edges: Array<{ from: string; to: string; scope: Set<string>; line: number }> = [];
  const ID = '[A-Za-z_][A-Za-z0-9_]*';
  for (const [i, raw] of lines.slice(1).entries()) {
    const line = raw.trim();
    const scope = scopes[scopes.length - 1]!;
    const declare = (id: string) => {
      if (declared.has(id)) problems.push(`line ${i + 2}: ${id} declared twice`);
      declared.add(id);
      scope.add(id);
    };
    const edge = (from: string, to: string) => edges.push({ from, to, scope, line: i + 2 });
    const rules: Array<[RegExp, (m: RegExpExecArray) => void]> = [
      [/^direction (LR|TB)$/, () => {}],
      [
        new RegExp(`^state (${ID}) \\{$`),
        (m) => {
          declare(m[1]!);
          scopes.push(new Set());
        },
      ],
      [
        /^\}$/,
        () => {
          if (scopes.length === 1) problems.push(`line ${i + 2}: unbalanced }`);
          scopes.pop();
        },
      ],
      [new RegExp(`^state "[^"]+" as (${ID})$`), (m) => declare(m[1]!)],
      [new RegExp(`^(${ID})$`), (m) => declare(m[1]!)],
      [new RegExp(`^\\[\\*\\] --> (${ID})$`), (m) => edge('[*]', m[1]!)],
      [new RegExp(`^(${ID}) --> \\[\\*\\]$`), (m) => edge(m[1]!, '[*]')],
      [new RegExp(`^(${ID}) --> (${ID}) : [^:;#{}]+$`), (m) => edge(m[1]!, m[2]!)],
      [new RegExp(`^note right of ${ID} : [^:;#{}]+$`), () => {}],
      [/^classDef tag_\w+ [\w:#,.-]+$/, () => {}],
      [new RegExp(`^class ${ID}(,${ID})* tag_\\w+$`), () => {}],
    ];
    const rule = rules.map(([re, f]) => [re.exec(line), f] as const).find(([m]) => m);
    if (rule) rule[1](rule[0]!);
    else problems.push(`line ${i + 2}: not understood: ${line}`);
  }
  if (scopes.length !== 1) problems.push('unclosed {');
  for (const e of edges)
    for (const end of [e.from, e.to])
      if (end !== '[*]' && !e.scope.has(end))
        problems.push(`line ${e.line}: ${end} is not a state of this block`);
  return problems;
}

describe('diagrams', () => {
  it('docs/machines.md and the README hold the current diagrams (else: npm run diagrams)', () => {
    const files = { readme: readFileSync(README, 'utf8'), machinesDoc: readFileSync(MACHINES_DOC, 'utf8') };
    const fresh = renderDocs(files);
    expect(
      fresh.machinesDoc === files.machinesDoc,
      'docs/machines.md is out of date: run `npm run diagrams`',
    ).toBe(true);
    expect(fresh.readme === files.readme, 'README.md diagrams are out of date: run `npm run diagrams`').toBe(
      true,
    );
  });

  it.each([
    ['callMachine', callMachine],
    ['recordMachine', recordMachine],
  ])('%s: well-formed stateDiagram-v2', (_name, machine) => {
    expect(lint(toMermaid(machine))).toEqual([]);
  });

  it('the linter rejects what Mermaid cannot draw', () => {
    const bad = [
      'stateDiagram-v2',
      '  a',
      '  state b {',
      '    c',
      '  }',
      '  a --> c : x',
      '  d --> a : y: z',
    ].join('\n');
    expect(lint(bad)).toEqual([
      'line 7: not understood: d --> a : y: z',
      'line 6: c is not a state of this block',
    ]);
  });

  it('shows nesting, final states, guards and delays', () => {
    const rec = toMermaid(recordMachine);
    expect(rec).toMatch(/state holdingClip \{\n\s+\[\*\] --> downloading/);
    expect(rec).toMatch(/state processing \{\n\s+\[\*\] --> running/);
    expect(rec).toContain('deleted --> [*]');
    expect(rec).toContain('failed --> [*]');
    // running -> deleting crosses a composite: drawn from processing, inside holdingClip.
    expect(rec).toMatch(/processing --> deleting : [^\n]*after PROCESSING_TIMEOUT/);
    expect(rec).toContain('holdingClip --> deleted : deleteClip done');
    expect(rec).toContain('[outcomeUnknown and earlyIsOurs and earlySucceeded]');
    const call = toMermaid(callMachine);
    expect(call).toContain('retryWait --> keepAliveDue : after RETRY_DELAY [retryScheduled]');
    expect(call).toContain('draining --> ended : after DRAIN_TIMEOUT / always [noLiveChildren]');
    expect(call).toContain('ended --> [*]');
    // The routing of completions is the machine's own, and the diagram shows it.
    expect(call).toMatch(
      /note right of start : in every state, NOTIFICATION \[forRecord\] \/ NOTIFICATION \[forPrompt\]/,
    );
    expect(call).toContain('a child done [isMediaChild]');
    expect(call).toMatch(/state established \{\n\s+\[\*\] --> active/);
    expect(call).toContain('offered --> rejecting : REJECT / HANG_UP / after DECISION_DEADLINE');
  });

  it('labels read like the events', () => {
    expect(eventLabel('xstate.after.KEEPALIVE_INTERVAL.call.established.active')).toBe(
      'after KEEPALIVE_INTERVAL',
    );
    expect(eventLabel('xstate.error.actor.keepAlive')).toBe('keepAlive error');
    expect(eventLabel('xstate.done.actor.*')).toBe('a child done');
    expect(eventLabel('')).toBe('always');
    expect(guardName({ type: 'xstate.and', guards: ['a', { type: 'b' }] })).toBe('a and b');
  });
});
