import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { dynamoDocumentClient } from '../aws-clients';
import { ErrorNames, InputError } from '../errors';
import { emailSha256 } from '../privacy';
import {
  IdempotencyConflictError,
  idempotencyPk,
  RequestNotFoundError,
  RequestStateError,
  RequestStore,
  StorageError,
} from '.';

const EMAIL = 'Jane.Doe@Example.com';
const NORMALIZED = 'jane.doe@example.com';

let aws: LocalAws;
let store: RequestStore;

/** A clock the test moves by hand, so timestamps are distinct and deterministic. */
function steppingClock(start = Date.parse('2026-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

function containsEmail(value: unknown): boolean {
  const text = JSON.stringify(value).toLowerCase();
  return text.includes(NORMALIZED) || decodeURIComponent(text).includes(NORMALIZED);
}

beforeAll(async () => {
  aws = await startLocalAws();
  aws.applyEnv();
  store = new RequestStore({
    doc: dynamoDocumentClient(),
    tableName: aws.names.requestsTable,
    now: steppingClock(),
  });
});

afterAll(async () => {
  await aws?.close();
});

describe('lifecycle', () => {
  it('creates a request and moves it through its statuses with a timeline', async () => {
    const { record, created } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    expect(created).toBe(true);
    expect(record.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(record).toMatchObject({
      pk: `request#${record.requestId}`,
      type: 'access',
      status: 'RECEIVED',
      email: NORMALIZED,
      maskedEmail: 'j***@example.com',
      emailSha256: emailSha256(EMAIL),
      counts: {},
      qualtrics: {},
    });
    expect(record.dryRun).toBeUndefined();
    expect(record.timeline).toHaveLength(1);
    // Open: kept the record retention (730 days by default) from now, at least.
    expect(record.expiresAt).toBe(Math.floor(Date.parse(record.createdAt) / 1000) + 730 * 86_400);

    const id = record.requestId;
    const running = await store.transition(id, 'RUNNING', 'STARTED', 'execution exec-1');
    expect(running.status).toBe('RUNNING');
    expect(running.startedAt).toBe(running.updatedAt);
    const waiting = await store.transition(
      id,
      'WAITING_ON_QUALTRICS',
      'CUSTOMER_DATA_JOB_POLL',
      'percent 40',
    );
    await store.appendTimeline(id, 'DIRECTORY_SEARCHED', 'POOL_1: 2 contacts');
    await store.setCounts(id, { directoriesSearched: 3 });
    const counted = await store.setCounts(id, { contactsFound: 2 });
    expect(counted.counts).toEqual({ directoriesSearched: 3, contactsFound: 2 });

    const done = await store.complete(id, {
      counts: { files: 4 },
      qualtrics: { customerDataRequestId: 'CDR_1', fileIds: ['F_1', 'F_2'] },
    });
    expect(done.status).toBe('COMPLETED');
    expect(done.counts).toEqual({ directoriesSearched: 3, contactsFound: 2, files: 4 });
    expect(done.qualtrics).toEqual({ customerDataRequestId: 'CDR_1', fileIds: ['F_1', 'F_2'] });
    expect(done.finishedAt).toBe(done.updatedAt);
    expect(done.startedAt).toBe(running.startedAt);
    expect(done.timeline.map((e) => e.step)).toEqual([
      'RECEIVED',
      'STARTED',
      'CUSTOMER_DATA_JOB_POLL',
      'DIRECTORY_SEARCHED',
      'COMPLETED',
    ]);
    expect(done.timeline[1]).toEqual({ at: running.updatedAt, step: 'STARTED', detail: 'execution exec-1' });
    // Timestamps move forward with every write.
    const ats = done.timeline.map((e) => Date.parse(e.at));
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
    expect(Date.parse(done.updatedAt)).toBeGreaterThan(Date.parse(waiting.updatedAt));
    expect(await store.get(id)).toEqual(done);
  });

  it('stores dryRun for deletions and rejects it for access', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL, dryRun: true });
    expect(record.dryRun).toBe(true);
    expect(record.timeline[0]?.detail).toContain('dry run');
    const { record: real } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    expect(real.dryRun).toBe(false);
    await expect(
      store.create({ source: 'api', type: 'access', email: EMAIL, dryRun: true }),
    ).rejects.toBeInstanceOf(InputError);
  });

  it('rejects bad input without echoing it', async () => {
    const bad = 'not an email jane.doe@example.com';
    const err = await store.create({ source: 'api', type: 'access', email: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toContain('jane');
    await expect(
      store.create({ source: 'api', type: 'export' as never, email: EMAIL }),
    ).rejects.toBeInstanceOf(InputError);
    await expect(
      store.create({ source: 'api', type: 'access', email: EMAIL, idempotencyKey: 'has space' }),
    ).rejects.toBeInstanceOf(InputError);
  });

  it('treats unknown and malformed ids as absent', async () => {
    expect(await store.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await store.get('request#../etc')).toBeUndefined();
    expect(await store.getStatusDocument('nope')).toBeUndefined();
    const err = await store
      .transition('00000000-0000-4000-8000-000000000000', 'RUNNING', 'X')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RequestNotFoundError);
    expect(err.name).toBe(ErrorNames.RequestNotFound);
    await expect(store.appendTimeline('bogus', 'X')).rejects.toBeInstanceOf(RequestNotFoundError);
    await expect(
      store.fail('00000000-0000-4000-8000-000000000000', { code: 'X', message: 'y' }),
    ).rejects.toBeInstanceOf(RequestNotFoundError);
  });

  it('finds a request by its id in any case (ids are stored lower-case)', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const upper = record.requestId.toUpperCase();
    expect(upper).not.toBe(record.requestId);
    expect((await store.get(upper))?.requestId).toBe(record.requestId);
    const appended = await store.appendTimeline(upper, 'LOOKED_UP');
    expect(appended.requestId).toBe(record.requestId);
    expect(appended.timeline.at(-1)?.step).toBe('LOOKED_UP');
  });

  it('treats a record past its retention as gone', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const clocked = new RequestStore({
      doc: dynamoDocumentClient(),
      tableName: aws.names.requestsTable,
      now: () => new Date(now),
      retentionDays: 1,
    });
    const { record } = await clocked.create({ source: 'api', type: 'access', email: EMAIL });
    now += 86_400_000 - 1000;
    expect(await clocked.get(record.requestId)).toBeDefined();
    now += 2000;
    expect(await clocked.get(record.requestId)).toBeUndefined();
  });
});

