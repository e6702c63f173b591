/**
 * Mermaid `stateDiagram-v2` text generated from a machine definition, so the
 * diagrams in docs/ and the README can never drift from the code
 * (`npm run diagrams` writes them; a test regenerates and compares).
 *
 * Mermaid cannot draw an edge between states inside different composite
 * states, so each transition is written in the block of the innermost state
 * that contains both ends, with each end lifted to its ancestor in that
 * block: `running -> deleting` (processing timeout) is drawn from
 * `processing`, `trying -> deleted` from `holdingClip`. Transitions with the
 * same ends are merged into one edge; targetless ones (actions only) are
 * self-loops; `always` transitions read `always`; transitions on the root
 * (they apply in every state) are listed in a note.
 */
import type { AnyStateMachine } from 'xstate';

interface NodeLike {
  key: string;
  id: string;
  type: string;
  parent?: NodeLike | undefined;
  initial?: { target: ReadonlyArray<NodeLike> } | undefined;
  states: Record<string, NodeLike>;
  transitions: Map<string, ReadonlyArray<TransitionLike>>;
  always?: ReadonlyArray<TransitionLike> | undefined;
  tags: readonly string[];
}

interface TransitionLike {
  eventType: string;
  target?: ReadonlyArray<NodeLike> | undefined;
  guard?: unknown;
  reenter?: boolean;
}

/** `xstate.after.KEEPALIVE_INTERVAL.call.active` -> `after KEEPALIVE_INTERVAL`, etc. */
export function eventLabel(eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return `${done[1] === '*' ? 'a child' : done[1]} done`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error) return `${error[1] === '*' ? 'a child' : error[1]} error`;
  if (eventType === '') return 'always';
  return eventType;
}

/** A guard's name; `and([...])`/`or([...])` of named guards as `a and b`. */
export function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  const g = guard as { type?: unknown; guards?: unknown[]; name?: string };
  if (Array.isArray(g.guards)) {
    const op = String(g.type ?? '').replace(/^xstate\./, '') || 'and';
    return g.guards.map((x) => guardName(x) ?? '?').join(` ${op} `);
  }
  if (typeof g.type === 'string') return g.type;
  if (typeof guard === 'function') return (guard as { name?: string }).name || 'guard';
  return undefined;
}

