import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { InputError } from '../errors';
import { dueDates, InvalidCursorError, type Jurisdiction, type LedgerQuery } from '../ledger';
import type { RequestStatus, RequestType } from '../request-contract';
import { RequestStore } from '.';

/**
 * The ledger's reads against dynalite with the indexes the stack deploys: every list filter, the
 * cursor, find by subject and the records range, each checked against what the fixture says
 * (due dates from dueDates, not from the store), and every read a Query of an index.
 */

const NOW = new Date('2026-06-01T00:00:00.000Z');
const JANE = 'Jane.Doe@Example.com';
const JURISDICTION_CYCLE: Jurisdiction[] = ['gdpr', 'ccpa', 'uk-gdpr', 'us-state'];
const STATUS_CYCLE: RequestStatus[] = ['COMPLETED', 'FAILED', 'RUNNING', 'RECEIVED', 'WAITING_ON_QUALTRICS'];

interface Fixture {
  requestId: string;
  type: RequestType;
  jurisdiction: Jurisdiction;
  receivedAt: string;
  status: RequestStatus;
  subject: string;
}

let aws: LocalAws;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let store: RequestStore;
const fixtures: Fixture[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  client = new DynamoDBClient({
    endpoint: aws.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(client);
  store = new RequestStore({ doc, tableName: aws.names.requestsTable, now: () => NOW });
  // 33 requests over five months; two share a receipt instant (the id orders them).
  for (let i = 0; i < 33; i++) {
    const receivedAt = new Date(Date.parse('2026-01-02T09:30:00.000Z') + Math.min(i, 31) * 4.5 * 86_400_000);
    const f = {
      type: (i % 3 === 0 ? 'deletion' : 'access') as RequestType,
      jurisdiction: JURISDICTION_CYCLE[i % 4]!,
      receivedAt: receivedAt.toISOString(),
      status: STATUS_CYCLE[i % 5]!,
      subject: i % 4 === 1 ? JANE.toUpperCase() : i % 7 === 0 ? JANE : `subject-${i}@example.org`,
    };
    const { record } = await store.create({
      source: 'api',
      type: f.type,
      email: f.subject,
      jurisdiction: f.jurisdiction,
      receivedAt: f.receivedAt,
      ...(i % 2 ? { idempotencyKey: `fixture-${i}` } : {}),
    });
    if (f.status !== 'RECEIVED') await store.transition(record.requestId, 'RUNNING', 'STARTED');
    if (f.status === 'WAITING_ON_QUALTRICS') await store.transition(record.requestId, f.status, 'POLL');
    if (f.status === 'COMPLETED') await store.complete(record.requestId, {});
    if (f.status === 'FAILED') await store.fail(record.requestId, { code: 'X', message: 'failed' });
    fixtures.push({ ...f, requestId: record.requestId });
  }
});

afterAll(async () => {
  client?.destroy();
  await aws?.close();
});

const newestFirst = (a: Fixture, b: Fixture) =>
  b.receivedAt.localeCompare(a.receivedAt) || b.requestId.localeCompare(a.requestId);
const overdue = (f: Fixture) =>
  f.status !== 'COMPLETED' &&
  NOW.getTime() > Date.parse(dueDates(f.jurisdiction, new Date(f.receivedAt)).dueAt);

function expected(q: Omit<LedgerQuery, 'limit' | 'cursor'>): string[] {
  return fixtures
    .filter(
      (f) =>
        (q.status === undefined || f.status === q.status) &&
        (q.type === undefined || f.type === q.type) &&
        (q.jurisdiction === undefined || f.jurisdiction === q.jurisdiction) &&
        (q.overdue === undefined || overdue(f) === q.overdue) &&
        (q.since === undefined || f.receivedAt >= new Date(q.since).toISOString()) &&
        (q.until === undefined || f.receivedAt < new Date(q.until).toISOString()),
    )
    .sort(newestFirst)
    .map((f) => f.requestId);
}

/** Every page of a listing, following the cursor. */
async function allPages(q: Omit<LedgerQuery, 'cursor'>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ ...q, ...(cursor ? { cursor } : {}) });
    expect(page.requests.length).toBeLessThanOrEqual(q.limit);
    ids.push(...page.requests.map((r) => r.requestId));
    cursor = page.nextCursor ?? undefined;
    pages++;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { ids, pages };
}

