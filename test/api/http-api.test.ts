import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../lambdas/core/export-writer';
import { maskEmail } from '../../lambdas/core/privacy';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { SEEDED_SUBJECT, SIMULATOR_CLIENT } from '../../local/simulator';
import { type ApiWorld, isTerminal, pollStatus, startApiWorld } from './harness';

/**
 * The HTTP API (README "HTTP API") over real HTTP: the local server, the api handler, the engine, the
 * simulator.
 */

let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
});
afterAll(() => w?.close());

const json = { 'content-type': 'application/json' };

async function post(path: string, body: unknown) {
  const res = await fetch(`${w.url}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string) {
  const res = await fetch(`${w.url}${path}`);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('an access request end to end', () => {
  let requestId: string;

  it('POST /requests answers 202 at once and starts exactly one workflow', async () => {
    w.hold(); // the workflow may not move before we have looked at it
    const res = await post('/requests', {
      type: 'access',
      email: SEEDED_SUBJECT,
      idempotencyKey: 'crm-ticket:1001',
    });
    expect(res.status).toBe(202);
    requestId = String(res.body.requestId);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body).toEqual({
      requestId,
      status: 'RECEIVED',
      links: { self: `/requests/${requestId}`, export: `/requests/${requestId}/export` },
    });
    expect(res.headers.get('location')).toBe(`/requests/${requestId}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(w.starts).toEqual([{ type: 'access', requestId }]);
  });

  it('the same idempotencyKey gives the same request and starts nothing more', async () => {
    const again = await post('/requests', {
      type: 'access',
      email: SEEDED_SUBJECT,
      idempotencyKey: 'crm-ticket:1001',
    });
    expect(again.status).toBe(202);
    expect(again.body.requestId).toBe(requestId);
    expect(w.starts).toHaveLength(1);
    // The key bound to another subject is a conflict, not a silent second request.
    const other = await post('/requests', {
      type: 'access',
      email: 'other@example.com',
      idempotencyKey: 'crm-ticket:1001',
    });
    expect(other.status).toBe(409);
    expect(other.body).toEqual({ error: { code: 'IDEMPOTENCY_CONFLICT', message: expect.any(String) } });
    expect(JSON.stringify(other.body)).not.toContain('other@');
    expect(w.starts).toHaveLength(1);
  });

  it('GET /requests/{id} shows the status document while it waits, and the export is 409', async () => {
    const res = await get(`/requests/${requestId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requestId,
      type: 'access',
      status: 'RECEIVED',
      maskedEmail: maskEmail(SEEDED_SUBJECT),
      counts: {},
      qualtrics: {},
      error: null,
    });
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'counts',
        'createdAt',
        'error',
        'maskedEmail',
        'qualtrics',
        'requestId',
        'status',
        'timeline',
        'type',
        'updatedAt',
        'jurisdiction',
        'receivedAt',
        'channel',
        'source',
        'dueAt',
        'extendedDueAt',
        'respondedAt',
        'outcome',
        'daysToRespond',
        'overdue',
      ].sort(),
    );
    expect(JSON.stringify(res.body)).not.toContain(SEEDED_SUBJECT);
    const early = await get(`/requests/${requestId}/export`);
    expect(early.status).toBe(409);
    expect(early.body).toEqual({
      error: { code: 'EXPORT_NOT_READY', message: expect.stringContaining('RECEIVED') },
    });
  });

  it('shows live progress until COMPLETED', async () => {
    w.release();
    const { doc, seen } = await pollStatus(w.url, requestId, isTerminal);
    expect(doc).toMatchObject({ status: 'COMPLETED', error: null });
    const timeline = doc.timeline as Array<{ at: string; step: string }>;
    expect(timeline[0]?.step).toBe('RECEIVED');
    expect(timeline.length).toBeGreaterThan(2);
    expect(timeline.map((e) => e.at)).toEqual([...timeline.map((e) => e.at)].sort());
    // Each document seen carried a timeline at least as long as the one before it.
    const lengths = seen.map((d) => (d.timeline as unknown[]).length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(doc.counts).toMatchObject({ directoriesSearched: expect.any(Number), files: expect.any(Number) });
    expect((doc.qualtrics as { customerDataRequestId?: string }).customerDataRequestId).toEqual(
      expect.any(String),
    );
  });

  it('GET /requests/{id}/export returns presigned links (≤ 15 min) that download the bundle', async () => {
    const before = Date.now();
    const res = await get(`/requests/${requestId}/export`);
    expect(res.status).toBe(200);
    const body = res.body as {
      manifestUrl: string;
      files: Array<{ key: string; url: string }>;
      expiresAt: string;
    };
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'files', 'manifestUrl']);
    const expires = Date.parse(body.expiresAt);
    expect(expires).toBeGreaterThan(before);
    expect(expires - before).toBeLessThanOrEqual(15 * 60 * 1000 + 1000);
    expect(new URL(body.manifestUrl).searchParams.get('X-Amz-Expires')).toBe('900');

    const manifest = (await (await fetch(body.manifestUrl)).json()) as Manifest;
    expect(manifest.requestId).toBe(requestId);
    expect(body.files.map((f) => f.key).sort()).toEqual(manifest.files.map((f) => f.key).sort());
    expect(body.files.length).toBe(manifest.counts.files);
    expect(body.files.length).toBeGreaterThan(0);
    for (const file of body.files) {
      const listed = manifest.files.find((f) => f.key === file.key)!;
      const download = await fetch(file.url);
      expect(download.status).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(bytes.length).toBe(listed.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(listed.sha256);
    }
  });
});

describe('deletion, retry, unknown ids', () => {
  it('a dry-run deletion completes and has no export', async () => {
    const res = await post('/requests', { type: 'deletion', email: SEEDED_SUBJECT, dryRun: true });
    expect(res.status).toBe(202);
    const requestId = String(res.body.requestId);
    expect(res.body.links).toEqual({ self: `/requests/${requestId}` });
    const { doc } = await pollStatus(w.url, requestId, isTerminal);
    expect(doc).toMatchObject({ type: 'deletion', status: 'COMPLETED', dryRun: true });
    const exp = await get(`/requests/${requestId}/export`);
    expect(exp.status).toBe(409);
    expect((exp.body.error as { code: string }).code).toBe('NO_EXPORT');
  });

  it('a request whose workflow could not start is FAILED, and POST /requests/{id}/retry runs it', async () => {
    w.failStarts = true;
    const res = await post('/requests', { type: 'access', email: SEEDED_SUBJECT });
    w.failStarts = false;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const error = res.body.error as { code: string; message: string };
    expect(error.code).toBe('WORKFLOW_START_FAILED');
    const requestId = /request ([0-9a-f-]{36})/.exec(error.message)?.[1];
    expect(requestId).toBeDefined();
    const failed = await get(`/requests/${requestId}`);
    expect(failed.body).toMatchObject({ status: 'FAILED', error: { code: 'WORKFLOW_START_FAILED' } });

    const retry = await post(`/requests/${requestId}/retry`, {});
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ requestId, status: 'RUNNING' });
    expect(w.redrives).toEqual([{ type: 'access', requestId }]);
    const { doc } = await pollStatus(w.url, requestId!, isTerminal);
    expect(doc.status).toBe('COMPLETED');
    expect((doc.timeline as Array<{ step: string }>).map((e) => e.step)).toContain('REOPENED');

    const again = await post(`/requests/${requestId}/retry`, {});
    expect(again.status).toBe(409);
    expect((again.body.error as { code: string }).code).toBe('NOT_RETRYABLE');
  });

  it('POST /requests/{id}/retry resumes an interrupted request (not ended, no process runs it), never a running one', async () => {
    // As a process that died mid-way leaves it: RUNNING, its first execution gone with the process.
    const store = workflowDeps().store;
    const { record } = await store.create({ source: 'api', type: 'access', email: SEEDED_SUBJECT });
    const orphan = record.requestId;
    await store.transition(orphan, 'RUNNING', 'STARTED');
    await store.recordExecution(orphan, { name: `${orphan}-1`, attempt: 1 });
    const redrivesBefore = w.redrives.length;
    const resumed = await post(`/requests/${orphan}/retry`, {});
    expect(resumed.status).toBe(202);
    expect(w.redrives.slice(redrivesBefore)).toEqual([{ type: 'access', requestId: orphan }]);
    const { doc } = await pollStatus(w.url, orphan, isTerminal);
    expect(doc.status).toBe('COMPLETED');
    expect((doc.timeline as Array<{ step: string }>).map((e) => e.step)).toContain('RESUMED');

    w.hold();
    try {
      const running = await post('/requests', { type: 'deletion', email: SEEDED_SUBJECT, dryRun: true });
      const id = String(running.body.requestId);
      const refused = await post(`/requests/${id}/retry`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'NOT_RETRYABLE' });
    } finally {
      w.release();
    }
  });

  it('an unknown request id is 404 on every route', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const res of [
      await get(`/requests/${id}`),
      await get(`/requests/${id}/export`),
      await post(`/requests/${id}/retry`, {}),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'REQUEST_NOT_FOUND', message: 'no request with this id' } });
    }
  });
});

describe('GET /health', () => {
  it('200 with whoami ids and the scope check', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      qualtrics: { origin: w.sim.url, brandId: expect.any(String), userId: expect.any(String) },
      scopes: { missing: [] },
      problems: [],
    });
  });

  it('503 with a clear reason when the client secret is wrong, without the secret', async () => {
    const wrong = 'definitely-not-the-secret-4711';
    w.setEnv({ QUALTRICS_CLIENT_SECRET: wrong });
    try {
      const res = await get('/health');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        ok: false,
        error: { code: 'QUALTRICS_AUTH', message: expect.any(String) },
      });
      expect(JSON.stringify(res.body)).not.toContain(wrong);
    } finally {
      w.setEnv({ QUALTRICS_CLIENT_SECRET: SIMULATOR_CLIENT.clientSecret });
    }
    expect((await get('/health')).status).toBe(200);
  });
});
