import type { JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

/**
 * API Gateway's model of a request body, generated from the request contract's zod schema
 * (lambdas/core/request-contract.ts), so a field added there reaches AWS with nothing else to edit.
 * It is JSON Schema draft 4, the only version API Gateway accepts, for the input side (a field with
 * a default may be left out). Refinements do not appear in it, so the model can be more permissive
 * than the handler, which validates every body again, but never stricter.
 */
export function requestModelSchema(submission: z.ZodType, title: string): JsonSchema {
  const generated = z.toJSONSchema(submission, { target: 'draft-04', io: 'input', unrepresentable: 'throw' });
  return { ...(toCdkJsonSchema(generated) as JsonSchema), title };
}

/**
 * One line saying what the model wants (`{type: access|deletion, email, dryRun?}`), for the answer
 * API Gateway gives a body the model rejects: its validator's own message could quote the value.
 */
export function describeModel(schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const values = property.enum ? `: ${property.enum.join('|')}` : '';
    return `${name}${required.has(name) ? '' : '?'}${values}`;
  });
  return `{${fields.join(', ')}}`;
}

// CDK's JsonSchema spells `$schema` and `$ref` without the `$` (it adds it back when rendering).
const CDK_NAMES: Record<string, string> = { $schema: 'schema', $ref: 'ref' };
// Below these keywords the keys are names the schema defines, not keywords.
const NAMED_CHILDREN = new Set(['properties', 'definitions', 'patternProperties', 'dependencies']);

function toCdkJsonSchema(value: unknown, keysAreNames = false): unknown {
  if (Array.isArray(value)) return value.map((v) => toCdkJsonSchema(v));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (keysAreNames) return [key, toCdkJsonSchema(child)];
      if (key.startsWith('$') && !CDK_NAMES[key]) {
        throw new Error(`the request model cannot carry the JSON Schema keyword ${key}`);
      }
      return [CDK_NAMES[key] ?? key, toCdkJsonSchema(child, NAMED_CHILDREN.has(key))];
    }),
  );
}
