import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BULK_RETRIES } from '../../lambdas/core/api';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { requestPk, requestStoreFromEnv } from '../../lambdas/core/request-store';
import { type ApiWorld, isTerminal, pollStatus, startApiWorld } from './harness';

/**
 * The bulk routes through the local API on real parts (README "Bulk"): a batch answered item by
 * item with the same rules and idempotency as POST /requests, its body limit, and the retry of
 * the FAILED requests a filter matches (forgotten emails skipped).
 */

let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
});
afterAll(async () => {
  await w?.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${w.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

interface BatchResult {
  index: number;
  requestId?: string;
  status?: string;
  error?: { code: string; message: string };
}

describe('POST /requests/batch', () => {
  it('answers each submission by its index: recorded and started, or its own error', async () => {
    const res = await post('/requests/batch', {
      requests: [
        { type: 'access', email: 'batch.one@example.com', jurisdiction: 'ccpa' },
        { type: 'access', email: 'batch two@example.com' },
        { type: 'deletion', email: 'batch.three@example.com', dryRun: true, idempotencyKey: 'batch:three' },
        'not an object',
        { type: 'access', email: 'batch.four@example.com', source: 'import' },
      ],
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: BatchResult[] };
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(results[0]).toMatchObject({ requestId: expect.any(String), status: expect.any(String) });
    expect(results[1]).toEqual({
      index: 1,
      error: { code: 'INVALID_BODY', message: expect.stringMatching(/email/) },
    });
    expect(results[2]?.requestId).toBeTruthy();
    expect(results[3]?.error?.code).toBe('INVALID_BODY');
    // The connector sets the source: a submitter cannot.
    expect(results[4]?.error?.message).toMatch(/unknown field source/);
    expect(JSON.stringify(results)).not.toContain('batch two');
    for (const r of [results[0]!, results[2]!]) {
      const { doc } = await pollStatus(w.url, r.requestId!, isTerminal);
      expect(doc).toMatchObject({ status: 'COMPLETED', source: 'api' });
    }
    const { doc } = await pollStatus(w.url, results[0]!.requestId!, isTerminal);
    expect(doc.jurisdiction).toBe('ccpa');

    // The same key again: the same request, nothing new started.
    const starts = w.starts.length;
    const again = (await (
      await post('/requests/batch', {
        requests: [
          { type: 'deletion', email: 'batch.three@example.com', dryRun: true, idempotencyKey: 'batch:three' },
        ],
      })
    ).json()) as { results: BatchResult[] };
    expect(again.results).toEqual([{ index: 0, requestId: results[2]!.requestId, status: 'COMPLETED' }]);
    expect(w.starts.length).toBe(starts);
  });

  it('takes up to 500 submissions in a body past the 64 KiB of other routes, not 501, not over 1 MiB', async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      type: 'access',
      email: `${'x'.repeat(240)}${i}`,
    }));
    const body = JSON.stringify({ requests: items });
    expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
    const items0 = await w.countRequestItems();
    const res = await post('/requests/batch', body);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: BatchResult[] };
    expect(results).toHaveLength(500);
    expect(results.every((r) => r.error?.code === 'INVALID_BODY')).toBe(true);
    expect(await w.countRequestItems()).toBe(items0);

    const tooMany = await post('/requests/batch', { requests: [...items, items[0]] });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: { message: string } }).error.message).toMatch(/1-500/);
    const huge = await post('/requests/batch', { requests: ['y'.repeat(1024 * 1024)] });
    expect(huge.status).toBe(413);
    // Other routes keep their 64 KiB.
    expect((await post('/requests', { type: 'access', email: 'z'.repeat(70 * 1024) })).status).toBe(413);
  });
});

describe('x-qdsr-source through API Gateway', () => {
  it('is not trusted: a batch or a submission that claims to come from the CLI is recorded with source api', async () => {
    // startApiWorld serves the Lambda's handler, as API Gateway does; only a data dir's owner trusts the header.
    const claim = (path: string, body: unknown, source: string) =>
      fetch(`${w.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-qdsr-source': source },
        body: JSON.stringify(body),
      });
    const batch = (await (
      await claim(
        '/requests/batch',
        { requests: [{ type: 'access', email: 'claim.one@example.com' }] },
        'import',
      )
    ).json()) as { results: BatchResult[] };
    const single = (await (
      await claim('/requests', { type: 'access', email: 'claim.two@example.com' }, 'cli')
    ).json()) as { requestId: string };
    for (const id of [batch.results[0]!.requestId!, single.requestId]) {
      const { doc } = await pollStatus(w.url, id, isTerminal);
      expect(doc.source).toBe('api');
    }
  });
});

describe('POST /requests/retry', () => {
  it('retries the FAILED requests the filter matches, skips a forgotten email, leaves the others', async () => {
    // FAILED requests as a stopped run leaves them (recorded, failed, no workflow running).
    const store = requestStoreFromEnv();
    const failedOne = async (email: string, code: string) => {
      const { record } = await store.create({ source: 'api', type: 'deletion', email, dryRun: true });
      return store.fail(record.requestId, { code, message: 'the local server stopped' });
    };
    const failed = [
      await failedOne('retry.one@example.com', 'INTERRUPTED'),
      await failedOne('retry.two@example.com', 'INTERRUPTED'),
    ];
    const otherCode = await failedOne('retry.other@example.com', 'QUALTRICS_AUTH');
    const forgotten = await failedOne('retry.forgotten@example.com', 'INTERRUPTED');
    await dynamoDocumentClient().send(
      new UpdateCommand({
        TableName: w.aws.names.requestsTable,
        Key: { pk: requestPk(forgotten.requestId) },
        UpdateExpression: 'REMOVE email SET emailForgottenAt = :at',
        ExpressionAttributeValues: { ':at': new Date().toISOString() },
      }),
    );

    // No FAILED access request matches: nothing is retried.
    const none = await post('/requests/retry', {
      status: 'FAILED',
      type: 'access',
      errorCode: 'INTERRUPTED',
    });
    expect(await none.json()).toEqual({ retried: [], skipped: [] });

    const res = await post('/requests/retry', {
      status: 'FAILED',
      type: 'deletion',
      errorCode: 'INTERRUPTED',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      retried: string[];
      skipped: Array<{ requestId: string; reason: string }>;
    };
    expect(Object.keys(body)).toEqual(['retried', 'skipped']);
    expect(body.retried.sort(), JSON.stringify(body)).toEqual(failed.map((r) => r.requestId).sort());
    expect(body.skipped).toEqual([{ requestId: forgotten.requestId, reason: 'EMAIL_FORGOTTEN' }]);
    for (const id of body.retried) {
      const { doc } = await pollStatus(w.url, id, (d) => d.status === 'COMPLETED' || d.status === 'FAILED');
      expect(doc.status).toBe('COMPLETED');
    }
    expect((await store.get(otherCode.requestId))?.status).toBe('FAILED');
    expect(MAX_BULK_RETRIES).toBe(100);
  });

  it('refuses anything but status FAILED, and an email in the body, without echoing it', async () => {
    for (const body of [{}, { status: 'RUNNING' }, { status: 'FAILED', email: 'someone@example.com' }]) {
      const res = await post('/requests/retry', body);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain('someone@example.com');
    }
  });
});