describe('idempotency key', () => {
  it('returns the same request for the same key and payload', async () => {
    const key = 'intake-ticket:4711';
    const first = await store.create({ source: 'api', type: 'deletion', email: EMAIL, idempotencyKey: key });
    const again = await store.create({
      source: 'api',
      type: 'deletion',
      email: 'JANE.DOE@example.com',
      idempotencyKey: key,
    });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.record.requestId).toBe(first.record.requestId);
    expect(again.record.idempotencyKey).toBe(key);
  });

  it('refuses the same key for a different type, subject or dry run, without echoing PII', async () => {
    const key = 'intake-ticket:4712';
    await store.create({ source: 'api', type: 'deletion', email: EMAIL, idempotencyKey: key });
    for (const other of [
      { type: 'access' as const, email: EMAIL },
      { type: 'deletion' as const, email: 'someone.else@example.com' },
      { type: 'deletion' as const, email: EMAIL, dryRun: true },
    ]) {
      const err = await store
        .create({ source: 'api', ...other, idempotencyKey: key })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyConflictError);
      expect(err).toBeInstanceOf(InputError);
      expect((err as IdempotencyConflictError).code).toBe('IDEMPOTENCY_CONFLICT');
      expect((err as Error).message).not.toMatch(/@|jane|someone/i);
    }
  });

  it('creates exactly one request when the same key arrives concurrently', async () => {
    const key = 'burst-1';
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        store.create({ source: 'api', type: 'access', email: EMAIL, idempotencyKey: key }),
      ),
    );
    expect(new Set(results.map((r) => r.record.requestId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('finishes a request whose creator stopped between the key and the record', async () => {
    const orphanId = '11111111-2222-4333-8444-555555555555';
    await dynamoDocumentClient().send(
      new PutCommand({
        TableName: aws.names.requestsTable,
        Item: {
          pk: idempotencyPk('orphan-1'),
          requestId: orphanId,
          type: 'access',
          emailSha256: emailSha256(EMAIL),
          dryRun: false,
          expiresAt: Math.floor(Date.now() / 1000) + 86_400 * 365 * 10,
        },
      }),
    );
    const first = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      idempotencyKey: 'orphan-1',
    });
    expect(first).toMatchObject({ created: true, record: { requestId: orphanId, status: 'RECEIVED' } });
    const second = await store.create({
      source: 'api',
      type: 'access',
      email: EMAIL,
      idempotencyKey: 'orphan-1',
    });
    expect(second).toMatchObject({ created: false, record: { requestId: orphanId } });
  });
});

