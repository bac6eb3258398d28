import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { RECORDS_CSV_HEADER } from '../../lambdas/core/ledger';
import { RequestStore } from '../../lambdas/core/request-store';
import { handleIntakeEvent } from '../../lambdas/handlers/intake-event';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { CANARY_EMAIL, canarySeed, LeakScanner } from '../support/canaries';
import { intakeEvent } from '../support/intake-event';
import { type ApiWorld, startApiWorld } from './harness';

// Every logger at DEBUG (the API's and the intake's are made at import), so the leak scan sees lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

/**
 * The request ledger over HTTP (README "The request ledger"), through the local API as `serve`
 * runs it, against the simulator: the submission fields and due dates in the status document,
 * extensions, every list filter and the cursor, find by email, the records CSV, and minimization.
 * Every answer, log line and event is scanned for the subjects' emails.
 */

const DAY = 86_400_000;
/** Not in the simulator: a deletion for it finds no data. */
const UNKNOWN_SUBJECT = 'ledger.nobody@example.com';
const REASON = 'Complex request: records held in three systems';

let w: ApiWorld;
const leaks = new LeakScanner({ watch: [SEEDED_SUBJECT, UNKNOWN_SUBJECT, REASON] });
let stopOutput: () => void = () => undefined;
let stopEvents: () => void = () => undefined;

beforeAll(async () => {
  w = await startApiWorld({ simulator: { seed: canarySeed() } });
  stopOutput = leaks.captureOutput();
  stopEvents = leaks.subscribeEvents();
});
afterAll(async () => {
  stopEvents();
  stopOutput();
  await w?.close();
});