const FILTERS: Array<Omit<LedgerQuery, 'limit' | 'cursor'>> = [
  {},
  { status: 'COMPLETED' },
  { status: 'FAILED' },
  { status: 'RECEIVED' },
  { status: 'WAITING_ON_QUALTRICS', type: 'access' },
  { type: 'deletion' },
  { type: 'access' },
  { jurisdiction: 'ccpa' },
  { jurisdiction: 'uk-gdpr', type: 'access' },
  { overdue: true },
  { overdue: false },
  { overdue: true, jurisdiction: 'gdpr' },
  { status: 'COMPLETED', overdue: true },
  { status: 'COMPLETED', overdue: false },
  { status: 'FAILED', overdue: true },
  { status: 'RUNNING', overdue: false },
  { since: '2026-03-01' },
  { until: '2026-03-01T00:00:00Z' },
  { since: '2026-02-01', until: '2026-04-15T12:00:00+02:00' },
  { status: 'RUNNING', since: '2026-02-01', until: '2026-05-01' },
  { type: 'access', overdue: true, since: '2026-01-20' },
];

describe('list', () => {
  it('shows every request newest receipt first, as summaries without email or timeline', async () => {
    const page = await store.list({ limit: 500 });
    expect(page.nextCursor).toBeNull();
    expect(page.requests.map((r) => r.requestId)).toEqual(expected({}));
    expect(page.requests).toHaveLength(33);
    const text = JSON.stringify(page).toLowerCase();
    expect(text).not.toContain('jane.doe@');
    expect(text).not.toContain('subject-');
    for (const r of page.requests) {
      expect(r).not.toHaveProperty('timeline');
      expect(r).not.toHaveProperty('email');
      expect(r).not.toHaveProperty('evidence');
      expect(r.maskedEmail).toMatch(/^.\*\*\*@example\.(com|org)$/);
    }
  });

  it('applies each filter and combination of them', async () => {
    for (const filter of FILTERS) {
      const want = expected(filter);
      const page = await store.list({ ...filter, limit: 500 });
      expect(
        page.requests.map((r) => r.requestId),
        JSON.stringify(filter),
      ).toEqual(want);
      expect(page.nextCursor, JSON.stringify(filter)).toBeNull();
    }
    // The fixture exercises each filter with some requests in and some out.
    expect(expected({ overdue: true }).length).toBeGreaterThan(3);
    expect(expected({ overdue: false }).length).toBeGreaterThan(3);
    // since is inclusive, until exclusive, both on the receipt instant.
    const first = fixtures[0]!;
    expect(expected({ since: first.receivedAt })).toContain(first.requestId);
    expect((await store.list({ since: first.receivedAt, limit: 500 })).requests.at(-1)?.requestId).toBe(
      first.requestId,
    );
    expect((await store.list({ until: first.receivedAt, limit: 500 })).requests).toEqual([]);
  });

  it('pages through the cursor: the pages concatenate to the whole ordered result', async () => {
    for (const filter of FILTERS) {
      for (const limit of [1, 2, 5, 32]) {
        const { ids, pages } = await allPages({ ...filter, limit });
        expect(ids, `${JSON.stringify(filter)} limit ${limit}`).toEqual(expected(filter));
        expect(pages).toBeGreaterThanOrEqual(Math.ceil(ids.length / limit));
        expect(pages).toBeLessThanOrEqual(Math.ceil(ids.length / limit) + 1);
      }
    }
  });

  it('refuses a tampered cursor, or one from another listing, as an InputError', async () => {
    const page = await store.list({ limit: 3 });
    expect(page.nextCursor).toEqual(expect.any(String));
    const cursor = page.nextCursor as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as {
      k: Record<string, string>;
    };
    const forged = Buffer.from(
      JSON.stringify({ ...decoded, k: { ...decoded.k, ledgerPartition: 'other' } }),
    ).toString('base64url');
    const byStatus = (await store.list({ status: 'COMPLETED', limit: 1 })).nextCursor as string;
    for (const [bad, query] of [
      [`${cursor}x`, {}],
      [cursor.slice(1), {}],
      [forged, {}],
      [byStatus, {}],
      [byStatus, { status: 'FAILED' }],
      [cursor, { status: 'FAILED' }],
    ] as Array<[string, Partial<LedgerQuery>]>) {
      const err = await store.list({ ...query, limit: 3, cursor: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidCursorError);
      expect(err).toBeInstanceOf(InputError);
    }
    // The genuine one works, with the same filters.
    await expect(store.list({ limit: 3, cursor })).resolves.toMatchObject({ requests: expect.any(Array) });
  });

  it('refuses bad parameters', async () => {
    for (const q of [
      { limit: 0 },
      { limit: 501 },
      { limit: 1.5 },
      { limit: 10, since: 'yesterday' },
      { limit: 10, until: '2026-02-30' },
      { limit: 10, since: '2026-03-01', until: '2026-03-01' },
      { limit: 10, status: 'DONE' },
      { limit: 10, jurisdiction: 'eu' },
    ]) {
      await expect(store.list(q as LedgerQuery), JSON.stringify(q)).rejects.toBeInstanceOf(InputError);
    }
  });
});

describe('find by subject', () => {
  it("finds every request of one subject, whatever the email's case, newest first, never echoing it", async () => {
    const jane = fixtures
      .filter((f) => f.subject.toLowerCase() === JANE.toLowerCase())
      .sort(newestFirst)
      .map((f) => f.requestId);
    expect(jane.length).toBeGreaterThan(5);
    for (const email of [JANE, JANE.toLowerCase(), JANE.toUpperCase(), ` ${JANE} `.trim()]) {
      const found = await store.findBySubject(email);
      expect(found.map((r) => r.requestId)).toEqual(jane);
      expect(JSON.stringify(found).toLowerCase()).not.toContain('jane.doe@');
    }
    expect(await store.findBySubject('nobody@example.net')).toEqual([]);
    await expect(store.findBySubject('not an email')).rejects.toBeInstanceOf(InputError);
  });
});

describe('records', () => {
  it('yields the requests received in the range, oldest first', async () => {
    const all: string[] = [];
    for await (const r of store.records()) all.push(r.requestId);
    expect(all).toEqual(expected({}).reverse());
    const ranged: string[] = [];
    for await (const r of store.records({ since: '2026-02-01', until: '2026-04-01' }))
      ranged.push(r.requestId);
    expect(ranged).toEqual(expected({ since: '2026-02-01', until: '2026-04-01' }).reverse());
    expect(ranged.length).toBeGreaterThan(5);
  });
});

describe('retention', () => {
  it('past their retention, requests are gone from every read', async () => {
    const later = new RequestStore({
      doc,
      tableName: aws.names.requestsTable,
      now: () => new Date('2028-09-01T00:00:00Z'),
    });
    expect((await later.list({ limit: 500 })).requests).toEqual([]);
    expect(await later.findBySubject(JANE)).toEqual([]);
    for await (const r of later.records()) expect.unreachable(r.requestId);
  });
});

describe('metrics', () => {
  it('counts the requests received in the year, by type and status, as the fixture has them', async () => {
    const metrics = await store.metrics(2026);
    expect(metrics.year).toBe(2026);
    for (const type of ['access', 'deletion'] as const) {
      const mine = fixtures.filter((f) => f.type === type && f.receivedAt.startsWith('2026'));
      const completed = mine.filter((f) => f.status === 'COMPLETED');
      expect(metrics.byType[type]).toMatchObject({
        received: mine.length,
        completed: completed.length,
        failed: mine.filter((f) => f.status === 'FAILED').length,
        open: mine.filter((f) => f.status !== 'COMPLETED' && f.status !== 'FAILED').length,
      });
      // Completed at the store's clock (NOW): days from each receipt to NOW.
      const days = completed.map((f) => (NOW.getTime() - Date.parse(f.receivedAt)) / 86_400_000);
      const mean = days.reduce((n, d) => n + d, 0) / days.length;
      expect(metrics.byType[type].meanDaysToRespond).toBe(Math.round(mean * 10) / 10);
    }
    expect((await store.metrics(2025)).byType.access.received).toBe(0);
  });
});

describe('no Scan', () => {
  it('list, find, records and metrics send Queries of the ledger indexes, nothing else', async () => {
    const send = vi.spyOn(doc, 'send');
    try {
      await store.list({ limit: 4 });
      await store.list({ limit: 4, status: 'FAILED', type: 'deletion', overdue: true, since: '2026-01-01' });
      await store.list({ limit: 2, jurisdiction: 'ccpa' });
      await store.findBySubject(JANE);
      for await (const _ of store.records({ since: '2026-03-01' })) void _;
      await store.metrics(2026);
      const sent = send.mock.calls.map(([command]) => ({
        command: command.constructor.name,
        index: (command.input as { IndexName?: string }).IndexName,
      }));
      expect(sent.length).toBeGreaterThanOrEqual(5);
      for (const s of sent) expect(s.command).toBe('QueryCommand');
      expect(new Set(sent.map((s) => s.index))).toEqual(new Set(['byReceivedAt', 'byStatus', 'bySubject']));
    } finally {
      send.mockRestore();
    }
  });
});
