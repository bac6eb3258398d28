import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PrivacyApi } from '../../infra/constructs/api';
import {
  ApiError,
  batchSubmission,
  bulkRetryRequest,
  extensionRequest,
  parseExtensionRequest,
  parseSubjectSearch,
  subjectSearch,
  validateCreateRequest,
} from '../../lambdas/core/api';
import { validateBody } from '../../lambdas/core/api/body';
import { requestSubmission } from '../../lambdas/core/request-contract';
import { CASES } from '../api/hostile-requests';
import { HOSTILE_BODIES, HOSTILE_EMAILS, HOSTILE_KEYS } from '../faults/hostile-inputs';
import { type CfnTemplate, resourcesOfType } from './support';

/**
 * API Gateway's `POST /requests` model against the handler's validation: the model is generated
 * from the request contract, and must never reject a body the local API accepts (it may accept
 * more: the handler checks again). The model is run by a JSON Schema draft-04 validator, the
 * version API Gateway implements.
 */

interface SynthesizedApi {
  /** The `POST /requests` model. */
  schema: Record<string, unknown>;
  /** Every model by its name. */
  models: Record<string, Record<string, unknown>>;
  /** The message API Gateway answers a body a model rejects with. */
  badBodyMessage: string;
}

/** The PrivacyApi construct alone, in a stack of its own: quick, and the same construct the app uses. */
function synthApi(submission?: z.ZodType): SynthesizedApi {
  const stack = new Stack(new App(), 'RequestModel');
  const handler = new LambdaFunction(stack, 'Handler', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({ statusCode: 204 });'),
  });
  new PrivacyApi(stack, 'Api', { handler, submission });
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;
  const models = Object.fromEntries(
    resourcesOfType(json, 'AWS::ApiGateway::Model').map(([, p]) => [
      String(p.Name),
      p.Schema as Record<string, unknown>,
    ]),
  );
  expect(Object.keys(models).sort()).toEqual([
    'CreatePrivacyRequest',
    'ExtendPrivacyRequest',
    'RetryFailedPrivacyRequests',
    'SearchPrivacyRequests',
    'SubmitPrivacyRequestBatch',
  ]);
  const response = resourcesOfType(json, 'AWS::ApiGateway::GatewayResponse').find(
    ([, p]) => p.ResponseType === 'BAD_REQUEST_BODY',
  );
  const templates = (response?.[1].ResponseTemplates ?? {}) as Record<string, string>;
  const template = templates['application/json'] ?? '';
  const badBody = JSON.parse(template) as { error: { message: string } };
  return { schema: models.CreatePrivacyRequest!, models, badBodyMessage: badBody.error.message };
}