type Doc = Record<string, unknown> & {
  requestId: string;
  receivedAt: string;
  dueAt: string;
  extendedDueAt: string | null;
  respondedAt: string | null;
  daysToRespond: number | null;
  status: string;
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read by each test
  json: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${w.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  leaks.scan('http answer', text);
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await call('POST', '/requests', body);
  expect(res.status, res.text).toBe(202);
  return String(res.json.requestId);
}

async function statusOf(requestId: string): Promise<Doc> {
  const res = await call('GET', `/requests/${requestId}`);
  expect(res.status).toBe(200);
  return res.json as Doc;
}

async function settled(requestId: string): Promise<Doc> {
  await w.workflows.settled(requestId);
  return statusOf(requestId);
}

const iso = (ms: number) => new Date(ms).toISOString();
const daysBetween = (from: string, to: string) =>
  Math.round(((Date.parse(to) - Date.parse(from)) / DAY) * 10) / 10;

/** The latest 31 January 10:00 UTC that has passed (at most a year back, within the 400 days). */
function lastJanuary31(now: number): { year: number; at: number } {
  let year = new Date(now).getUTCFullYear();
  if (Date.UTC(year, 0, 31, 10) > now) year--;
  return { year, at: Date.UTC(year, 0, 31, 10) };
}

const started = Date.now();
const january = lastJanuary31(started);
/** The requests this file made, by role. */
const ids = {} as Record<
  'gdprJanuary' | 'ccpaAccess' | 'defaults' | 'event' | 'failed' | 'open' | 'late',
  string
>;

describe('submission fields and due dates in the status document', () => {
  it('GDPR: received 31 January → due on the last day of February at the same clock time', async () => {
    const { year } = january;
    ids.gdprJanuary = await submit({
      type: 'deletion',
      email: CANARY_EMAIL,
      dryRun: true,
      jurisdiction: 'gdpr',
      receivedAt: `${year}-01-31T11:00:00+01:00`,
      channel: 'web-form',
    });
    const doc = await settled(ids.gdprJanuary);
    const leap = new Date(Date.UTC(year, 1, 29)).getUTCMonth() === 1;
    expect(doc).toMatchObject({
      status: 'COMPLETED',
      jurisdiction: 'gdpr',
      receivedAt: `${year}-01-31T10:00:00.000Z`,
      channel: 'web-form',
      source: 'api',
      dueAt: `${year}-02-${leap ? 29 : 28}T10:00:00.000Z`,
      extendedDueAt: null,
      outcome: 'dry-run',
      overdue: false,
    });
    expect(Date.parse(String(doc.respondedAt))).toBeGreaterThanOrEqual(started);
    expect(doc.daysToRespond).toBe(daysBetween(doc.receivedAt, String(doc.respondedAt)));
    expect(doc.daysToRespond).toBeGreaterThan(27);
  });

  it('CCPA: due 45 days after receipt; an idempotent replay keeps the first submission’s fields', async () => {
    const receivedAt = iso(started - 10 * DAY);
    const body = {
      type: 'access',
      email: CANARY_EMAIL,
      jurisdiction: 'ccpa',
      receivedAt,
      channel: 'email',
      idempotencyKey: 'ledger:ccpa-1',
    };
    ids.ccpaAccess = await submit(body);
    const doc = await settled(ids.ccpaAccess);
    expect(doc).toMatchObject({
      status: 'COMPLETED',
      jurisdiction: 'ccpa',
      receivedAt,
      channel: 'email',
      source: 'api',
      dueAt: iso(Date.parse(receivedAt) + 45 * DAY),
      extendedDueAt: null,
      outcome: 'data-provided',
      overdue: false,
    });
    expect(doc.daysToRespond).toBe(daysBetween(receivedAt, String(doc.respondedAt)));
    expect(doc.daysToRespond).toBeGreaterThanOrEqual(10);
    expect(doc.daysToRespond).toBeLessThan(10.1);
    // The replay's ledger fields are ignored: the first submission stands.
    const replay = await call('POST', '/requests', { ...body, jurisdiction: 'gdpr', channel: 'phone' });
    expect([replay.status, replay.json.requestId]).toEqual([202, ids.ccpaAccess]);
    expect(await statusOf(ids.ccpaAccess)).toMatchObject({ jurisdiction: 'ccpa', channel: 'email' });
  });

  it('defaults: gdpr, unspecified channel, received now; a deletion that finds nobody is no-data-found', async () => {
    const before = Date.now();
    ids.defaults = await submit({ type: 'deletion', email: UNKNOWN_SUBJECT });
    const doc = await settled(ids.defaults);
    expect(doc).toMatchObject({
      status: 'COMPLETED',
      jurisdiction: 'gdpr',
      channel: 'unspecified',
      source: 'api',
      extendedDueAt: null,
      outcome: 'no-data-found',
    });
    expect(Date.parse(doc.receivedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(doc.receivedAt)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(doc.dueAt) - Date.parse(doc.receivedAt)).toBeGreaterThanOrEqual(28 * DAY);
    expect(Date.parse(doc.dueAt) - Date.parse(doc.receivedAt)).toBeLessThanOrEqual(31 * DAY);
  });

  it('an EventBridge intake event records source "event" and its ledger fields', async () => {
    const result = await handleIntakeEvent(
      intakeEvent({
        type: 'deletion',
        email: SEEDED_SUBJECT,
        dryRun: true,
        jurisdiction: 'us-state',
        channel: 'authorized-agent',
      }),
    );
    expect(result).toMatchObject({ accepted: true, created: true });
    ids.event = (result as { requestId: string }).requestId;
    const doc = await settled(ids.event);
    expect(doc).toMatchObject({ source: 'event', jurisdiction: 'us-state', channel: 'authorized-agent' });
    expect(doc.dueAt).toBe(iso(Date.parse(doc.receivedAt) + 45 * DAY));
  });

  it('a request whose workflow could not start is FAILED, open, with its error code', async () => {
    w.failStarts = true;
    const res = await call('POST', '/requests', {
      type: 'access',
      email: SEEDED_SUBJECT,
      jurisdiction: 'uk-gdpr',
      channel: 'phone',
    });
    w.failStarts = false;
    expect(res.status).toBe(503);
    ids.failed = String(/request ([0-9a-f-]{36})/.exec(res.json.error.message)?.[1]);
    expect(await statusOf(ids.failed)).toMatchObject({
      status: 'FAILED',
      jurisdiction: 'uk-gdpr',
      respondedAt: null,
      outcome: null,
      daysToRespond: null,
      overdue: false,
    });
  });
});

describe('POST /requests/{id}/extend', () => {
  it('extends an open CCPA request once, to 90 days, keeping the reason out of every answer', async () => {
    w.hold(); // from here on, requests stay open (RECEIVED)
    const receivedAt = iso(Date.now() - 5 * DAY);
    ids.open = await submit({
      type: 'deletion',
      email: UNKNOWN_SUBJECT,
      dryRun: true,
      jurisdiction: 'ccpa',
      receivedAt,
    });
    const res = await call('POST', `/requests/${ids.open}/extend`, { reason: REASON });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      requestId: ids.open,
      status: 'RECEIVED',
      dueAt: iso(Date.parse(receivedAt) + 45 * DAY),
      extendedDueAt: iso(Date.parse(receivedAt) + 90 * DAY),
      overdue: false,
    });
    const extended = (res.json.timeline as Array<{ step: string; detail?: string }>).filter(
      (t) => t.step === 'EXTENDED',
    );
    expect(extended).toHaveLength(1);
    expect(extended[0]?.detail).toContain(res.json.extendedDueAt);
    expect(await statusOf(ids.open)).toMatchObject({ extendedDueAt: res.json.extendedDueAt });

    const again = await call('POST', `/requests/${ids.open}/extend`, { reason: 'once more' });
    expect([again.status, again.json.error.code]).toEqual([409, 'ALREADY_EXTENDED']);
  });

  it('refuses a request past its first due date (OVERDUE) and a COMPLETED one; extends a FAILED one', async () => {
    ids.late = await submit({
      type: 'deletion',
      email: UNKNOWN_SUBJECT,
      dryRun: true,
      jurisdiction: 'gdpr',
      receivedAt: iso(Date.now() - 40 * DAY),
    });
    const late = await call('POST', `/requests/${ids.late}/extend`, { reason: REASON });
    expect([late.status, late.json.error.code]).toEqual([409, 'OVERDUE']);
    expect(await statusOf(ids.late)).toMatchObject({
      status: 'RECEIVED',
      extendedDueAt: null,
      overdue: true,
    });

    const done = await call('POST', `/requests/${ids.gdprJanuary}/extend`, { reason: REASON });
    expect([done.status, done.json.error.code]).toEqual([409, 'ALREADY_COMPLETED']);

    const failed = await call('POST', `/requests/${ids.failed}/extend`, { reason: REASON });
    expect(failed.status, failed.text).toBe(200);
    const receivedAt = new Date(failed.json.receivedAt);
    const threeMonths = new Date(receivedAt);
    threeMonths.setUTCMonth(receivedAt.getUTCMonth() + 3);
    // Received today (not the 29th-31st in a short month) the clamp does not apply: same day, 3 months on.
    if (threeMonths.getUTCDate() === receivedAt.getUTCDate()) {
      expect(failed.json.extendedDueAt).toBe(threeMonths.toISOString());
    }
    expect(Date.parse(failed.json.extendedDueAt) - receivedAt.getTime()).toBeGreaterThanOrEqual(89 * DAY);
  });
});

