import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import schema from '../../../schemas/manifest.schema.json';
import { createApi } from '../api/service';
import { s3Client } from '../aws-clients';
import { InputError } from '../errors';
import { emailSha256 } from '../privacy';
import { customerDataFileKey, directoryFileKey, evidenceKey, exportPrefix, manifestKey } from '../tables';
import { ExportWriter, hashStream, type Manifest } from '.';

let aws: LocalAws;
let writer: ExportWriter;
let scratch: string;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateManifest = ajv.compile(schema);

/**
 * A deterministic pseudo-random stream of `total` bytes, produced chunk by chunk (never held
 * whole); `expected` is filled in with its own hash as it goes.
 */
function generatedStream(total: number, expected: { sha256?: string }): Readable {
  const hash = createHash('sha256');
  // One pseudo-random block, stamped with the chunk number so no two chunks are alike.
  const block = Buffer.alloc(64 * 1024 + 17);
  for (let off = 0; off < block.length; off += 32) {
    createHash('sha256').update(String(off)).digest().copy(block, off);
  }
  let produced = 0;
  let index = 0;
  return new Readable({
    read() {
      if (produced >= total) {
        expected.sha256 = hash.digest('hex');
        this.push(null);
        return;
      }
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, total - produced)));
      if (chunk.length >= 8) chunk.writeBigUInt64BE(BigInt(index++), 0);
      hash.update(chunk);
      produced += chunk.length;
      this.push(chunk);
    },
  });
}

async function objectSha256(key: string): Promise<{ bytes: number; sha256: string }> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: aws.names.exportBucket, Key: key }));
  return hashStream(out.Body as Readable);
}

/** Writes a bundle like the access workflow does: one customer-data file, two directory files. */
async function writeBundle(requestId: string) {
  const customerData = await writer.putStream(
    customerDataFileKey(requestId, 'F_abc', 'zip'),
    Readable.from([Buffer.from('PK\u0003\u0004 zipped survey responses '), Buffer.alloc(70_000, 7)]),
    'application/zip',
  );
  const dirA = await writer.putJson(directoryFileKey(requestId, 'POOL_A'), {
    directoryId: 'POOL_A',
    contacts: [{ contactId: 'CID_1', email: 'jane.doe@example.com', firstName: 'Jane' }],
  });
  const dirB = await writer.putJson(directoryFileKey(requestId, 'POOL_B'), {
    directoryId: 'POOL_B',
    contacts: [{ contactId: 'CID_2' }, { contactId: 'CID_3' }],
  });
  return { customerData, dirA, dirB };
}

function manifestInput(requestId: string) {
  return {
    requestId,
    type: 'access' as const,
    emailSha256: emailSha256('jane.doe@example.com'),
    createdAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:05:00.000Z',
    qualtrics: { target: 'https://iad1.qualtrics.com', customerDataRequestId: 'CDR_1', fileIds: ['F_abc'] },
    directoriesSearched: [
      { directoryId: 'POOL_A', name: 'Default Directory', contactsFound: 1 },
      { directoryId: 'POOL_B', contactsFound: 2 },
      { directoryId: 'POOL_EMPTY', name: 'Partners', contactsFound: 0 },
    ],
  };
}

beforeAll(async () => {
  aws = await startLocalAws();
  aws.applyEnv();
  // A page size of 2 makes every listing below span several ListObjectsV2 pages.
  writer = new ExportWriter({ s3: s3Client(), bucket: aws.names.exportBucket, listPageSize: 2 });
  scratch = mkdtempSync(join(tmpdir(), 'qdsr-writer-test-'));
});

