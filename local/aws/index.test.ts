import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient, s3Client } from '../../lambdas/core/aws-clients';
import { ExportWriter } from '../../lambdas/core/export-writer';
import { RequestStore } from '../../lambdas/core/request-store';
import { DEFAULT_LOCAL_NAMES } from '../../lambdas/core/tables';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '.';

let scratch: string;
const running: LocalAws[] = [];

async function start(dataDir?: string, names?: LocalAwsOptions['names']): Promise<LocalAws> {
  const aws = await startLocalAws({ dataDir, names });
  running.push(aws);
  return aws;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'qdsr-local-aws-test-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.close()));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('startLocalAws', () => {
  it('serves the tables and the bucket on loopback and describes them in env', async () => {
    const aws = await start();
    expect(aws.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.names).toEqual(DEFAULT_LOCAL_NAMES);
    expect(aws.env).toEqual({
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      QDSR_LIMITER_TABLE: 'qdsr-rate-limiter',
      QDSR_REQUESTS_TABLE: 'qdsr-requests',
      QDSR_EXPORT_BUCKET: 'qdsr-exports',
    });

    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const dynamo = new DynamoDBClient({ endpoint: aws.dynamoEndpoint, region: 'us-east-1', credentials });
    for (const table of [aws.names.limiterTable, aws.names.requestsTable]) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    }
    dynamo.destroy();
    const s3 = new S3Client({
      endpoint: aws.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    await expect(s3.send(new HeadBucketCommand({ Bucket: aws.names.exportBucket }))).resolves.toBeDefined();
    s3.destroy();
  });

  it('applyEnv points the shared SDK clients at it, and close() puts the environment back', async () => {
    const before = { ...process.env };
    process.env.AWS_SESSION_TOKEN = 'from-the-shell';
    const aws = await start(undefined, { exportBucket: 'custom-bucket' });
    aws.applyEnv();
    expect(process.env.AWS_ENDPOINT_URL_S3).toBe(aws.s3Endpoint);
    expect(process.env.QDSR_EXPORT_BUCKET).toBe('custom-bucket');
    expect(process.env.AWS_SESSION_TOKEN).toBeUndefined();

    const writer = new ExportWriter({ s3: s3Client(), bucket: 'custom-bucket' });
    const stored = await writer.putJson('exports/x/hello.json', { hello: 'world' });
    expect(await writer.readJson(stored.key)).toEqual({ hello: 'world' });
    const store = new RequestStore({ doc: dynamoDocumentClient(), tableName: aws.names.requestsTable });
    const { record } = await store.create({ source: 'api', type: 'access', email: 'a@example.com' });
    expect((await store.get(record.requestId))?.status).toBe('RECEIVED');

    await aws.close();
    await aws.close(); // idempotent
    expect(process.env.AWS_SESSION_TOKEN).toBe('from-the-shell');
    delete process.env.AWS_SESSION_TOKEN;
    expect(process.env).toEqual(before);
  });

  it('persists requests and objects across a restart on the same data dir', async () => {
    const dataDir = join(scratch, 'persist');
    const first = await start(dataDir);
    first.applyEnv();
    const store = () =>
      new RequestStore({ doc: dynamoDocumentClient(), tableName: first.names.requestsTable });
    const writer = () => new ExportWriter({ s3: s3Client(), bucket: first.names.exportBucket });
    const { record } = await store().create({
      source: 'api',
      type: 'deletion',
      email: 'b@example.com',
      idempotencyKey: 'k-1',
    });
    await store().transition(record.requestId, 'RUNNING', 'STARTED');
    const stored = await writer().writeEvidence(record.requestId, { erasureRequestId: 'PGR_1' });
    await first.close();

    // Running again finds the data of the first run (tables and bucket are not recreated empty).
    const second = await start(dataDir);
    second.applyEnv();
    const again = await store().get(record.requestId);
    expect(again?.status).toBe('RUNNING');
    expect(again?.timeline.map((e) => e.step)).toEqual(['RECEIVED', 'STARTED']);
    const same = await store().create({
      source: 'api',
      type: 'deletion',
      email: 'b@example.com',
      idempotencyKey: 'k-1',
    });
    expect(same).toMatchObject({ created: false, record: { requestId: record.requestId } });
    expect(await writer().readJson(stored.key)).toEqual({ erasureRequestId: 'PGR_1' });
  });

  it('refuses a second process-like start on a data dir that is in use', async () => {
    const dataDir = join(scratch, 'locked');
    await start(dataDir);
    await expect(startLocalAws({ dataDir })).rejects.toThrow(/in use by another qualtrics-dsr process/);
  });

  it('pages ListObjectsV2 (s3rver continuation tokens work on OpenSSL 3)', async () => {
    const aws = await start();
    const s3 = new S3Client({
      endpoint: aws.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: aws.names.exportBucket, Key: `p/${i}`, Body: String(i) }));
    }
    const first = await s3.send(
      new ListObjectsV2Command({ Bucket: aws.names.exportBucket, Prefix: 'p/', MaxKeys: 2 }),
    );
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(
      new ListObjectsV2Command({
        Bucket: aws.names.exportBucket,
        Prefix: 'p/',
        MaxKeys: 2,
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    expect([...(first.Contents ?? []), ...(second.Contents ?? [])].map((o) => o.Key)).toEqual([
      'p/0',
      'p/1',
      'p/2',
      'p/3',
    ]);
    s3.destroy();
  });
});
