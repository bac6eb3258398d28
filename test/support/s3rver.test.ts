import { existsSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startS3rver } from './s3rver';

describe('startS3rver (test support)', () => {
  it('serves the buckets on loopback, stores streamed bodies unframed, and cleans up', async () => {
    const s3 = await startS3rver({ buckets: ['one', 'two'] });
    onTestFinished(() => s3.close());
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // A streamed (non-buffer) body: without WHEN_REQUIRED checksums s3rver would store aws-chunked framing.
    const { Readable } = await import('node:stream');
    await s3.client.send(
      new PutObjectCommand({
        Bucket: 'two',
        Key: 'k',
        Body: Readable.from(['hello ', 'world']),
        ContentLength: 11,
      }),
    );
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'two', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('hello world');
    expect(s3.env.AWS_ENDPOINT_URL_S3).toBe(s3.endpoint);
    await s3.close();
    expect(existsSync(s3.directory)).toBe(false);
  });
});
