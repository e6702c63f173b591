/**
 * Call and record policies checked where they are given (runtime options,
 * `track`, `record`), with the machines' own schemas, so a bad interval is an
 * OptionsError at once instead of a call actor that dies on start.
 */
import type { z } from 'zod';
import {
  type CallPolicy,
  CallPolicySchema,
  DEFAULT_CALL_POLICY,
  DEFAULT_RECORD_POLICY,
  type RecordPolicy,
  RecordPolicySchema,
} from '../machines/policy.js';
import { OptionsError, toOptionsError } from './error.js';

const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const HINTS: Record<string, string> = {
  keepAliveIntervalMs:
    ' (set `allowCustomIntervals: true` only for demos on the wall clock, never against Graph)',
};

function check(
  where: string,
  schema: z.ZodType,
  defaults: object,
  layers: ReadonlyArray<{ prefix: string; policy: object | undefined }>,
): void {
  let merged: Record<string, unknown> = { ...defaults };
  for (const { prefix, policy } of layers) {
    if (policy === undefined) continue;
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
      throw new OptionsError({
        where,
        path: prefix,
        received: policy === null ? 'null' : Array.isArray(policy) ? 'an array' : `a ${typeof policy}`,
        expected: 'must be an object of policy fields',
      });
    merged = { ...merged, ...defined(policy) };
    const r = schema.safeParse(merged);
    if (r.success) continue;
    const issue = r.error.issues[0];
    const err = toOptionsError(where, issue, merged, prefix);
    const field = issue && issue.code !== 'unrecognized_keys' ? String(issue.path[0] ?? '') : '';
    throw new OptionsError({ ...err, expected: `${err.expected}${HINTS[field] ?? ''}` });
  }
}

/**
 * Check the runtime's call policy, then (for `track`) the call's own on top of
 * it: the error names the layer that made the merged policy invalid.
 */
export function checkCallPolicy(
  where: string,
  runtimePolicy: Partial<CallPolicy> | undefined,
  callPolicy?: { prefix: string; policy: Partial<CallPolicy> | undefined },
): void {
  check(where, CallPolicySchema, DEFAULT_CALL_POLICY, [
    { prefix: 'callPolicy', policy: runtimePolicy },
    ...(callPolicy ? [callPolicy] : []),
  ]);
}

export function checkRecordPolicy(
  where: string,
  runtimePolicy: Partial<RecordPolicy> | undefined,
  recordPolicy?: { prefix: string; policy: Partial<RecordPolicy> | undefined },
): void {
  check(where, RecordPolicySchema, DEFAULT_RECORD_POLICY, [
    { prefix: 'recordPolicy', policy: runtimePolicy },
    ...(recordPolicy ? [recordPolicy] : []),
  ]);
}
