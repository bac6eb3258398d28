import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { ErrorNames, InputError } from '../errors';
import { loadRequest } from '../workflow/env';
import {
  EmailForgottenError,
  ExtensionRefusedError,
  idempotencyPk,
  RequestNotFoundError,
  RequestStore,
  type RequestStoreOptions,
  requestStoreFromEnv,
} from '.';

/**
 * The ledger's writes on dynalite: what a request records at submission (defaults, bounds), its
 * due dates and their one extension, its answer, its retention, and the minimization of its email.
 */

const EMAIL = 'Jane.Doe@Example.com';
const DAY_MS = 86_400_000;

let aws: LocalAws;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let clock = Date.parse('2026-01-31T10:00:00.000Z');

const storeWith = (opts: Partial<RequestStoreOptions> = {}) =>
  new RequestStore({ doc, tableName: aws.names.requestsTable, now: () => new Date(clock), ...opts });

beforeAll(async () => {
  aws = await startLocalAws();
  // requestStoreFromEnv uses the shared client, which applyEnv points here.
  aws.applyEnv();
  client = new DynamoDBClient({
    endpoint: aws.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(client);
});
afterAll(async () => {
  client?.destroy();
  await aws?.close();
});

const raw = async (pk: string) =>
  (await doc.send(new GetCommand({ TableName: aws.names.requestsTable, Key: { pk } }))).Item;
const epoch = (iso: string | number) => Math.floor(new Date(iso).getTime() / 1000);

describe('submission', () => {
  it('records the ledger fields with their defaults, and the connector-set source', async () => {
    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const { record } = await storeWith().create({ source: 'cli', type: 'access', email: EMAIL });
    expect(record).toMatchObject({
      jurisdiction: 'gdpr',
      receivedAt: '2026-01-31T10:00:00.000Z',
      channel: 'unspecified',
      source: 'cli',
      dueAt: '2026-02-28T10:00:00.000Z',
      effectiveDueAt: '2026-02-28T10:00:00.000Z',
    });
    expect(record.extendedDueAt).toBeUndefined();
    const doc = await storeWith().getStatusDocument(record.requestId);
    expect(doc).toMatchObject({
      jurisdiction: 'gdpr',
      receivedAt: '2026-01-31T10:00:00.000Z',
      channel: 'unspecified',
      source: 'cli',
      dueAt: '2026-02-28T10:00:00.000Z',
      extendedDueAt: null,
      respondedAt: null,
      outcome: null,
      daysToRespond: null,
      overdue: false,
    });
    // The default jurisdiction is the deployment's.
    const ccpa = await storeWith({ defaultJurisdiction: 'ccpa' }).create({
      source: 'api',
      type: 'access',
      email: EMAIL,
    });
    expect(ccpa.record).toMatchObject({ jurisdiction: 'ccpa', dueAt: '2026-03-17T10:00:00.000Z' });
  });

  it('takes a receipt time with an offset, normalized to UTC, and dates from it', async () => {
    clock = Date.parse('2026-06-01T00:00:00.000Z');
    const { record } = await storeWith().create({
      source: 'api',
      type: 'deletion',
      email: EMAIL,
      jurisdiction: 'ccpa',
      receivedAt: '2026-05-01T09:00:00+02:00',
      channel: 'phone',
    });
    expect(record).toMatchObject({
      receivedAt: '2026-05-01T07:00:00.000Z',
      channel: 'phone',
      dueAt: '2026-06-15T07:00:00.000Z',
    });
  });

  it('refuses an unknown jurisdiction or channel, a receipt in the future or too old — recording nothing', async () => {
    clock = Date.parse('2026-06-01T00:00:00.000Z');
    const store = storeWith();
    const before = (await store.list({ limit: 500 })).requests.length;
    const bad = [
      [{ jurisdiction: 'eu' }, 'jurisdiction must be one of "gdpr", "uk-gdpr", "ccpa", "us-state"'],
      [{ channel: 'fax' }, 'channel must be one of'],
      [
        { receivedAt: '2026-06-01T00:05:00.001Z' },
        'receivedAt must not be more than 5 minutes in the future',
      ],
      [{ receivedAt: '2025-04-26T23:59:59.999Z' }, 'receivedAt must not be more than 400 days in the past'],
      [{ receivedAt: '2026-05-01' }, 'receivedAt must be an ISO-8601 instant'],
      [{ receivedAt: '2026-05-01T10:00:00' }, 'receivedAt must be an ISO-8601 instant'],
      [{ source: 'mail' }, 'source must be one of'],
    ] as const;
    for (const [fields, message] of bad) {
      const err = await store
        .create({
          source: 'api',
          type: 'access',
          email: EMAIL,
          idempotencyKey: 'refused-1',
          ...fields,
        } as never)
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(fields)).toBeInstanceOf(InputError);
      expect((err as Error).message).toContain(message);
      expect((err as Error).message).not.toContain('2026-05');
    }
    expect((await store.list({ limit: 500 })).requests.length).toBe(before);
    expect(await raw(idempotencyPk('refused-1'))).toBeUndefined();
    // The edges themselves are accepted.
    await expect(
      store.create({ source: 'api', type: 'access', email: EMAIL, receivedAt: '2026-06-01T00:05:00Z' }),
    ).resolves.toMatchObject({ created: true });
    await expect(
      store.create({ source: 'api', type: 'access', email: EMAIL, receivedAt: '2025-04-27T00:00:00Z' }),
    ).resolves.toMatchObject({ created: true });
  });

  it("a replay keeps the first submission's ledger fields", async () => {
    clock = Date.parse('2026-06-01T00:00:00.000Z');
    const store = storeWith();
    const first = await store.create({
      source: 'event',
      type: 'access',
      email: EMAIL,
      jurisdiction: 'uk-gdpr',
      channel: 'email',
      idempotencyKey: 'replay-ledger',
    });
    const again = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      jurisdiction: 'ccpa',
      channel: 'phone',
      receivedAt: '2026-05-30T00:00:00Z',
      idempotencyKey: 'replay-ledger',
    });
    expect(again.created).toBe(false);
    expect(again.record).toMatchObject({
      requestId: first.record.requestId,
      jurisdiction: 'uk-gdpr',
      channel: 'email',
      source: 'event',
      receivedAt: first.record.receivedAt,
    });
    // The key is kept as long as the record is at first.
    expect((await raw(idempotencyPk('replay-ledger')))?.expiresAt).toBe(first.record.expiresAt);
  });
});