function modelValidator(schema: Record<string, unknown>): (body: unknown) => boolean {
  expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
  const ajv = new Ajv({ strict: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (body) => validate(body) === true;
}

/** Whether the local API (and the EventBridge intake) accepts `body`, and its message if not. */
function locally(body: unknown): { accepted: true } | { accepted: false; message: string } {
  try {
    validateCreateRequest(body);
    return { accepted: true };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { accepted: false, message: e.message };
  }
}

const SUBJECT = 'subject@example.com';

/** Addresses at the edges of the email rule: all valid. */
const VALID_EMAILS = [
  SUBJECT,
  'Jane.Doe+dsr@Example.COM',
  "o'brien@example.ie",
  '!#$%&*+/=?^_`{|}~-@example.org',
  'jöhn@exämple.org',
  '用户@例子.广告',
  '😀@example.com',
  'a@b.co',
  // 254 characters, the longest allowed.
  `${'a'.repeat(64)}@${'b'.repeat(185)}.com`,
  // 254 UTF-16 code units but 194 code points: JSON Schema counts code points, the handler units.
  `${'😀'.repeat(60)}@${'b'.repeat(129)}.com`,
];

const VALID_OPTIONS: Array<Record<string, unknown>> = [
  { type: 'access' },
  { type: 'deletion' },
  { type: 'deletion', dryRun: true },
  { type: 'deletion', dryRun: false },
  { type: 'access', idempotencyKey: 'crm:case-42.v1' },
  { type: 'deletion', dryRun: true, idempotencyKey: 'K'.repeat(128) },
  { type: 'access', idempotencyKey: 'a' },
  { type: 'deletion', idempotencyKey: 'event:0f6e2f4a-1b2c-4d5e-8f90-123456789abc' },
  // The ledger's fields; receivedAt's time bounds are the store's (they move with the clock).
  { type: 'access', jurisdiction: 'ccpa', channel: 'web-form' },
  { type: 'deletion', jurisdiction: 'uk-gdpr', receivedAt: new Date().toISOString(), channel: 'email' },
  { type: 'access', jurisdiction: 'us-state', receivedAt: '2026-01-31T10:00:00+01:00', channel: 'phone' },
  { type: 'deletion', dryRun: true, jurisdiction: 'gdpr', receivedAt: '2026-01-31T10:00:00.123Z' },
  { type: 'access', channel: 'authorized-agent', receivedAt: '2025-12-31T23:59:59.999999-08:00' },
  { type: 'access', channel: 'in-person' },
  { type: 'deletion', channel: 'mail', jurisdiction: 'gdpr' },
  { type: 'access', channel: 'other' },
  { type: 'deletion', channel: 'unspecified', idempotencyKey: 'import:row-7' },
];

const VALID_BODIES = VALID_EMAILS.flatMap((email) => VALID_OPTIONS.map((o) => ({ ...o, email })));

/** Every JSON body of the hostile tables: whole bodies, and each hostile email and key in a body. */
function hostileBodies(): Array<{ name: string; body: unknown }> {
  const rows: Array<{ name: string; body: unknown }> = [
    ...HOSTILE_BODIES.map((r) => ({ name: `body: ${r.name}`, body: r.value })),
    ...HOSTILE_EMAILS.map((r) => ({ name: `email: ${r.name}`, body: { type: 'access', email: r.value } })),
    ...HOSTILE_KEYS.map((r) => ({
      name: `key: ${r.name}`,
      body: { type: 'access', email: SUBJECT, idempotencyKey: r.value },
    })),
  ];
  for (const c of CASES) {
    if (c.json !== undefined) rows.push({ name: `http: ${c.name}`, body: c.json });
    else if (typeof c.body === 'string') {
      try {
        rows.push({ name: `http: ${c.name}`, body: JSON.parse(c.body) });
      } catch {
        // Not JSON: API Gateway answers 400 before the model, the local API INVALID_JSON.
      }
    }
  }
  return rows;
}

describe('the POST /requests model', () => {
  const app = synthApi();
  const model = modelValidator(app.schema);

  it('accepts every valid body the local API accepts', () => {
    expect(VALID_BODIES.length).toBeGreaterThanOrEqual(80);
    for (const body of VALID_BODIES) {
      expect(locally(body), JSON.stringify(body)).toEqual({ accepted: true });
      expect(model(body), JSON.stringify(body)).toBe(true);
    }
  });

  it('never rejects a hostile body the local API accepts, and leaves out only rules it cannot say', () => {
    const rows = hostileBodies();
    expect(rows.length).toBeGreaterThanOrEqual(100);
    const leftToTheHandler: string[] = [];
    for (const { name, body } of rows) {
      const local = locally(body);
      if (local.accepted) {
        expect(model(body), name).toBe(true);
        continue;
      }
      if (!model(body)) continue;
      leftToTheHandler.push(name);
      // What the model lets through, the handler refuses by a rule JSON Schema does not carry:
      // the finer email rules, dryRun only with deletion, and the form of receivedAt (a string to the model).
      expect(local.message, name).toMatch(
        /^(email (is|contains) |dryRun is only valid for deletion requests$|receivedAt must be an ISO-8601 instant)/,
      );
      expect(local.message, name).not.toMatch(/must be a string|is required/);
    }
    // The model still does its part: wrong types, missing and unknown fields, bad keys never pass it.
    expect(leftToTheHandler.length).toBeGreaterThan(0);
    expect(leftToTheHandler.length).toBeLessThan(rows.length / 2);
    for (const name of leftToTheHandler) expect(name).toMatch(/^(email|http|body): /);
    expect(leftToTheHandler.filter((n) => n.startsWith('key: '))).toEqual([]);
  });

  it('rejects what JSON Schema can say is wrong', () => {
    const rejected = [
      {},
      { type: 'access' },
      { email: SUBJECT },
      { type: 'export', email: SUBJECT },
      { type: 'deletion', email: SUBJECT, dryRun: 'yes' },
      { type: 'access', email: 'not an email' },
      { type: 'access', email: `${'a'.repeat(250)}@b.co` },
      { type: 'access', email: SUBJECT, idempotencyKey: '' },
      { type: 'access', email: SUBJECT, idempotencyKey: 'has space' },
      { type: 'access', email: SUBJECT, idempotencyKey: 'K'.repeat(129) },
      { type: 'access', email: SUBJECT, name: 'extra field' },
      { type: 'access', email: SUBJECT, jurisdiction: 'eu' },
      { type: 'access', email: SUBJECT, channel: 'fax' },
      { type: 'access', email: SUBJECT, receivedAt: 1769853600000 },
      { type: 'access', email: SUBJECT, receivedAt: `2026-01-31T10:00:00Z${' '.repeat(60)}` },
      { type: 'access', email: SUBJECT, source: 'api' },
    ];
    for (const body of rejected) {
      expect(model(body), JSON.stringify(body)).toBe(false);
      expect(locally(body).accepted, JSON.stringify(body)).toBe(false);
    }
  });

  it('leaves the form and the bounds of receivedAt to the handler and the store', () => {
    for (const receivedAt of ['yesterday', '2026-01-31', '2026-01-31T10:00:00']) {
      const body = { type: 'access', email: SUBJECT, receivedAt };
      expect(model(body), receivedAt).toBe(true);
      expect(locally(body), receivedAt).toEqual({
        accepted: false,
        message: 'receivedAt must be an ISO-8601 instant with Z or an offset, e.g. 2026-01-31T10:00:00Z',
      });
    }
  });

  it('tells a rejected caller the fields, never the value', () => {
    // One text for every body (API Gateway has one BAD_REQUEST_BODY answer per API).
    expect(app.badBodyMessage).toBe(
      'the body must be JSON with no other fields: POST /requests {type: access|deletion, email, dryRun?, idempotencyKey?, jurisdiction?: gdpr|uk-gdpr|ccpa|us-state, receivedAt?, channel?: web-form|email|phone|mail|in-person|authorized-agent|other|unspecified}; POST /requests/search {email}; POST /requests/batch {requests}; POST /requests/retry {status: FAILED, type?: access|deletion, since?, until?, errorCode?}; POST /requests/{id}/extend {reason}',
    );
  });
});

describe('the POST /requests/search and POST /requests/{id}/extend models', () => {
  const app = synthApi();
  const search = modelValidator(app.models.SearchPrivacyRequests!);
  const extend = modelValidator(app.models.ExtendPrivacyRequest!);
  const handler = (parse: (body: unknown) => unknown) => (body: unknown) => {
    try {
      parse(body);
      return true;
    } catch (e) {
      if (e instanceof ApiError) return false;
      throw e;
    }
  };
  const json = (body: unknown) => ({
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const searchLocally = handler((b) => parseSubjectSearch(json(b)));
  const extendLocally = handler((b) => parseExtensionRequest(json(b)));

  it('are generated from the bodies’ zod definitions', () => {
    const { title: searchTitle, ...searchSchema } = app.models.SearchPrivacyRequests!;
    expect(searchTitle).toBe('SearchPrivacyRequests');
    expect(searchSchema).toEqual(z.toJSONSchema(subjectSearch, { target: 'draft-04', io: 'input' }));
    const { title: extendTitle, ...extendSchema } = app.models.ExtendPrivacyRequest!;
    expect(extendTitle).toBe('ExtendPrivacyRequest');
    expect(extendSchema).toEqual(z.toJSONSchema(extensionRequest, { target: 'draft-04', io: 'input' }));
  });

  it('accept every body the local API accepts', () => {
    for (const email of VALID_EMAILS) {
      expect(searchLocally({ email }), email).toBe(true);
      expect(search({ email }), email).toBe(true);
    }
    for (const reason of ['x', 'complex request: several systems', 'ü'.repeat(500), ` ${'y'.repeat(498)} `]) {
      expect(extendLocally({ reason }), reason).toBe(true);
      expect(extend({ reason }), reason).toBe(true);
    }
  });

  it('reject what JSON Schema can say is wrong; the local API refuses it too', () => {
    const rejected: Array<[(b: unknown) => boolean, (b: unknown) => boolean, unknown]> = [
      [search, searchLocally, {}],
      [search, searchLocally, { email: SUBJECT, type: 'access' }],
      [search, searchLocally, { email: 42 }],
      [search, searchLocally, { email: 'not an email' }],
      [search, searchLocally, [SUBJECT]],
      [extend, extendLocally, {}],
      [extend, extendLocally, { reason: '' }],
      [extend, extendLocally, { reason: '   ' }],
      [extend, extendLocally, { reason: 'x'.repeat(501) }],
      [extend, extendLocally, { reason: 'x', until: '2026-05-01' }],
    ];
    for (const [model, locally, body] of rejected) {
      expect(model(body), JSON.stringify(body)).toBe(false);
      expect(locally(body), JSON.stringify(body)).toBe(false);
    }
    // The finer email rules are the handler's alone, as for POST /requests.
    expect(search({ email: 'jane\u202e@example.com' })).toBe(true);
    expect(searchLocally({ email: 'jane\u202e@example.com' })).toBe(false);
  });
});

describe('the bulk models (POST /requests/batch, POST /requests/retry)', () => {
  const app = synthApi();
  const batch = modelValidator(app.models.SubmitPrivacyRequestBatch!);
  const retry = modelValidator(app.models.RetryFailedPrivacyRequests!);
  const locally = (schema: z.ZodType) => (body: unknown) => {
    try {
      validateBody(schema, body);
      return true;
    } catch (e) {
      if (e instanceof ApiError) return false;
      throw e;
    }
  };
  const batchLocally = locally(batchSubmission);
  const retryLocally = locally(bulkRetryRequest);

  it('let a batch with a bad item through (each item is answered on its own), up to 500 items', () => {
    const good = { type: 'access', email: SUBJECT };
    for (const body of [
      { requests: [good] },
      { requests: [good, { type: 'nope' }, 42, null] },
      { requests: Array.from({ length: 500 }, () => good) },
    ]) {
      expect(batch(body)).toBe(true);
      expect(batchLocally(body)).toBe(true);
    }
    for (const body of [
      {},
      { requests: [] },
      { requests: Array.from({ length: 501 }, () => good) },
      { requests: good },
      { requests: [good], more: 1 },
    ]) {
      expect(batch(body), JSON.stringify(body).slice(0, 80)).toBe(false);
      expect(batchLocally(body), JSON.stringify(body).slice(0, 80)).toBe(false);
    }
  });

  it('retry FAILED requests only, with the filters the handler knows', () => {
    for (const body of [
      { status: 'FAILED' },
      {
        status: 'FAILED',
        type: 'deletion',
        since: '2026-01-01',
        until: '2026-02-01T00:00:00Z',
        errorCode: 'QUALTRICS_AUTH',
      },
    ]) {
      expect(retry(body)).toBe(true);
      expect(retryLocally(body)).toBe(true);
    }
    for (const body of [
      {},
      { status: 'COMPLETED' },
      { status: 'FAILED', type: 'other' },
      { status: 'FAILED', errorCode: 'lower case' },
      { status: 'FAILED', email: SUBJECT },
    ]) {
      expect(retry(body), JSON.stringify(body)).toBe(false);
      expect(retryLocally(body), JSON.stringify(body)).toBe(false);
    }
    // Dates are the handler's to read, as for the list's query.
    expect(retryLocally({ status: 'FAILED', since: 'yesterday' })).toBe(false);
    expect(retryLocally({ status: 'FAILED', since: '2026-02-01', until: '2026-01-01' })).toBe(false);
  });
});

describe('the model comes from the request contract', () => {
  it('changes when the zod definition changes', () => {
    const before = synthApi();
    const extended = requestSubmission.safeExtend({
      language: z.enum(['en', 'de', 'fr']).optional(),
      region: z.enum(['eu', 'us']),
      verifiedAt: z.iso.datetime({ offset: true }).optional(),
    });
    const after = synthApi(extended);
    const properties = (s: Record<string, unknown>) =>
      s.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties(before.schema))).toEqual([
      'type',
      'email',
      'dryRun',
      'idempotencyKey',
      'jurisdiction',
      'receivedAt',
      'channel',
    ]);
    expect(properties(after.schema).language).toEqual({ type: 'string', enum: ['en', 'de', 'fr'] });
    expect(properties(after.schema).verifiedAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(after.schema.required).toEqual(['type', 'email', 'region']);
    expect(after.badBodyMessage).toContain('language?: en|de|fr, region: eu|us');

    const model = modelValidator(after.schema);
    const body = { type: 'access', email: SUBJECT, language: 'de', region: 'eu' };
    expect(model(body)).toBe(true);
    expect(model({ ...body, language: 'xx' })).toBe(false);
    expect(model({ type: 'access', email: SUBJECT })).toBe(false);
    expect(modelValidator(before.schema)(body)).toBe(false);
  });

  it('refuses a field JSON Schema cannot describe instead of leaving it out of the model', () => {
    expect(() => synthApi(requestSubmission.safeExtend({ at: z.date() }))).toThrow();
  });
});
