/** How a failed request enters machine context: plain JSON, never a token, never a stack. */
import { GraphError } from '../graph/errors.js';

export function errorJson(err: unknown, at: number): Record<string, unknown> {
  if (err instanceof GraphError) return { ...err.toJSON(), at };
  if (err instanceof Error) return { kind: 'error', name: err.name, message: err.message.slice(0, 500), at };
  return { kind: 'error', message: String(err).slice(0, 500), at };
}
