/**
 * Where fresh ids (a record's clientContext, ...) come from. Production draws
 * random UUIDs; a test on simulated time passes a counter so a run repeats
 * exactly.
 */
import { randomUUID } from 'node:crypto';

/** Returns a new id each call; ids must be unique within the process. */
export type IdSource = () => string;

export const randomIds: IdSource = () => randomUUID();

/** `prefix-1`, `prefix-2`, ...: reproducible ids for tests. */
export function sequentialIds(prefix = 'id'): IdSource {
  let n = 0;
  return () => `${prefix}-${++n}`;
}