describe('extension', () => {
  it('GDPR: extends once to three months from receipt, before the first due date', async () => {
    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const store = storeWith();
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    clock = Date.parse('2026-02-28T10:00:00.000Z'); // the due date itself: not past it
    const reason = 'complex request: several systems (contact jane.doe@example.com)';
    const extended = await store.extend(record.requestId, reason);
    expect(extended).toMatchObject({
      dueAt: '2026-02-28T10:00:00.000Z',
      extendedDueAt: '2026-04-30T10:00:00.000Z',
      effectiveDueAt: '2026-04-30T10:00:00.000Z',
    });
    // The reason stays in the record (scrubbed), never in the timeline or the status document.
    expect(extended.extension).toEqual({
      at: '2026-02-28T10:00:00.000Z',
      reason: 'complex request: several systems (contact j***@example.com)',
    });
    const doc = await store.getStatusDocument(record.requestId);
    expect(doc?.timeline.at(-1)).toEqual({
      at: '2026-02-28T10:00:00.000Z',
      step: 'EXTENDED',
      detail: 'due date extended to 2026-04-30T10:00:00.000Z',
    });
    expect(JSON.stringify(doc)).not.toContain('several systems');
    expect(doc).toMatchObject({ extendedDueAt: '2026-04-30T10:00:00.000Z', overdue: false });
    // Past the first due date but within the extension: not overdue.
    clock = Date.parse('2026-04-01T00:00:00.000Z');
    expect((await store.getStatusDocument(record.requestId))?.overdue).toBe(false);
    clock = Date.parse('2026-04-30T10:00:00.001Z');
    expect((await store.getStatusDocument(record.requestId))?.overdue).toBe(true);

    const again = await store.extend(record.requestId, 'once more').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ExtensionRefusedError);
    expect(again).toMatchObject({ code: 'ALREADY_EXTENDED', name: ErrorNames.RequestConflict });
  });

  it('CCPA: 45 days, extended to 90; refused once overdue or COMPLETED; a FAILED request may be extended', async () => {
    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const store = storeWith();
    const late = await store.create({ source: 'api', type: 'deletion', email: EMAIL, jurisdiction: 'ccpa' });
    const done = await store.create({ source: 'api', type: 'deletion', email: EMAIL, jurisdiction: 'ccpa' });
    const failed = await store.create({
      source: 'api',
      type: 'deletion',
      email: EMAIL,
      jurisdiction: 'ccpa',
    });
    expect(late.record.dueAt).toBe('2026-03-17T10:00:00.000Z');
    await store.complete(done.record.requestId, { outcome: 'deleted' });
    await store.fail(failed.record.requestId, { code: 'X', message: 'x' });

    clock = Date.parse('2026-03-17T10:00:00.001Z');
    expect((await store.getStatusDocument(late.record.requestId))?.overdue).toBe(true);
    expect((await store.getStatusDocument(done.record.requestId))?.overdue).toBe(false);
    for (const [id, code] of [
      [late.record.requestId, 'OVERDUE'],
      [done.record.requestId, 'ALREADY_COMPLETED'],
    ] as const) {
      const err = await store.extend(id, 'need more time').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExtensionRefusedError);
      expect((err as ExtensionRefusedError).code).toBe(code);
    }
    clock = Date.parse('2026-03-01T00:00:00.000Z');
    await expect(store.extend(failed.record.requestId, 'retrying')).resolves.toMatchObject({
      extendedDueAt: '2026-05-01T10:00:00.000Z',
    });
    await expect(store.extend('00000000-0000-4000-8000-00000000dead', 'x')).rejects.toBeInstanceOf(
      RequestNotFoundError,
    );
    for (const reason of ['', '   ', 'x'.repeat(501)]) {
      await expect(store.extend(late.record.requestId, reason)).rejects.toBeInstanceOf(InputError);
    }
  });

  it('two extensions at once: one wins, the other is ALREADY_EXTENDED', async () => {
    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const store = storeWith();
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => store.extend(record.requestId, `reason ${i}`)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ALREADY_EXTENDED' });
    }
    expect((await store.get(record.requestId))?.timeline.filter((t) => t.step === 'EXTENDED')).toHaveLength(
      1,
    );
  });
});

