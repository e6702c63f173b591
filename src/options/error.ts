/**
 * One error for every refused option, thrown where the option is given and
 * before anything starts. It names the option path, what was given (only the
 * type for token-like options) and what is allowed. It extends TypeError so
 * code that caught the library's older TypeErrors still does.
 */
import type { z } from 'zod';
import { redact } from '../graph/errors.js';

export interface OptionsErrorInit {
  /** The function the options were given to, e.g. `createCallRuntime`. */
  where: string;
  /** Dotted option path, e.g. `callPolicy.keepAliveIntervalMs` (empty: the options object itself). */
  path: string;
  /** What was given, described safely (a type for secrets, never a token). */
  received: string;
  /** What is allowed, with the fix where it helps. */
  expected: string;
}

export class OptionsError extends TypeError {
  override readonly name = 'OptionsError';
  readonly where: string;
  readonly path: string;
  readonly received: string;
  readonly expected: string;

  constructor(init: OptionsErrorInit) {
    const subject = init.path ? `\`${init.path}\`` : 'the options';
    super(`${init.where}: ${subject} ${init.expected}; got ${init.received}`);
    this.where = init.where;
    this.path = init.path;
    this.received = init.received;
    this.expected = init.expected;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      where: this.where,
      path: this.path,
      received: this.received,
      expected: this.expected,
    };
  }
}

/** Option names whose values are secrets: only their type is ever printed. */
const SECRET = /token|secret|password|credential|key$/i;

/** A short, safe description of a given value for an error message. */
export function describeValue(value: unknown, path = ''): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  const secret = SECRET.test(path.split('.').pop() ?? '');
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      if (secret) return 'a string';
      return `'${redact(value.length > 80 ? `${value.slice(0, 77)}...` : value)}'`;
    case 'number':
    case 'boolean':
      return secret ? `a ${typeof value}` : String(value);
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

type Issue = z.core.$ZodIssue;

/** The value at `path` inside `root` (what the issue is about). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function join(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

/** Turn the first zod issue into an OptionsError. */
export function toOptionsError(
  where: string,
  issue: Issue | undefined,
  root: unknown,
  prefix = '',
): OptionsError {
  if (!issue)
    return new OptionsError({
      where,
      path: prefix,
      received: describeValue(root, prefix),
      expected: 'are invalid',
    });
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const path = join(prefix, [...issue.path, key]);
    const given = valueAt(root, [...issue.path, key]);
    return new OptionsError({
      where,
      path,
      received: describeValue(given, path),
      expected: 'is not a known option',
    });
  }
  const path = join(prefix, issue.path);
  const last = String(issue.path[issue.path.length - 1] ?? '');
  // Messages of shared schemas may start with the field's own name: the path says it already.
  const own =
    last && issue.message.startsWith(`${last} `) ? issue.message.slice(last.length + 1) : issue.message;
  // zod's own wording ("Too small: ...") reads as a clause after the option's name.
  const expected = /^(must|is|are) /.test(own) ? own : `is invalid (${own})`;
  return new OptionsError({
    where,
    path,
    received: describeValue(valueAt(root, issue.path), path),
    expected,
  });
}

/** Parse `value` with `schema`; throws an OptionsError naming the first bad option. */
export function parseOptions<S extends z.ZodType>(
  where: string,
  schema: S,
  value: unknown,
  prefix = '',
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw toOptionsError(where, r.error.issues[0], value, prefix);
}