afterAll(async () => {
  await aws?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('putStream', () => {
  it('streams ~20 MB (multipart) and stores the bytes, size and hash exactly', async () => {
    const requestId = randomUUID();
    const key = customerDataFileKey(requestId, 'F_big', 'csv');
    const total = 20 * 1024 * 1024 + 12_345;
    const expected: { sha256?: string } = {};
    const stored = await writer.putStream(key, generatedStream(total, expected), 'text/csv');

    expect(expected.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).toEqual({ key, bytes: total, sha256: expected.sha256, contentType: 'text/csv' });
    expect(await objectSha256(key)).toEqual({ bytes: total, sha256: expected.sha256 });
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: aws.names.exportBucket, Key: key }));
    expect(head.Metadata).toMatchObject({ sha256: expected.sha256, bytes: String(total) });
    expect(head.ContentType).toBe('text/csv');
    expect(head.ContentLength).toBe(total);
  });

  it.each([
    ['in the first part', 1024],
    ['after a multipart upload started', 6 * 1024 * 1024],
  ])('fails when the source fails %s, and leaves no object behind', async (_when, failAfter) => {
    const key = `${exportPrefix(randomUUID())}qualtrics/customer-data/F_broken.zip`;
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= failAfter) {
          this.destroy(new Error('upstream connection reset'));
          return;
        }
        sent += 256 * 1024;
        this.push(Buffer.alloc(256 * 1024, 1));
      },
    });
    await expect(writer.putStream(key, source, 'application/zip')).rejects.toThrow(
      'upstream connection reset',
    );
    const listed = await s3Client().send(
      new ListObjectsV2Command({ Bucket: aws.names.exportBucket, Prefix: key }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('rejects keys that could escape the layout', async () => {
    await expect(writer.putJson('exports/../evil.json', {})).rejects.toBeInstanceOf(InputError);
    await expect(writer.putJson('/abs.json', {})).rejects.toBeInstanceOf(InputError);
  });
});

describe('manifest', () => {
  it('lists every file with its bytes and sha256, every directory searched, and validates', async () => {
    const requestId = randomUUID();
    const { customerData, dirA, dirB } = await writeBundle(requestId);
    // An object written without our metadata (e.g. by hand): the manifest hashes it instead.
    const rawKey = customerDataFileKey(requestId, 'F_raw', 'json');
    await s3Client().send(
      new PutObjectCommand({
        Bucket: aws.names.exportBucket,
        Key: rawKey,
        Body: '{"raw":true}',
        ContentType: 'application/json',
      }),
    );

    const { key, manifest } = await writer.writeManifest(manifestInput(requestId));
    expect(key).toBe(manifestKey(requestId));

    const valid = validateManifest(manifest);
    expect(validateManifest.errors ?? []).toEqual([]);
    expect(valid).toBe(true);

    expect(manifest.files.map((f) => f.key)).toEqual([rawKey, customerData.key, dirA.key, dirB.key].sort());
    for (const file of manifest.files) {
      expect(await objectSha256(file.key)).toEqual({ bytes: file.bytes, sha256: file.sha256 });
    }
    expect(manifest.files.find((f) => f.key === customerData.key)).toEqual(customerData);
    expect(manifest.files.find((f) => f.key === rawKey)).toMatchObject({
      bytes: 12,
      contentType: 'application/json',
    });
    expect(manifest.directoriesSearched).toEqual([
      { directoryId: 'POOL_A', name: 'Default Directory', contactsFound: 1, key: dirA.key },
      { directoryId: 'POOL_B', contactsFound: 2, key: dirB.key },
      { directoryId: 'POOL_EMPTY', name: 'Partners', contactsFound: 0 },
    ]);
    expect(manifest.counts).toEqual({ directoriesSearched: 3, contactsFound: 3, files: 4 });
    expect(manifest).toMatchObject({
      schemaVersion: '1.1',
      requestId,
      type: 'access',
      subject: { emailSha256: emailSha256('jane.doe@example.com') },
      qualtrics: { target: 'https://iad1.qualtrics.com', customerDataRequestId: 'CDR_1', fileIds: ['F_abc'] },
    });
    // What was stored is what was returned, and it names no one.
    const storedText = await writer.readJson<Manifest>(key);
    expect(storedText).toEqual(manifest);
    expect(JSON.stringify(manifest)).not.toMatch(/jane|@/i);

    // Rewriting (a retried step) lists the same files: never itself.
    const again = await writer.writeManifest(manifestInput(requestId));
    expect(again.manifest.files).toEqual(manifest.files);
  });

  it('is still written, and valid, when the subject was found nowhere', async () => {
    const requestId = randomUUID();
    const { manifest } = await writer.writeManifest({
      ...manifestInput(requestId),
      qualtrics: { fileIds: ['F_empty', 'F_empty'] },
      directoriesSearched: [
        { directoryId: 'POOL_A', contactsFound: 0 },
        { directoryId: 'POOL_B', contactsFound: 0 },
      ],
    });
    expect(validateManifest(manifest)).toBe(true);
    expect(manifest.files).toEqual([]);
    expect(manifest.counts).toEqual({ directoriesSearched: 2, contactsFound: 0, files: 0 });
    expect(manifest.qualtrics).toEqual({ fileIds: ['F_empty'] });
    expect((await writer.verifyBundle(requestId)).ok).toBe(true);
  });

  it('the schema rejects what the manifest must never be', async () => {
    const requestId = randomUUID();
    await writeBundle(requestId);
    const { manifest } = await writer.writeManifest(manifestInput(requestId));
    const file = manifest.files[0] as Manifest['files'][number];
    const broken: unknown[] = [
      { ...manifest, email: 'jane.doe@example.com' },
      { ...manifest, schemaVersion: '2.0' },
      { ...manifest, qualtrics: { ...manifest.qualtrics, target: 'https://user:secret@iad1.qualtrics.com' } },
      { ...manifest, subject: { emailSha256: 'ABC' } },
      { ...manifest, files: [{ ...file, sha256: file.sha256.toUpperCase() }] },
      {
        ...manifest,
        files: [{ ...file, key: file.key.replace(requestId, randomUUID()).replace('exports/', 'other/') }],
      },
      { ...manifest, files: [{ ...file, key: manifestKey(requestId) }] },
      { ...manifest, files: [{ ...file, bytes: -1 }] },
      { ...manifest, directoriesSearched: [{ directoryId: 'POOL_A' }] },
      { ...manifest, completedAt: 'yesterday' },
    ];
    for (const doc of broken) expect(validateManifest(doc)).toBe(false);
  });
});