describe('answer and retention', () => {
  it('a completed request keeps its record 730 days after it was answered; an unanswered one after receipt', async () => {
    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const store = storeWith();
    const { record } = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      receivedAt: '2026-01-29T22:00:00Z',
    });
    clock = Date.parse('2026-02-03T10:00:00.000Z');
    const done = await store.complete(record.requestId, { outcome: 'data-provided' });
    expect(done).toMatchObject({
      respondedAt: '2026-02-03T10:00:00.000Z',
      outcome: 'data-provided',
      expiresAt: epoch('2026-02-03T10:00:00Z') + 730 * 86_400,
      forgetEmailAt: '2026-03-05T10:00:00.000Z',
    });
    expect((await store.getStatusDocument(record.requestId))?.daysToRespond).toBe(4.5);

    clock = Date.parse('2026-01-31T10:00:00.000Z');
    const other = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      receivedAt: '2026-01-30T10:00:00Z',
    });
    clock = Date.parse('2026-02-10T10:00:00.000Z');
    const failed = await store.fail(other.record.requestId, { code: 'X', message: 'x' });
    expect(failed.expiresAt).toBe(epoch('2026-01-30T10:00:00Z') + 730 * 86_400);
    expect(failed.forgetEmailAt).toBeUndefined();
  });

  it('a retention shorter than the default still keeps an open request and a just-failed one', async () => {
    clock = Date.parse('2026-06-01T00:00:00.000Z');
    const store = storeWith({ retentionDays: 30 });
    const { record } = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      receivedAt: '2026-03-01T00:00:00Z',
    });
    expect(record.expiresAt).toBe(epoch(clock) + 30 * 86_400);
    const failed = await store.fail(record.requestId, { code: 'X', message: 'x' });
    expect(failed.expiresAt).toBe(epoch(clock) + 86_400);
    expect(await store.get(record.requestId)).toBeDefined();
  });

  it('requestStoreFromEnv reads the settings, and warns once of a short retention', async () => {
    const warnings: string[] = [];
    const env = {
      QDSR_REQUESTS_TABLE: aws.names.requestsTable,
      QDSR_RECORD_RETENTION_DAYS: '400',
      QDSR_FORGET_EMAIL_AFTER_DAYS: '7',
      QDSR_DEFAULT_JURISDICTION: 'us-state',
    };
    const store = requestStoreFromEnv(env, (m) => warnings.push(m));
    requestStoreFromEnv(env, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: QDSR_RECORD_RETENTION_DAYS is 400 days: .*11 CCR §7101/);
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    expect(record.jurisdiction).toBe('us-state');
    const done = await store.complete(record.requestId, {});
    expect(done.expiresAt - epoch(done.respondedAt as string)).toBe(400 * 86_400);
    expect(Date.parse(done.forgetEmailAt as string) - Date.parse(done.respondedAt as string)).toBe(
      7 * DAY_MS,
    );
    expect(() => requestStoreFromEnv({ ...env, QDSR_DEFAULT_JURISDICTION: 'eu' })).toThrow(
      /QDSR_DEFAULT_JURISDICTION/,
    );
  });
});

