import { describe, expect, it } from 'vitest';
import { EMAIL_OUTLINE } from './privacy';
import {
  IDEMPOTENCY_KEY_PATTERN,
  isRequestId,
  newRequest,
  normalizeRequestId,
  requestIdSchema,
  requestSubmission,
  validate,
} from './request-contract';

const CANARY = 'zz-contract-canary';
const EMAIL = `${CANARY}@example.com`;
const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

const problemsOf = (value: unknown): string[] => {
  const result = validate(requestSubmission, value);
  return result.ok ? [] : result.problems;
};

describe('request submissions', () => {
  it('accepts the fields of a request and nothing else', () => {
    expect(validate(requestSubmission, { type: 'deletion', email: EMAIL, dryRun: true })).toEqual({
      ok: true,
      value: { type: 'deletion', email: EMAIL, dryRun: true },
    });
    expect(problemsOf({ type: 'access', email: EMAIL, role: 'admin' })).toEqual([
      'unknown field role (allowed: type, email, dryRun, idempotencyKey, jurisdiction, receivedAt, channel)',
    ]);
    expect(problemsOf({ type: 'access', email: EMAIL, dryRun: false })).toEqual([
      'dryRun is only valid for deletion requests',
    ]);
    expect(problemsOf({})).toEqual(['type is required', 'email is required']);
  });

  it('gives every field a message of its own that never quotes the value', () => {
    const fields = Object.keys(requestSubmission.shape);
    expect(fields).toEqual([
      'type',
      'email',
      'dryRun',
      'idempotencyKey',
      'jurisdiction',
      'receivedAt',
      'channel',
    ]);
    for (const field of fields) {
      const body = { type: 'deletion', email: EMAIL, [field]: { [CANARY]: EMAIL } };
      const problems = problemsOf(body);
      expect(problems, field).toHaveLength(1);
      expect(problems[0], field).toMatch(new RegExp(`^${field} `));
      expect(problems[0]?.toLowerCase(), field).not.toContain(CANARY);
    }
    expect(problemsOf({ type: 'access', email: `${CANARY} x@example.com` })).toEqual([
      'email contains whitespace',
    ]);
    expect(problemsOf({ type: `${CANARY}`, email: EMAIL })).toEqual(['type must be "access" or "deletion"']);
    // A key that may itself be personal data is not named.
    expect(problemsOf({ type: 'access', email: EMAIL, [EMAIL]: 1 })[0]).toBe(
      'the body has unknown fields (allowed: type, email, dryRun, idempotencyKey, jurisdiction, receivedAt, channel)',
    );
  });

  it('validates what the store records like what a submitter sends', () => {
    const bodies = [
      { type: 'access', email: EMAIL },
      { type: 'access', email: EMAIL, dryRun: true },
      { type: 'deletion', email: EMAIL, idempotencyKey: 'a b' },
      { type: 'erase', email: EMAIL },
    ];
    for (const body of bodies) {
      const recorded = validate(newRequest, { ...body, source: 'api' });
      const submitted = validate(requestSubmission, body);
      expect(recorded.ok, JSON.stringify(body)).toBe(submitted.ok);
      if (recorded.ok && submitted.ok) expect(recorded.value).toEqual({ ...submitted.value, source: 'api' });
      else expect(recorded).toEqual(submitted);
    }
  });

  it('takes the source from the connector, never from the submitter', () => {
    expect(problemsOf({ type: 'access', email: EMAIL, source: 'api' })[0]).toMatch(/^unknown field source /);
    expect(validate(newRequest, { type: 'access', email: EMAIL }).ok).toBe(false);
    expect(validate(newRequest, { type: 'access', email: EMAIL, source: 'fax' })).toEqual({
      ok: false,
      problems: ['source must be one of "api", "event", "cli", "import"'],
    });
  });

  it('idempotency keys are 1-128 characters of A-Z a-z 0-9 . _ : -', () => {
    for (const key of ['a', 'crm:case-42.v1', 'K'.repeat(128), 'event:0f6e2f4a-1b2c']) {
      expect(IDEMPOTENCY_KEY_PATTERN.test(key), key).toBe(true);
    }
    for (const key of ['', 'K'.repeat(129), 'a b', 'schlüssel', 'a/b']) {
      expect(IDEMPOTENCY_KEY_PATTERN.test(key), key).toBe(false);
    }
  });

  it('the email outline the model checks holds for every address the full rule accepts', () => {
    for (const email of ['a@b.co', 'Jane.Doe+x@Example.COM', 'jöhn@exämple.org', '😀@example.com']) {
      expect(problemsOf({ type: 'access', email }), email).toEqual([]);
      expect(EMAIL_OUTLINE.test(email), email).toBe(true);
    }
  });
});

describe('request ids', () => {
  it('are UUIDs in any case, stored lower-case', () => {
    expect(isRequestId(ID)).toBe(true);
    expect(isRequestId(ID.toUpperCase())).toBe(true);
    expect(normalizeRequestId(ID.toUpperCase())).toBe(ID);
    expect(requestIdSchema.safeParse(ID.toUpperCase()).success).toBe(true);
    for (const bad of [
      `${ID} `,
      `${ID}\u0000`,
      `../${ID}`,
      ID.replace(/-/g, ''),
      'not-a-uuid',
      42,
      undefined,
    ]) {
      expect(isRequestId(bad), String(bad)).toBe(false);
      expect(normalizeRequestId(bad), String(bad)).toBeUndefined();
    }
  });
});
