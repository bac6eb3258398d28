import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/dynamo';
import { startS3rver as startLocalS3 } from '../../local/aws/s3';

export interface TestS3 {
  endpoint: string;
  /** A client configured the way `lambdas/core/aws-clients` configures it against s3rver. */
  client: S3Client;
  directory: string;
  /** AWS_ENDPOINT_URL_S3, credentials, region and checksum settings for code that builds its own client. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * s3rver for a test file: in-process, loopback, OS-chosen port, a fresh temp directory (removed
 * on close) and the given buckets. Use async HTTP against it (s3rver shares the test's event loop).
 */
export async function startS3rver(opts: { buckets?: string[] } = {}): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'qdsr-s3rver-'));
  const s3 = await startLocalS3({ directory, buckets: opts.buckets ?? ['test-bucket'] });
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint: s3.endpoint,
    client,
    directory,
    env: {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
    close: async () => {
      client.destroy();
      try {
        await s3.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