/** Text Mermaid takes as an edge label or note: no `:`, `;`, `#`, braces or line breaks. */
function clean(text: string): string {
  return text
    .replace(/[:;#{}\n\r]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function ancestors(node: NodeLike): NodeLike[] {
  const out: NodeLike[] = [];
  for (let n: NodeLike | undefined = node; n; n = n.parent) out.unshift(n);
  return out;
}

/** The innermost node containing both, and each end lifted to that node's direct child. */
function placement(source: NodeLike, target: NodeLike): { block: NodeLike; from: NodeLike; to: NodeLike } {
  const a = ancestors(source);
  const b = ancestors(target);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  // A self-loop (or a transition to an ancestor's own node) stays in the source's parent block.
  if (i === a.length || i === b.length) {
    const node = i === a.length ? source : target;
    return { block: node.parent ?? node, from: a[a.length - 1] === node ? node : a[i]!, to: node };
  }
  return { block: a[i - 1]!, from: a[i]!, to: b[i]! };
}

export interface MermaidOptions {
  /** `LR` (default) or `TB`. */
  direction?: 'LR' | 'TB';
}

export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const root = machine.root as unknown as NodeLike;
  const all: NodeLike[] = [];
  const collect = (n: NodeLike) => {
    all.push(n);
    for (const c of Object.values(n.states)) collect(c);
  };
  collect(root);
  // State keys as Mermaid ids when they are unique (they read best); the path otherwise.
  const keyCount = new Map<string, number>();
  for (const n of all) if (n !== root) keyCount.set(n.key, (keyCount.get(n.key) ?? 0) + 1);
  const id = (n: NodeLike) =>
    keyCount.get(n.key) === 1 && /^[A-Za-z][A-Za-z0-9_]*$/.test(n.key)
      ? n.key
      : n.id.replace(/[^A-Za-z0-9_]/g, '_');

  // Edges per block, merged by (from, to) in definition order.
  const edges = new Map<NodeLike, Map<string, { from: string; to: string; labels: string[] }>>();
  const rootNotes: string[] = [];
  for (const n of all) {
    const ts = [...[...n.transitions.values()].flat(), ...(n.always ?? [])];
    for (const t of ts) {
      const g = guardName(t.guard);
      const label = clean(eventLabel(t.eventType) + (g ? ` [${g}]` : ''));
      const targets = t.target?.length ? t.target : [n];
      if (n === root && !t.target?.length) {
        if (!rootNotes.includes(label)) rootNotes.push(label);
        continue;
      }
      for (const target of targets) {
        const { block, from, to } = placement(n, target);
        const list = edges.get(block) ?? new Map();
        edges.set(block, list);
        const key = `${id(from)}>${id(to)}`;
        const edge = list.get(key) ?? { from: id(from), to: id(to), labels: [] };
        list.set(key, edge);
        if (!edge.labels.includes(label)) edge.labels.push(label);
      }
    }
  }

  const lines: string[] = ['stateDiagram-v2', `  direction ${options.direction ?? 'LR'}`];
  const tagged = new Map<string, string[]>();
  const block = (node: NodeLike, indent: string) => {
    const initial = node.initial?.target[0];
    if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
    for (const child of Object.values(node.states)) {
      const composite = Object.keys(child.states).length > 0;
      // Mermaid styles only simple states.
      if (!composite) for (const tag of child.tags) tagged.set(tag, [...(tagged.get(tag) ?? []), id(child)]);
      if (composite) {
        lines.push(`${indent}state ${id(child)} {`);
        block(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (id(child) !== child.key) {
        lines.push(`${indent}state "${child.key}" as ${id(child)}`);
      } else {
        lines.push(`${indent}${id(child)}`);
      }
      if (child.type === 'final') lines.push(`${indent}${id(child)} --> [*]`);
    }
    for (const e of edges.get(node)?.values() ?? [])
      lines.push(`${indent}${e.from} --> ${e.to} : ${e.labels.join(' / ')}`);
  };
  block(root, '  ');
  if (rootNotes.length) {
    const first = root.initial?.target[0];
    if (first) lines.push(`  note right of ${id(first)} : in every state, ${rootNotes.join(' / ')}`);
  }
  for (const [tag, ids] of tagged) {
    const cls = `tag_${tag.replace(/[^A-Za-z0-9_]/g, '_')}`;
    lines.push(`  classDef ${cls} ${TAG_STYLES[tag] ?? 'stroke-width:2px'}`);
    lines.push(`  class ${ids.join(',')} ${cls}`);
  }
  return `${lines.join('\n')}\n`;
}

const TAG_STYLES: Record<string, string> = {
  live: 'stroke:#2e7d32,stroke-width:2px',
  operation: 'stroke:#1565c0,stroke-width:2px',
  media: 'fill:#fff3e0,stroke:#e65100,stroke-width:2px',
};

/** Replace what sits between two marker lines (markers kept); throws when a marker is missing. */
export function replaceBetween(text: string, start: string, end: string, content: string): string {
  const i = text.indexOf(start);
  const j = text.indexOf(end, i + start.length);
  if (i < 0 || j < 0) throw new Error(`markers ${start} / ${end} not found`);
  return `${text.slice(0, i + start.length)}\n${content.trimEnd()}\n${text.slice(j)}`;
}

/** A Markdown section with the machine's diagram in a mermaid fence. */
export function mermaidBlock(machine: AnyStateMachine, options?: MermaidOptions): string {
  return `\`\`\`mermaid\n${toMermaid(machine, options)}\`\`\``;
}