describe('terminal statuses', () => {
  it('cannot leave COMPLETED; completing again is a no-op', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const id = record.requestId;
    await store.transition(id, 'RUNNING', 'STARTED');
    const done = await store.complete(id);
    expect(await store.complete(id, { counts: { files: 99 } })).toEqual(done);
    const err = await store.transition(id, 'RUNNING', 'STARTED').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestStateError);
    expect((err as RequestStateError).name).toBe(ErrorNames.RequestConflict);
    expect((err as RequestStateError).currentStatus).toBe('COMPLETED');
    await expect(store.fail(id, { code: 'X', message: 'late' })).rejects.toBeInstanceOf(RequestStateError);
    await expect(store.reopenForRetry(id)).rejects.toBeInstanceOf(RequestStateError);
    expect((await store.get(id))?.status).toBe('COMPLETED');
  });

  it('cannot leave FAILED except by reopenForRetry', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    const id = record.requestId;
    await store.transition(id, 'RUNNING', 'STARTED');
    await store.recordExecution(id, { name: 'exec-abc' });
    const failed = await store.fail(id, {
      code: 'QUALTRICS_TRANSIENT',
      message: 'HTTP 503 after 6 attempts',
    });
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toEqual({ code: 'QUALTRICS_TRANSIENT', message: 'HTTP 503 after 6 attempts' });
    // A second failure keeps the first reason.
    expect((await store.fail(id, { code: 'OTHER', message: 'other' })).error?.code).toBe(
      'QUALTRICS_TRANSIENT',
    );
    await expect(store.transition(id, 'WAITING_ON_QUALTRICS', 'POLL')).rejects.toBeInstanceOf(
      RequestStateError,
    );
    await expect(store.complete(id)).rejects.toBeInstanceOf(RequestStateError);
    // Moving to the status it already has is a retried step, not an error.
    expect((await store.transition(id, 'FAILED', 'FAILED')).status).toBe('FAILED');

    const reopened = await store.reopenForRetry(id);
    expect(reopened.status).toBe('RUNNING');
    expect(reopened.error).toBeUndefined();
    expect(reopened.finishedAt).toBeUndefined();
    expect(reopened.execution).toEqual({ name: 'exec-abc', attempt: 2 });
    expect(reopened.timeline.at(-1)).toMatchObject({
      step: 'REOPENED',
      detail: 'retrying after QUALTRICS_TRANSIENT',
    });
    expect(reopened.timeline.map((e) => e.step)).toContain('FAILED');
    await expect(store.reopenForRetry(id)).rejects.toBeInstanceOf(RequestStateError);
    expect((await store.complete(id)).status).toBe('COMPLETED');
  });
});

