import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamo';
import { type LocalS3, startS3rver } from './s3';

/**
 * A full disk under s3rver: the write fails for real (the object's file is /dev/full, which
 * answers every write with ENOSPC), and the PUT must fail with it — not crash the process from an
 * unhandled stream error, and not answer 200 for bytes never written.
 */

const dir = mkdtempSync(join(tmpdir(), 'qdsr-s3-'));
let s3: LocalS3;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3rver({ directory: dir, buckets: ['b'] });
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Makes the file s3rver stores `key` in a symlink to /dev/full. */
function diskFullAt(key: string): void {
  const parts = key.split('/');
  const name = parts.pop();
  mkdirSync(join(dir, 'b', ...parts), { recursive: true });
  symlinkSync('/dev/full', join(dir, 'b', ...parts, `${name}._S3rver_object`));
}

describe('s3rver on a full disk', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  beforeAll(() => {
    process.on('uncaughtException', onUncaught);
    return () => process.off('uncaughtException', onUncaught);
  });

  it.each([
    ['a small object (one buffer)', Buffer.from('{"a":1}')],
    ['a streamed object', () => Readable.from([Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 2)])],
  ])('fails the PUT of %s, and the process goes on', async (label, body) => {
    const key = `full/${label.replace(/\W+/g, '-')}.json`;
    diskFullAt(key);
    const content = typeof body === 'function' ? body() : body;
    await expect(
      client.send(
        new PutObjectCommand({
          Bucket: 'b',
          Key: key,
          Body: content,
          ContentLength: typeof body === 'function' ? 128 * 1024 : body.length,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InsufficientStorage', $metadata: { httpStatusCode: 500 } });
    await new Promise((r) => setImmediate(r));
    expect(uncaught).toEqual([]);
  });

  it('still stores what fits, single and multipart', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'ok/one', Body: 'fits' }));
    const big = Buffer.alloc(6 * 1024 * 1024, 7);
    await new Upload({
      client,
      params: { Bucket: 'b', Key: 'ok/big', Body: big },
      partSize: 5 * 1024 * 1024,
    }).done();
    const one = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'ok/one' }));
    expect(await one.Body?.transformToString()).toBe('fits');
    const got = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'ok/big' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(big)).toBe(true);
  });
});
