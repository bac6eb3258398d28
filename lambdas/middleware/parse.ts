import type { z } from 'zod';
import { InputError } from '../core/errors';

/**
 * Parses a step's event with its schema. The error names the fields and what was wrong with them,
 * never their values (a misrouted state could carry anything).
 */
export function parseStepEvent<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.code}`)
    .join('; ');
  throw new InputError(`invalid step input: ${issues}`);
}
