import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportWriterFromEnv } from '../../lambdas/core/export-writer';
import { emailSha256 } from '../../lambdas/core/privacy';
import { requestStoreFromEnv } from '../../lambdas/core/request-store';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { LeakScanner } from '../support/canaries';
import { EXPECTED_METRICS, METRICS_YEAR, seedMetricsLedger } from '../support/metrics-ledger';
import { type ApiWorld, startApiWorld } from './harness';

/**
 * What people read over HTTP, through the local API as `serve` runs it: the yearly metrics of a
 * seeded ledger, and the deletion evidence (never with a raw email). Every answer is scanned for
 * the subjects' emails.
 */

const UNKNOWN_SUBJECT = 'Evidence.Nobody@Example.com';
const LEGACY_SUBJECT = 'Legacy.Person@example.com';

let w: ApiWorld;
const leaks = new LeakScanner({ watch: [SEEDED_SUBJECT, UNKNOWN_SUBJECT, LEGACY_SUBJECT] });

beforeAll(async () => {
  w = await startApiWorld();
  await seedMetricsLedger(w.aws.names.requestsTable);
});
afterAll(async () => {
  await w?.close();
  leaks.assertClean('leak canaries in the answers');
});

// biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read by each test
async function get(path: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${w.url}${path}`);
  const text = await res.text();
  leaks.scan(`GET ${path}`, text);
  return { status: res.status, json: JSON.parse(text), text };
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${w.url}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return String(((await res.json()) as { requestId: string }).requestId);
}

describe('GET /reports/metrics', () => {
  it('counts the requests received in the year (UTC), by type, with the days to respond of the completed ones', async () => {
    const res = await get(`/reports/metrics?year=${METRICS_YEAR}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(EXPECTED_METRICS.last);
    // A year without requests: zero counts, null days.
    const empty = await get('/reports/metrics?year=2001');
    expect(empty.json.byType.deletion).toEqual(EXPECTED_METRICS.this.byType.deletion);
  });

  it.each([
    '',
    '?year=',
    '?year=26',
    '?year=twenty',
    '?year=2026&year=2025',
    `?year=${METRICS_YEAR}&type=access`,
  ])('refuses %j with 400 INVALID_QUERY', async (query) => {
    const res = await get(`/reports/metrics${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_QUERY');
  });
});

describe('GET /requests/{id}/evidence', () => {
  it('answers the evidence of a deletion: statuses, verification, the subject by hash, no email', async () => {
    const requestId = await submit({ type: 'deletion', email: SEEDED_SUBJECT, dryRun: true });
    await w.workflows.settled(requestId);
    const res = await get(`/requests/${requestId}/evidence`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      schemaVersion: '2.0',
      requestId,
      type: 'deletion',
      subject: { emailSha256: emailSha256(SEEDED_SUBJECT) },
      subjectFound: true,
      searchOnly: true,
      emailsNotFound: [],
      verification: { contactsRemaining: 4 },
    });
    expect(res.json.statuses.at(-1).status).toBe('Completed');
  });

  it('keeps "not found" as a masked, hashed entry: the evidence still says whom Qualtrics did not find', async () => {
    const requestId = await submit({ type: 'deletion', email: UNKNOWN_SUBJECT });
    await w.workflows.settled(requestId);
    const res = await get(`/requests/${requestId}/evidence`);
    expect(res.status).toBe(200);
    expect(res.json.subjectFound).toBe(false);
    expect(res.json.emailsNotFound).toEqual([
      { maskedEmail: 'e***@example.com', emailSha256: emailSha256(UNKNOWN_SUBJECT) },
    ]);
  });

  it('masks evidence stored with raw addresses (before schema 2.0)', async () => {
    const store = requestStoreFromEnv();
    const { record } = await store.create({ source: 'api', type: 'deletion', email: LEGACY_SUBJECT });
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    await store.complete(record.requestId, { outcome: 'no-data-found' });
    await exportWriterFromEnv().writeEvidence(record.requestId, {
      schemaVersion: '1.0',
      requestId: record.requestId,
      erasureRequestId: 'PGR_legacy',
      emailsNotFound: [LEGACY_SUBJECT],
      failureReason: `nothing for ${LEGACY_SUBJECT}`,
    });
    const res = await get(`/requests/${record.requestId}/evidence`);
    expect(res.status).toBe(200);
    expect(res.json.emailsNotFound).toEqual([
      { maskedEmail: 'l***@example.com', emailSha256: emailSha256(LEGACY_SUBJECT) },
    ]);
    expect(res.json.failureReason).toBe('nothing for L***@example.com');
  });

  it('409 NO_EVIDENCE for an access request, 409 EVIDENCE_NOT_READY before it is written, 410 once gone, 404 unknown', async () => {
    const access = await submit({ type: 'access', email: SEEDED_SUBJECT });
    await w.workflows.settled(access);
    expect((await get(`/requests/${access}/evidence`)).json.error.code).toBe('NO_EVIDENCE');

    w.hold();
    const pending = await submit({ type: 'deletion', email: SEEDED_SUBJECT, dryRun: true });
    const early = await get(`/requests/${pending}/evidence`);
    expect([early.status, early.json.error.code]).toEqual([409, 'EVIDENCE_NOT_READY']);
    w.release();
    await w.workflows.settled(pending);
    expect((await get(`/requests/${pending}/evidence`)).status).toBe(200);

    const store = requestStoreFromEnv();
    const { record } = await store.create({ source: 'api', type: 'deletion', email: SEEDED_SUBJECT });
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    await store.complete(record.requestId, {});
    const gone = await get(`/requests/${record.requestId}/evidence`);
    expect([gone.status, gone.json.error.code]).toEqual([410, 'EVIDENCE_EXPIRED']);

    const unknown = await get('/requests/00000000-0000-4000-8000-000000000000/evidence');
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'REQUEST_NOT_FOUND']);
  });
});
