import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../lambdas/core/aws-clients';
import { RequestStore } from '../lambdas/core/request-store';
import { scopedEnv } from '../test/support/scoped-env';
import { startLocalAws } from './aws';
import { startRuntime } from './runtime';

const scratch = mkdtempSync(join(tmpdir(), 'qdsr-runtime-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the local runtime', () => {
  it('forgets the emails that are due when it starts', async () => {
    const dataDir = join(scratch, 'data');
    const aws = await startLocalAws({ dataDir });
    aws.applyEnv();
    const at = (daysAgo: number) => () => new Date(Date.now() - daysAgo * 86_400_000);
    const store = (now: () => Date) =>
      new RequestStore({ doc: dynamoDocumentClient(), tableName: aws.names.requestsTable, now });
    const due = await store(at(40)).create({ source: 'cli', type: 'access', email: 'due@example.com' });
    await store(at(31)).complete(due.record.requestId, {});
    const recent = await store(at(5)).create({ source: 'cli', type: 'access', email: 'recent@example.com' });
    await store(at(4)).complete(recent.record.requestId, {});
    await aws.close();

    const env = scopedEnv();
    const runtime = await startRuntime({ dataDir, qualtrics: false });
    try {
      const now = store(() => new Date());
      expect((await now.get(due.record.requestId))?.email).toBeUndefined();
      expect((await now.get(due.record.requestId))?.emailForgottenAt).toEqual(expect.any(String));
      expect((await now.get(recent.record.requestId))?.email).toBe('recent@example.com');
    } finally {
      await runtime.close();
      env.restore();
    }
  });
});