describe('verifyBundle', () => {
  it('passes an intact bundle and reports tampered, missing and unlisted objects', async () => {
    const requestId = randomUUID();
    const { customerData, dirA, dirB } = await writeBundle(requestId);
    await writer.writeManifest(manifestInput(requestId));
    expect(await writer.verifyBundle(requestId)).toEqual({ ok: true, problems: [] });

    // Same length, different bytes: only the hash can tell.
    const original = await s3Client().send(
      new GetObjectCommand({ Bucket: aws.names.exportBucket, Key: dirA.key }),
    );
    const text = await original.Body?.transformToString();
    await s3Client().send(
      new PutObjectCommand({
        Bucket: aws.names.exportBucket,
        Key: dirA.key,
        Body: text?.replace('Jane', 'Joan'),
      }),
    );
    await s3Client().send(
      new PutObjectCommand({ Bucket: aws.names.exportBucket, Key: dirB.key, Body: 'short' }),
    );
    await s3Client().send(new DeleteObjectCommand({ Bucket: aws.names.exportBucket, Key: customerData.key }));
    const extra = directoryFileKey(requestId, 'POOL_SNEAKY');
    await s3Client().send(new PutObjectCommand({ Bucket: aws.names.exportBucket, Key: extra, Body: '{}' }));

    const result = await writer.verifyBundle(requestId);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.key, p.kind])).toEqual(
      [
        [customerData.key, 'missing'],
        [dirA.key, 'sha256-mismatch'],
        [dirB.key, 'bytes-mismatch'],
        [dirB.key, 'sha256-mismatch'],
        [extra, 'unlisted'],
      ].sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
    );
  });

  it('reports a missing manifest', async () => {
    const requestId = randomUUID();
    expect(await writer.verifyBundle(requestId)).toEqual({
      ok: false,
      problems: [{ key: manifestKey(requestId), kind: 'manifest-missing', message: 'no manifest' }],
    });
  });
});

describe('copyBundleTo', () => {
  it('writes identical files under <dir>/<requestId>/ with the same relative names', async () => {
    const requestId = randomUUID();
    await writeBundle(requestId);
    const { manifest } = await writer.writeManifest(manifestInput(requestId));
    const out = join(scratch, 'exports');
    const dir = await writer.copyBundleTo(requestId, out);
    expect(dir).toBe(join(out, requestId));

    const localFiles = (
      readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]
    )
      .filter((d) => d.isFile())
      .map((d) => relative(dir, join(d.parentPath, d.name)))
      .sort();
    const prefix = exportPrefix(requestId);
    expect(localFiles).toEqual(
      [...manifest.files.map((f) => f.key.slice(prefix.length)), 'manifest.json'].sort(),
    );
    for (const file of manifest.files) {
      const local = await hashStream(createReadStream(join(dir, file.key.slice(prefix.length))));
      expect(local).toEqual({ bytes: file.bytes, sha256: file.sha256 });
    }
    const localManifest = await hashStream(createReadStream(join(dir, 'manifest.json')));
    expect(localManifest).toEqual(await objectSha256(manifestKey(requestId)));
  });
});