describe('GET /requests', () => {
  let all: Doc[];
  const idsOf = (docs: Doc[]) => docs.map((d) => d.requestId);

  async function list(query: string): Promise<Doc[]> {
    const res = await call('GET', `/requests${query}`);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(['nextCursor', 'requests']);
    return res.json.requests as Doc[];
  }

  beforeAll(async () => {
    all = await list('?limit=500');
  });

  it('lists every request, newest receipt first, as summaries (the status document without its timeline)', async () => {
    expect(idsOf(all).sort()).toEqual(Object.values(ids).sort());
    const received = all.map((d) => d.receivedAt);
    expect(received).toEqual([...received].sort().reverse());
    const doc = await statusOf(ids.ccpaAccess);
    const summary = all.find((d) => d.requestId === ids.ccpaAccess)!;
    const { timeline: _, ...expected } = doc;
    expect(summary).toEqual({ ...expected, updatedAt: summary.updatedAt });
    expect(Object.keys(summary)).not.toContain('timeline');
    // The default page is 100: all of ours fit in it.
    expect(idsOf(await list(''))).toEqual(idsOf(all));
  });

  it.each([
    ['status=COMPLETED', (d: Doc) => d.status === 'COMPLETED'],
    ['status=FAILED', (d: Doc) => d.status === 'FAILED'],
    ['status=RECEIVED', (d: Doc) => d.status === 'RECEIVED'],
    ['type=access', (d: Doc) => d.type === 'access'],
    ['type=deletion', (d: Doc) => d.type === 'deletion'],
    ['jurisdiction=gdpr', (d: Doc) => d.jurisdiction === 'gdpr'],
    ['jurisdiction=uk-gdpr', (d: Doc) => d.jurisdiction === 'uk-gdpr'],
    ['jurisdiction=ccpa', (d: Doc) => d.jurisdiction === 'ccpa'],
    ['jurisdiction=us-state', (d: Doc) => d.jurisdiction === 'us-state'],
    ['overdue=true', (d: Doc) => d.overdue === true],
    ['overdue=false', (d: Doc) => d.overdue === false],
    ['type=deletion&jurisdiction=ccpa&status=RECEIVED', (d: Doc) => d.requestId === ids.open],
  ])('?%s keeps exactly the matching requests, in order', async (query, matches) => {
    const expected = idsOf(all.filter(matches));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(idsOf(await list(`?${query}`))).toEqual(expected);
  });

  it('overdue=true is the open request past its due date, and only it', async () => {
    expect(idsOf(await list('?overdue=true'))).toEqual([ids.late]);
  });

  it('since is inclusive and until exclusive, on receivedAt, as instants or dates', async () => {
    const at = iso(january.at);
    const sinceJan = idsOf(await list(`?since=${encodeURIComponent(at)}`));
    const untilJan = idsOf(
      await list(`?until=${encodeURIComponent(`${january.year}-01-31T11:00:00+01:00`)}`),
    );
    expect(sinceJan).toEqual(idsOf(all.filter((d) => d.receivedAt >= at)));
    expect(sinceJan).toContain(ids.gdprJanuary);
    expect(untilJan).toEqual(idsOf(all.filter((d) => d.receivedAt < at)));
    expect(untilJan).not.toContain(ids.gdprJanuary);
    const week = iso(Date.now() - 7 * DAY).slice(0, 10);
    const lastWeek = idsOf(await list(`?since=${week}`));
    expect(lastWeek).toEqual(idsOf(all.filter((d) => d.receivedAt >= `${week}T00:00:00.000Z`)));
    expect(lastWeek).not.toContain(ids.ccpaAccess);
    expect(lastWeek).toContain(ids.open);
    const window = idsOf(await list(`?since=${iso(january.at)}&until=${iso(january.at + 1)}`));
    expect(window).toEqual([ids.gdprJanuary]);
  });

  it('pages with an opaque cursor: every page at most limit, together the whole list', async () => {
    for (const [query, expected] of [
      ['', idsOf(all)],
      ['&status=COMPLETED', idsOf(all.filter((d) => d.status === 'COMPLETED'))],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Answer = await call(
          'GET',
          `/requests?limit=2${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.status, res.text).toBe(200);
        expect(res.json.requests.length).toBeLessThanOrEqual(2);
        seen.push(...idsOf(res.json.requests));
        cursor = res.json.nextCursor;
        pages++;
        expect(pages).toBeLessThanOrEqual(expected.length);
      } while (cursor);
      expect(seen).toEqual(expected);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 2));
    }
  });

  it('refuses a cursor it did not hand out for this listing', async () => {
    const first = await call('GET', '/requests?limit=1');
    const cursor = String(first.json.nextCursor);
    const elsewhere = await call('GET', `/requests?status=COMPLETED&cursor=${cursor}`);
    expect([elsewhere.status, elsewhere.json.error.code]).toEqual([400, 'INVALID_CURSOR']);
    const forged = Buffer.from(JSON.stringify({ v: 1, i: 'byReceivedAt', k: { pk: CANARY_EMAIL } })).toString(
      'base64url',
    );
    const tampered = await call('GET', `/requests?cursor=${forged}`);
    expect([tampered.status, tampered.json.error.code]).toEqual([400, 'INVALID_CURSOR']);
  });
});

describe('POST /requests/search', () => {
  it('finds every request of a subject by the email in any case, and never answers with it', async () => {
    const res = await call('POST', '/requests/search', { email: CANARY_EMAIL.toUpperCase() });
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.json)).toEqual(['requests']);
    const found = res.json.requests as Doc[];
    // Newest receipt first: the CCPA access of ten days ago, then January's deletion.
    expect(found.map((d) => d.requestId)).toEqual([ids.ccpaAccess, ids.gdprJanuary]);
    expect(found.map((d) => d.maskedEmail)).toEqual(['z***@example.org', 'z***@example.org']);
    expect(res.text.toLowerCase()).not.toContain(CANARY_EMAIL);
    expect(res.text.toLowerCase()).not.toContain('zqcanary');

    const nobody = await call('POST', '/requests/search', { email: 'no.such.subject@example.com' });
    expect([nobody.status, nobody.json]).toEqual([200, { requests: [] }]);
  });

  it('never takes the email in a URL', async () => {
    const res = await call('GET', `/requests?email=${encodeURIComponent(CANARY_EMAIL)}`);
    expect([res.status, res.json.error.code]).toEqual([400, 'INVALID_QUERY']);
    expect(res.json.error.message).toMatch(/POST \/requests\/search/);
  });
});

describe('GET /records', () => {
  const rowsOf = (csv: string) => csv.split('\r\n').slice(1, -1);

  it('answers text/csv with the exact header and one row per request, oldest receipt first', async () => {
    const res = await call('GET', '/records');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
    expect(res.text.split('\r\n')[0]).toBe(
      'requestId,receivedAt,type,channel,source,jurisdiction,dueAt,extendedDueAt,respondedAt,status,outcome,errorCode,daysToRespond',
    );
    expect(res.text.split('\r\n')[0]).toBe(RECORDS_CSV_HEADER);
    expect(res.text.endsWith('\r\n')).toBe(true);
    const rows = rowsOf(res.text);
    expect(rows.map((r) => r.split(',')[0]).sort()).toEqual(Object.values(ids).sort());
    const received = rows.map((r) => r.split(',')[1]!);
    expect(received).toEqual([...received].sort());
    // No email, not even masked.
    expect(res.text).not.toContain('@');
  });

  it('holds the record of each request: January’s dry run, and the failure’s code', async () => {
    const doc = await statusOf(ids.gdprJanuary);
    const res = await call('GET', `/records?since=${iso(january.at)}&until=${iso(january.at + 1)}`);
    expect(rowsOf(res.text)).toEqual([
      [
        ids.gdprJanuary,
        doc.receivedAt,
        'deletion',
        'web-form',
        'api',
        'gdpr',
        doc.dueAt,
        '',
        doc.respondedAt,
        'COMPLETED',
        'dry-run',
        '',
        String(doc.daysToRespond),
      ].join(','),
    ]);
    const failed = await statusOf(ids.failed);
    const all = rowsOf((await call('GET', '/records')).text);
    expect(all.find((r) => r.startsWith(ids.failed))).toBe(
      [
        ids.failed,
        failed.receivedAt,
        'access',
        'phone',
        'api',
        'uk-gdpr',
        failed.dueAt,
        failed.extendedDueAt,
        '',
        'FAILED',
        '',
        'WORKFLOW_START_FAILED',
        '',
      ].join(','),
    );
  });
});

describe('minimization', () => {
  it('a COMPLETED request’s raw email is erased after QDSR_FORGET_EMAIL_AFTER_DAYS: find still finds it, export and retry are 409 EMAIL_FORGOTTEN', async () => {
    // The store 31 days from now: past every completed request's forget date (30 days).
    const later = new RequestStore({
      doc: dynamoDocumentClient(),
      tableName: w.aws.names.requestsTable,
      now: () => new Date(Date.now() + 31 * DAY),
    });
    expect(await later.forgetEmails()).toBeGreaterThanOrEqual(4);
    const record = await later.get(ids.ccpaAccess);
    expect(record?.email).toBeUndefined();
    expect(record?.emailForgottenAt).toEqual(expect.any(String));

    const exp = await call('GET', `/requests/${ids.ccpaAccess}/export`);
    expect([exp.status, exp.json.error.code]).toEqual([409, 'EMAIL_FORGOTTEN']);
    const retry = await call('POST', `/requests/${ids.ccpaAccess}/retry`, {});
    expect([retry.status, retry.json.error.code]).toEqual([409, 'EMAIL_FORGOTTEN']);
    const doc = await statusOf(ids.ccpaAccess);
    expect((doc.timeline as Array<{ step: string }>).map((t) => t.step)).toContain('EMAIL_FORGOTTEN');

    const found = await call('POST', '/requests/search', { email: CANARY_EMAIL });
    expect(found.json.requests.map((d: Doc) => d.requestId)).toEqual([ids.ccpaAccess, ids.gdprJanuary]);
    // Open and FAILED requests keep their email (it is needed to answer them).
    expect((await later.get(ids.failed))?.email).toBe(SEEDED_SUBJECT);
  });
});

describe('leak canaries', () => {
  it('no raw email (nor the extension reason) in any answer, log line or event', () => {
    expect(leaks.scanned['http answer']).toBeGreaterThan(30);
    expect(leaks.scanned.log).toBeGreaterThan(10);
    expect(leaks.scanned.event).toBeGreaterThan(3);
    leaks.assertClean('the ledger over HTTP');
  });
});