describe('resuming an interrupted request', () => {
  it('records the resumption and the next attempt, once: a second resumer of the same attempt is refused', async () => {
    const { record } = await store.create({ source: 'cli', type: 'access', email: EMAIL });
    const id = record.requestId;
    await store.transition(id, 'RUNNING', 'STARTED');
    await store.recordExecution(id, { name: `${id}-1`, attempt: 1 });
    await store.transition(id, 'WAITING_ON_QUALTRICS', 'WAITING_ON_QUALTRICS');
    const seen = (await store.get(id))!;
    const [first, second] = await Promise.allSettled([
      store.reopenInterrupted(id, seen),
      store.reopenInterrupted(id, seen),
    ]);
    const won = [first, second].filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = [first, second].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(RequestStateError);
    const resumed = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<RequestStore['get']>>>).value!;
    // Its status stays: the next run's own steps move it on.
    expect(resumed.status).toBe('WAITING_ON_QUALTRICS');
    expect(resumed.execution).toEqual({ name: `${id}-1`, attempt: 2 });
    expect(resumed.timeline.at(-1)).toMatchObject({ step: 'RESUMED' });
  });

  it('resumes a request that never started a workflow, and never an ended one', async () => {
    const { record } = await store.create({ source: 'cli', type: 'deletion', email: EMAIL });
    const resumed = await store.reopenInterrupted(record.requestId, record);
    expect(resumed).toMatchObject({ status: 'RECEIVED' });
    expect(resumed.execution).toBeUndefined();
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    // What the caller saw (RECEIVED) is no longer so: refused, nothing written.
    await expect(store.reopenInterrupted(record.requestId, record)).rejects.toBeInstanceOf(RequestStateError);
    const failed = await store.fail(record.requestId, { code: 'X', message: 'x' });
    await expect(store.reopenInterrupted(record.requestId, failed)).rejects.toBeInstanceOf(RequestStateError);
    expect((await store.get(record.requestId))?.status).toBe('FAILED');
  });
});

describe('Qualtrics create idempotency', () => {
  it('lets exactly one of 10 parallel claims create, and everyone reuses the recorded id', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const id = record.requestId;
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => store.claimQualtricsCreate(id, 'customerData')),
    );
    const winners = claims.filter((c) => c.claimed);
    expect(winners).toHaveLength(1);
    const claimedAt = winners[0]?.claimedAt;
    for (const c of claims.filter((x) => !x.claimed)) {
      expect(c).toEqual({ claimed: false, existingId: undefined, claimedAt });
    }
    // Racing recorders: the first id stored wins, every caller learns it.
    const stored = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.recordQualtricsId(id, 'customerData', `CDR_${i}`)),
    );
    expect(new Set(stored).size).toBe(1);
    const winnerId = stored[0] as string;
    expect((await store.get(id))?.qualtrics.customerDataRequestId).toBe(winnerId);
    expect(await store.recordQualtricsId(id, 'customerData', 'CDR_late')).toBe(winnerId);
    expect(await store.claimQualtricsCreate(id, 'customerData')).toEqual({
      claimed: false,
      existingId: winnerId,
      claimedAt,
    });
    // The other kind is independent.
    expect((await store.claimQualtricsCreate(id, 'erasure')).claimed).toBe(true);
    // complete() never replaces an id that is stored.
    const done = await store.complete(id, { qualtrics: { customerDataRequestId: 'CDR_other' } });
    expect(done.qualtrics.customerDataRequestId).toBe(winnerId);
  });

  it('releases a claim only for its holder and only before an id is recorded', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    const id = record.requestId;
    const first = await store.claimQualtricsCreate(id, 'erasure');
    if (!first.claimed) throw new Error('expected the first claim to win');
    expect(await store.releaseQualtricsCreateClaim(id, 'erasure', '2000-01-01T00:00:00.000Z')).toBe(false);
    expect(await store.releaseQualtricsCreateClaim(id, 'erasure', first.claimedAt)).toBe(true);
    const second = await store.claimQualtricsCreate(id, 'erasure');
    expect(second.claimed).toBe(true);
    await store.recordQualtricsId(id, 'erasure', 'PGR_1');
    if (!second.claimed) throw new Error('unreachable');
    expect(await store.releaseQualtricsCreateClaim(id, 'erasure', second.claimedAt)).toBe(false);
    expect(await store.claimQualtricsCreate(id, 'erasure')).toMatchObject({
      claimed: false,
      existingId: 'PGR_1',
    });
  });

  it('records which Qualtrics the request runs against with its first claim, and keeps it', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    const id = record.requestId;
    expect((await store.getStatusDocument(id))?.qualtrics).toEqual({});
    const first = await store.claimQualtricsCreate(id, 'erasure', 'https://iad1.qualtrics.com');
    if (!first.claimed) throw new Error('expected the first claim to win');
    await store.releaseQualtricsCreateClaim(id, 'erasure', first.claimedAt);
    // A later claim (here after a release) never replaces it.
    expect((await store.claimQualtricsCreate(id, 'erasure', 'simulator')).claimed).toBe(true);
    expect((await store.get(id))?.qualtrics.target).toBe('https://iad1.qualtrics.com');
    const doc = await store.getStatusDocument(id);
    expect(doc?.qualtrics.target).toBe('https://iad1.qualtrics.com');
    const [summary] = await store.findBySubject(EMAIL).then((all) => all.filter((s) => s.requestId === id));
    expect(summary?.qualtrics.target).toBe('https://iad1.qualtrics.com');
  });

  it('refuses a first claim on a finished request', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    await store.fail(record.requestId, { code: 'X', message: 'stopped' });
    await expect(store.claimQualtricsCreate(record.requestId, 'erasure')).rejects.toBeInstanceOf(
      RequestStateError,
    );
  });
});

