/**
 * Options of `startEmulator`, checked before the server listens. Caller
 * scripts and variants keep their own schemas (the control API uses them too).
 */
import { z } from 'zod';
import { parseOptions } from './error.js';
import { clockSchema, limitsSchema, nonEmptyString } from './shapes.js';

const plainObject = (what: string) =>
  z.custom<object>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), {
    error: `must be ${what}`,
  });

const emulatorSchema = z
  .object(
    {
      clock: clockSchema.optional(),
      port: z
        .number({ error: 'must be a port number 0..65535 (0: a free port)' })
        .int({ error: 'must be a port number 0..65535 (0: a free port)' })
        .min(0, { error: 'must be a port number 0..65535 (0: a free port)' })
        .max(65535, { error: 'must be a port number 0..65535 (0: a free port)' })
        .optional(),
      host: nonEmptyString('a host name or address, e.g. 127.0.0.1').optional(),
      limits: limitsSchema.optional(),
      appToken: z
        .custom<unknown>((v) => (typeof v === 'string' && v !== '') || typeof v === 'function', {
          error: 'must be a non-empty string or a predicate (token) => boolean',
        })
        .optional(),
      keepAliveTimeoutMs: z
        .number({ error: 'must be a positive number (ms)' })
        .positive({ error: 'must be a positive number (ms)' })
        .optional(),
      recordingRetentionMs: z
        .number({ error: 'must be a positive number (ms)' })
        .positive({ error: 'must be a positive number (ms)' })
        .optional(),
      audience: nonEmptyString("the bot's app id (a non-empty string)").optional(),
      tenantId: nonEmptyString('a tenant id (a non-empty string)').optional(),
      notificationRetries: z
        .number({ error: 'must be an integer 0..20' })
        .int({ error: 'must be an integer 0..20' })
        .min(0, { error: 'must be an integer 0..20' })
        .max(20, { error: 'must be an integer 0..20' })
        .optional(),
      seed: z.number({ error: 'must be a number' }).optional(),
      variants: plainObject('an object of notification variants').optional(),
      defaultScript: plainObject('a caller script object').optional(),
    },
    { error: 'must be an object: startEmulator({ clock?, port?, host? })' },
  )
  .loose();

export function checkEmulatorOptions(options: unknown): void {
  parseOptions('startEmulator', emulatorSchema, options);
}
