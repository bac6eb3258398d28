import { z } from 'zod';
import { CHANNELS, JURISDICTIONS, SOURCES } from './ledger/jurisdictions';
import { parseInstant } from './ledger/time';
import { EMAIL_MAX_LENGTH, EMAIL_OUTLINE, emailProblem } from './privacy';

/**
 * What a privacy request is, defined once: its types and statuses, the form of its id and of an
 * idempotency key, and the fields it is submitted with. `POST /requests`, the EventBridge intake,
 * the CLI and `RequestStore.create` all validate with `newRequest`; API Gateway's request model is
 * generated from `requestSubmission` (infra/constructs/api.ts).
 *
 * A field the submitter sends is one entry in `SUBMITTED_FIELDS`; a field the connector sets
 * itself (how the request came in, say) is one entry in `CONNECTOR_FIELDS`. A rule JSON Schema
 * cannot say (one field depends on another, the finer email rules) goes in a refinement, which the
 * generated model leaves out: the model may be more permissive than the handler, never stricter.
 *
 * Messages name the field and the rule, never the value: a rejected value may be an email or an
 * injection attempt.
 */

export const REQUEST_TYPES = ['access', 'deletion'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_STATUSES = [
  'RECEIVED',
  'RUNNING',
  'WAITING_ON_QUALTRICS',
  'COMPLETED',
  'FAILED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RequestStatus[] = ['COMPLETED', 'FAILED'];
export const isTerminalStatus = (s: RequestStatus): boolean => TERMINAL_STATUSES.includes(s);

/** Request ids are UUIDs, accepted in any case and stored lower-case (`normalizeRequestId`). */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/** The stored form of a request id, or undefined when `value` is not one. */
export function normalizeRequestId(value: unknown): string | undefined {
  return isRequestId(value) ? value.toLowerCase() : undefined;
}

/** A request id in a step's input (the state machines pass the stored form along). */
export const requestIdSchema = z.string().regex(REQUEST_ID);

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const oneOf = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(', ');
const typeRule = `type must be ${REQUEST_TYPES.map((t) => `"${t}"`).join(' or ')}`;
const receivedAtRule =
  'receivedAt must be an ISO-8601 instant with Z or an offset, e.g. 2026-01-31T10:00:00Z';

const SUBMITTED_FIELDS = {
  type: z.enum(REQUEST_TYPES, { error: typeRule }),
  // The model checks the outline; `emailProblem` is the whole rule, and says what is wrong.
  email: z
    .string({ error: (issue) => emailProblem(issue.input) ?? 'email is not a valid address' })
    .max(EMAIL_MAX_LENGTH)
    .regex(EMAIL_OUTLINE)
    .superRefine((value, ctx) => {
      const problem = emailProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
  idempotencyKey: z
    .string({ error: 'idempotencyKey must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
    .regex(IDEMPOTENCY_KEY_PATTERN)
    .optional(),
  // Defaults (QDSR_DEFAULT_JURISDICTION or gdpr; now; unspecified) are the store's: one place.
  jurisdiction: z
    .enum(JURISDICTIONS, { error: `jurisdiction must be one of ${oneOf(JURISDICTIONS)}` })
    .optional(),
  // The model says string; the form is checked here, the time bounds (now + 5 min, now − 400 days)
  // by the store against its clock (`receivedAtProblem`).
  receivedAt: z
    .string({ error: receivedAtRule })
    .max(64, { error: receivedAtRule })
    .refine((value) => parseInstant(value) !== undefined, { error: receivedAtRule })
    .optional(),
  channel: z.enum(CHANNELS, { error: `channel must be one of ${oneOf(CHANNELS)}` }).optional(),
};

/** Set by the connector, never by the submitter (so not in the API Gateway model). */
const CONNECTOR_FIELDS = {
  /** Which entry point recorded the request. */
  source: z.enum(SOURCES, { error: `source must be one of ${oneOf(SOURCES)}` }),
};

/** The rules between fields, which the API Gateway model does not say. */
function crossFieldRules(value: { type: RequestType; dryRun?: boolean }, ctx: z.RefinementCtx): void {
  if (value.dryRun !== undefined && value.type !== 'deletion') {
    ctx.addIssue({ code: 'custom', path: ['dryRun'], message: 'dryRun is only valid for deletion requests' });
  }
}

/** What a submitter sends: the body of `POST /requests`, the detail of an intake event, the CLI's arguments. */
export const requestSubmission = z.strictObject(SUBMITTED_FIELDS).superRefine(crossFieldRules);
export type RequestSubmission = z.output<typeof requestSubmission>;

/** What `RequestStore.create` records: a submission plus what the connector sets. */
export const newRequest = z
  .strictObject({ ...SUBMITTED_FIELDS, ...CONNECTOR_FIELDS })
  .superRefine(crossFieldRules);
export type NewRequest = z.output<typeof newRequest>;

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Validates `value` against a contract schema; the problems name fields and rules, never values. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): Validated<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const fields = objectFields(schema);
  const problems = parsed.error.issues.map((issue) => describeIssue(issue, value, fields));
  return { ok: false, problems: [...new Set(problems)] };
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, fields: readonly string[]): string {
  if (issue.code === 'unrecognized_keys') {
    // Name the fields only when they look like field names: a key may itself be personal data.
    const shown =
      issue.keys.length <= 5 && issue.keys.every((k) => /^[A-Za-z_$][A-Za-z0-9_$]{0,39}$/.test(k));
    const allowed = `allowed: ${fields.join(', ')}`;
    return shown
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (${allowed})`
      : `the body has unknown fields (${allowed})`;
  }
  if (issue.path.length === 0) return 'the request must be a JSON object';
  const field = String(issue.path[0]);
  if (typeof value === 'object' && value !== null && !Object.hasOwn(value, field))
    return `${field} is required`;
  // Every field's messages are the contract's own (above), which never quote the value.
  return issue.message;
}

function objectFields(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