describe('no personal data in what users see', () => {
  it('the status document carries the masked email, ids and counts only', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    const id = record.requestId;
    await store.claimQualtricsCreate(id, 'erasure');
    await store.recordQualtricsId(id, 'erasure', 'PGR_9');
    await store.updateQualtrics(id, { erasureStatus: 'Completed' });
    await store.recordEvidence(id, { erasureRequestId: 'PGR_9', emailsNotFound: [NORMALIZED] });
    await store.complete(id, { counts: { contactsRemaining: 0 }, outcome: 'deleted' });
    const full = await store.get(id);
    expect(full?.evidence).toEqual({ erasureRequestId: 'PGR_9', emailsNotFound: [NORMALIZED] });

    const doc = await store.getStatusDocument(id);
    expect(doc).toEqual({
      requestId: id,
      type: 'deletion',
      status: 'COMPLETED',
      maskedEmail: 'j***@example.com',
      dryRun: false,
      jurisdiction: 'gdpr',
      receivedAt: record.createdAt,
      channel: 'unspecified',
      source: 'api',
      dueAt: record.dueAt,
      extendedDueAt: null,
      respondedAt: full?.finishedAt,
      outcome: 'deleted',
      daysToRespond: 0,
      overdue: false,
      createdAt: record.createdAt,
      updatedAt: full?.updatedAt,
      timeline: full?.timeline,
      counts: { contactsRemaining: 0 },
      qualtrics: { erasureRequestId: 'PGR_9', erasureStatus: 'Completed' },
      error: null,
    });
    expect(containsEmail(doc)).toBe(false);
  });

  it('fail() scrubs the subject email in any case or URL-encoded', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const failed = await store.fail(record.requestId, {
      code: 'QUALTRICS_VALIDATION',
      message: `search for JANE.DOE@EXAMPLE.COM failed: GET /search?email=${encodeURIComponent(EMAIL)} returned 400 (also other.person@example.org)`,
    });
    expect(containsEmail(failed.error)).toBe(false);
    expect(containsEmail(failed.timeline)).toBe(false);
    expect(failed.error?.message).toContain('j***@example.com');
    expect(failed.error?.message).not.toContain('other.person');
    expect(containsEmail(await store.getStatusDocument(record.requestId))).toBe(false);
  });

  it('timeline steps and details are scrubbed of addresses', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const r = await store.appendTimeline(record.requestId, 'SEARCH', `looked up ${NORMALIZED}`);
    expect(containsEmail(r.timeline)).toBe(false);
  });
});

describe('storage errors', () => {
  it('wraps DynamoDB failures in a retryable Storage error without echoing the request', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const mock = mockClient(doc);
    const throttled = Object.assign(new Error(`Throughput exceeded for key request#x (${NORMALIZED})`), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    mock.on(UpdateCommand).rejects(throttled);
    const s = new RequestStore({ doc, tableName: 't' });
    const err = await s.appendTimeline('00000000-0000-4000-8000-000000000000', 'X').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).name).toBe(ErrorNames.Storage);
    expect((err as StorageError).retryable).toBe(true);
    expect((err as Error).message).toBe(
      'DynamoDB UpdateItem (appendTimeline) failed: ProvisionedThroughputExceededException (HTTP 400)',
    );

    mock
      .on(UpdateCommand)
      .rejects(
        Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
      );
    const invalid = await s
      .appendTimeline('00000000-0000-4000-8000-000000000000', 'X')
      .catch((e: unknown) => e);
    expect((invalid as StorageError).retryable).toBe(false);
    mock.restore();
  });
});