describe('presign and evidence', () => {
  it('a presigned URL downloads the object and expiry is capped at 15 minutes', async () => {
    const requestId = randomUUID();
    const stored = await writer.writeEvidence(requestId, { erasureRequestId: 'PGR_1', statuses: [] });
    expect(stored.key).toBe(evidenceKey(requestId));
    const url = await writer.presign(stored.key, 60);
    expect(url).toContain('X-Amz-Expires=60');
    expect(url).not.toContain('x-amz-checksum');
    // Async fetch: s3rver runs in this event loop.
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(stored.sha256);
    expect(JSON.parse(body.toString('utf8'))).toEqual({ erasureRequestId: 'PGR_1', statuses: [] });

    expect(() => writer.presign(stored.key, 901)).toThrow(InputError);
    expect(() => writer.presign(stored.key, 0)).toThrow(InputError);
  });
});

describe('server-side encryption (asserted on the requests: s3rver does not echo SSE)', () => {
  it('uses SSE-KMS with the key when one is configured, on every write', async () => {
    const client = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(PutObjectCommand).resolves({});
    mock.on(CopyObjectCommand).resolves({});
    const kms = new ExportWriter({
      s3: client,
      bucket: 'b',
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1',
    });
    await kms.putJson('exports/x/a.json', { a: 1 });
    await kms.putStream(
      'exports/x/b.bin',
      Readable.from([Buffer.from('small body')]),
      'application/octet-stream',
    );

    const puts = mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    for (const input of puts) {
      expect(input).toMatchObject({
        Bucket: 'b',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1',
      });
    }
    const copies = mock.commandCalls(CopyObjectCommand).map((c) => c.args[0].input);
    expect(copies).toEqual([
      {
        Bucket: 'b',
        Key: 'exports/x/b.bin',
        CopySource: 'b/exports/x/b.bin',
        MetadataDirective: 'REPLACE',
        Metadata: { sha256: createHash('sha256').update('small body').digest('hex'), bytes: '10' },
        ContentType: 'application/octet-stream',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1',
      },
    ]);
    mock.restore();
  });

  it('uses SSE-S3 (AES256) without a key', async () => {
    const client = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(PutObjectCommand).resolves({});
    await new ExportWriter({ s3: client, bucket: 'b' }).putJson('exports/x/a.json', {});
    const input = mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.ServerSideEncryption).toBe('AES256');
    expect(input?.SSEKMSKeyId).toBeUndefined();
    mock.restore();
  });
});

describe('an expired bundle read by a role whose s3:ListBucket is limited to a prefix', () => {
  // S3 answers a missing key with 403 to such a role (the GetObject carries no s3:prefix).
  const denied = () =>
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

  it('reads as missing when a listing of that key finds nothing, and as denied otherwise', async () => {
    const client = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(client);
    const reader = new ExportWriter({ s3: client, bucket: 'b' });
    mock.on(GetObjectCommand).rejects(denied());
    mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    await expect(reader.readJson(manifestKey('r1'))).resolves.toBeUndefined();
    expect(mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Bucket: 'b',
      Prefix: manifestKey('r1'),
    });

    // The object is there: a real denial (a KMS key or bucket policy), never reported as expired.
    mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: manifestKey('r1') }] });
    await expect(reader.readJson(manifestKey('r1'))).rejects.toMatchObject({ name: 'AccessDenied' });
    // The listing is denied too: the original denial stands.
    mock.on(ListObjectsV2Command).rejects(denied());
    await expect(reader.readJson(manifestKey('r1'))).rejects.toMatchObject({ name: 'AccessDenied' });
    mock.restore();
  });

  it('GET /requests/{id}/export answers 410 EXPORT_EXPIRED, not 500', async () => {
    const client = new S3Client({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(GetObjectCommand).rejects(denied());
    mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const requestId = randomUUID();
    const handle = createApi({
      store: {
        get: async () => ({ requestId, type: 'access', status: 'COMPLETED' }) as never,
      } as never,
      starter: { start: async () => ({ executionName: 'x' }) } as never,
      bundles: new ExportWriter({ s3: client, bucket: 'b' }),
      checkConnection: async () => {
        throw new Error('not used');
      },
    });
    const res = await handle({
      method: 'GET',
      path: `/requests/${requestId}/export`,
      headers: {},
      body: null,
    });
    expect(res.statusCode).toBe(410);
    expect(JSON.parse(String(res.body))).toMatchObject({ error: { code: 'EXPORT_EXPIRED' } });
    mock.restore();
  });
});
