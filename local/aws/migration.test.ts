import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { RequestStore } from '../../lambdas/core/request-store';
import { DEFAULT_LOCAL_NAMES, REQUESTS_TABLE_INDEXES } from '../../lambdas/core/tables';
import { startLocalAws } from '.';
import { ensureTables, LOCAL_CREDENTIALS, LOCAL_REGION, migrationTableName, startDynalite } from './dynamo';

/**
 * A data dir made before the ledger: dynalite cannot add an index to a table, so the runtime
 * rebuilds the requests table once, and finishes a rebuild an earlier start left half done.
 */

const TABLE = DEFAULT_LOCAL_NAMES.requestsTable;
const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const ago = (days: number): string => new Date(Date.now() - days * DAY * 1000).toISOString();

const FINISHED = ago(9);

/** Items as the connector wrote them before the ledger (90-day retention, no ledger attributes). */
const OLD_ITEMS = [
  {
    pk: 'request#00000000-0000-4000-8000-000000000001',
    requestId: '00000000-0000-4000-8000-000000000001',
    type: 'access',
    status: 'COMPLETED',
    email: 'old.subject@example.com',
    maskedEmail: 'o***@example.com',
    emailSha256: emailSha256('old.subject@example.com'),
    createdAt: ago(10),
    updatedAt: FINISHED,
    startedAt: ago(10),
    finishedAt: FINISHED,
    timeline: [{ at: ago(10), step: 'RECEIVED' }],
    counts: { files: 2 },
    qualtrics: {},
    expiresAt: now + 81 * DAY,
  },
  {
    pk: 'request#00000000-0000-4000-8000-000000000002',
    requestId: '00000000-0000-4000-8000-000000000002',
    type: 'deletion',
    status: 'FAILED',
    email: 'old.subject@example.com',
    maskedEmail: 'o***@example.com',
    emailSha256: emailSha256('old.subject@example.com'),
    dryRun: false,
    createdAt: ago(40),
    updatedAt: ago(40),
    finishedAt: ago(40),
    timeline: [],
    counts: {},
    qualtrics: {},
    error: { code: 'QUALTRICS_AUTH', message: 'refused' },
    expiresAt: now + 50 * DAY,
  },
  // Past its retention: TTL would have removed it.
  {
    pk: 'request#00000000-0000-4000-8000-000000000003',
    requestId: '00000000-0000-4000-8000-000000000003',
    type: 'access',
    status: 'COMPLETED',
    email: 'gone@example.com',
    maskedEmail: 'g***@example.com',
    emailSha256: emailSha256('gone@example.com'),
    createdAt: ago(200),
    updatedAt: ago(199),
    finishedAt: ago(199),
    timeline: [],
    counts: {},
    qualtrics: {},
    expiresAt: now - 100 * DAY,
  },
  {
    pk: 'idem#crm-42',
    requestId: '00000000-0000-4000-8000-000000000001',
    type: 'access',
    emailSha256: emailSha256('old.subject@example.com'),
    dryRun: false,
    expiresAt: now + 81 * DAY,
  },
];

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'qdsr-migration-test-'));
});

/** A data dir in a given state, written by a dynalite of its own (closed before the runtime starts). */
async function prepare(
  dataDir: string,
  state: (doc: DynamoDBDocumentClient, endpoint: string) => Promise<void>,
) {
  const dir = join(dataDir, 'dynamodb');
  mkdirSync(dir, { recursive: true });
  const dynamo = await startDynalite({ path: dir });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await state(DynamoDBDocumentClient.from(client), dynamo.endpoint);
  } finally {
    client.destroy();
    await dynamo.close();
  }
}

async function oldTable(endpoint: string, doc: DynamoDBDocumentClient, name: string = TABLE) {
  await ensureTables(endpoint, [{ name }]);
  for (const Item of OLD_ITEMS) await doc.send(new PutCommand({ TableName: name, Item }));
}

async function checkMigrated(dataDir: string) {
  const aws = await startLocalAws({ dataDir });
  const client = new DynamoDBClient({
    endpoint: aws.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
    expect((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName).sort()).toEqual(
      Object.values(REQUESTS_TABLE_INDEXES)
        .map((i) => i.name)
        .sort(),
    );
    await expect(
      client.send(new DescribeTableCommand({ TableName: migrationTableName(TABLE) })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const doc = DynamoDBDocumentClient.from(client);
    const store = new RequestStore({ doc, tableName: TABLE });
    const listed = await store.list({ limit: 10 });
    expect(listed.requests.map((r) => r.requestId)).toEqual([
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002',
    ]);
    const [completed, failed] = listed.requests;
    expect(completed).toMatchObject({
      receivedAt: OLD_ITEMS[0]?.createdAt,
      jurisdiction: 'gdpr',
      channel: 'unspecified',
      respondedAt: FINISHED,
      outcome: 'data-provided',
      counts: { files: 2 },
    });
    expect(failed).toMatchObject({ status: 'FAILED', respondedAt: null, error: { code: 'QUALTRICS_AUTH' } });
    expect((await store.findBySubject('OLD.subject@example.com')).length).toBe(2);
    // The current retention (730 days) from the response; the email is due to be forgotten.
    const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: OLD_ITEMS[0]?.pk } }))).Item;
    expect(item?.expiresAt).toBe(Math.floor(Date.parse(FINISHED) / 1000) + 730 * DAY);
    expect(item?.forgetEmailAt).toBe(new Date(Date.parse(FINISHED) + 30 * DAY * 1000).toISOString());
    expect(item?.email).toBe('old.subject@example.com');
    // Other items as they were; expired ones gone.
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'idem#crm-42' } }))).Item).toEqual(
      OLD_ITEMS[3],
    );
    expect(
      (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: OLD_ITEMS[2]?.pk } }))).Item,
    ).toBeUndefined();
  } finally {
    client.destroy();
    await aws.close();
  }
  // Once migrated, a restart changes nothing.
  const again = await startLocalAws({ dataDir });
  const store = new RequestStore({
    doc: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: again.dynamoEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      }),
    ),
    tableName: TABLE,
  });
  expect((await store.list({ limit: 10 })).requests).toHaveLength(2);
  await again.close();
  rmSync(dataDir, { recursive: true, force: true });
}

describe('a data dir made before the ledger', () => {
  it('is migrated once at start: indexes added, records given their ledger attributes', async () => {
    await prepare(scratch, (doc, endpoint) => oldTable(endpoint, doc));
    await checkMigrated(scratch);
  });

  it('finishes a migration stopped after the table was dropped (the copy is whole)', async () => {
    await prepare(scratch, async (doc, endpoint) => {
      await oldTable(endpoint, doc, migrationTableName(TABLE));
      await doc.send(
        new PutCommand({ TableName: migrationTableName(TABLE), Item: { pk: '#migration-copy-complete' } }),
      );
    });
    await checkMigrated(scratch);
  });

  it('starts over from the table when an earlier copy was left partial', async () => {
    await prepare(scratch, async (doc, endpoint) => {
      await oldTable(endpoint, doc);
      await ensureTables(endpoint, [{ name: migrationTableName(TABLE) }]);
      await doc.send(new PutCommand({ TableName: migrationTableName(TABLE), Item: OLD_ITEMS[0] }));
    });
    await checkMigrated(scratch);
  });
});
