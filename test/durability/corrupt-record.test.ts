import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { requestPk } from '../../lambdas/core/request-store';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { type DataDirOwner, startOwner } from '../../local/owner/owner';
import { connectorEnvFor, SEEDED_SUBJECT, type Simulator, startSimulator } from '../../local/simulator';
import { cleanEnv, runCli } from '../cli/run-cli';
import { scopedEnv } from '../support/scoped-env';
import { until } from './processes';

/**
 * A request record damaged on disk (edited by hand, a broken copy): the request ends FAILED with
 * `RECORD_UNREADABLE` naming the attributes (never their values), the owner goes on serving, and
 * the CLI says so with exit 3, no stack trace.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'qdsr-corrupt-'));
const env = scopedEnv();
let sim: Simulator;
let owner: DataDirOwner;
beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.01 });
  env.set(connectorEnvFor(sim.url));
  owner = await startOwner({ dataDir, waitScale: 0.01, port: 0 });
});
afterAll(async () => {
  await owner?.close();
  await sim?.close();
  env.restore();
  rmSync(dataDir, { recursive: true, force: true });
});

const table = () => process.env.QDSR_REQUESTS_TABLE as string;
const raw = async (requestId: string) =>
  (
    await dynamoDocumentClient().send(
      new GetCommand({ TableName: table(), Key: { pk: requestPk(requestId) } }),
    )
  ).Item as Record<string, unknown>;

/** A request recorded an hour ago (not started) whose timeline and counts are no longer what the store wrote. */
async function damagedRequest(): Promise<string> {
  const { record } = await workflowDeps().store.create({
    source: 'cli',
    type: 'access',
    email: SEEDED_SUBJECT,
  });
  await dynamoDocumentClient().send(
    new PutCommand({
      TableName: table(),
      Item: {
        ...record,
        updatedAt: new Date(Date.now() - 3_600_000).toISOString(),
        timeline: 'garbled',
        counts: 'x',
      },
    }),
  );
  return record.requestId;
}

describe('an unreadable request record', () => {
  it('ends FAILED (RECORD_UNREADABLE) when its workflow meets it, and the owner goes on', async () => {
    const id = await damagedRequest();
    await owner.workflows.start('access', id);
    const item = await until(
      () => raw(id),
      (i) => i.status === 'FAILED',
    );
    expect(item.error).toEqual({
      code: 'RECORD_UNREADABLE',
      message: expect.stringMatching(/is unreadable \(counts, timeline not as qualtrics-dsr writes them/),
    });
    expect(JSON.stringify(item.error)).not.toContain('garbled');
    // The API says the same of it; other requests are served.
    const get = await owner.handle({
      method: 'GET',
      path: `/requests/${id}`,
      headers: {},
      body: null,
      query: {},
    });
    expect(get.statusCode).toBe(500);
    expect(JSON.parse(get.body).error.code).toBe('RECORD_UNREADABLE');
    const list = await owner.handle({ method: 'GET', path: '/requests', headers: {}, body: null, query: {} });
    expect(list.statusCode).toBe(200);
  });

  it('is ended FAILED by the sweep, never resumed again and again', async () => {
    const id = await damagedRequest();
    const sweep = await owner.handle({ method: 'POST', path: '/sweep', headers: {}, body: null, query: {} });
    expect(JSON.parse(sweep.body)).toMatchObject({ resumed: [], failed: [id] });
    expect(await raw(id)).toMatchObject({ status: 'FAILED', error: { code: 'RECORD_UNREADABLE' } });
  });

  it('status from the CLI (handed to the owner): exit 3 naming it, no stack trace', async () => {
    const id = await damagedRequest();
    const r = await runCli(['status', id, '--data-dir', dataDir], cleanEnv());
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/RECORD_UNREADABLE: the record of request [0-9a-f-]{36} is unreadable/);
    expect(r.stderr).not.toMatch(/\bat .+\.(ts|js):\d+/);
    expect(r.stdout).toBe('');
  });
});