describe('minimization', () => {
  it('erases the raw email of COMPLETED requests past QDSR_FORGET_EMAIL_AFTER_DAYS, keeping hash and mask', async () => {
    clock = Date.parse('2026-01-01T00:00:00.000Z');
    const store = storeWith({ forgetEmailAfterDays: 30 });
    const early = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    const later = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const open = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const failed = await store.create({ source: 'api', type: 'access', email: EMAIL });
    // Evidence recorded before its emailsNotFound was masked (raw addresses): masked when forgotten.
    await store.recordEvidence(early.record.requestId, {
      erasureRequestId: 'PGR_1',
      emailsNotFound: ['Jane.Doe@example.com'],
    });
    await store.complete(early.record.requestId, { outcome: 'no-data-found' });
    await store.fail(failed.record.requestId, { code: 'X', message: 'x' });
    clock = Date.parse('2026-01-10T00:00:00.000Z');
    await store.complete(later.record.requestId, { outcome: 'data-provided' });

    clock = Date.parse('2026-01-30T23:59:59.999Z');
    expect(await store.forgetEmails()).toBe(0);
    clock = Date.parse('2026-01-31T00:00:00.000Z');
    expect(await store.forgetEmails()).toBe(1);
    expect(await store.forgetEmails()).toBe(0);

    const forgotten = await store.get(early.record.requestId);
    expect(forgotten?.email).toBeUndefined();
    expect(forgotten).toMatchObject({
      emailForgottenAt: '2026-01-31T00:00:00.000Z',
      maskedEmail: 'j***@example.com',
      emailSha256: early.record.emailSha256,
      evidence: { erasureRequestId: 'PGR_1' },
    });
    expect(forgotten?.evidence?.emailsNotFound).toEqual([
      { maskedEmail: 'j***@example.com', emailSha256: early.record.emailSha256 },
    ]);
    expect(forgotten).not.toHaveProperty('forgetEmailAt');
    expect(JSON.stringify(await raw(early.record.pk)).toLowerCase()).not.toContain('jane.doe@');
    expect(forgotten?.timeline.at(-1)).toMatchObject({ step: 'EMAIL_FORGOTTEN' });
    // find still finds it, by the hash.
    expect((await store.findBySubject(EMAIL)).map((r) => r.requestId)).toContain(early.record.requestId);
    // Open and failed requests keep the email; the later one until its own date.
    for (const r of [open, failed, later])
      expect((await store.get(r.record.requestId))?.email).toBe('jane.doe@example.com');
    clock = Date.parse('2026-02-09T00:00:00.000Z');
    expect(await store.forgetEmails()).toBe(1);
  });

  it('what needs the email of a forgotten request fails fast with EMAIL_FORGOTTEN', async () => {
    clock = Date.parse('2026-01-01T00:00:00.000Z');
    const store = storeWith({ forgetEmailAfterDays: 1 });
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await store.complete(record.requestId, {});
    clock += 2 * DAY_MS;
    expect(await store.forgetEmails()).toBeGreaterThanOrEqual(1);
    const retry = await store.reopenForRetry(record.requestId).catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(EmailForgottenError);
    expect(retry).toMatchObject({ code: 'EMAIL_FORGOTTEN' });
    expect((retry as Error).message).not.toContain('@');
    await expect(loadRequest({ store }, record.requestId)).rejects.toMatchObject({ code: 'EMAIL_FORGOTTEN' });
  });
});
