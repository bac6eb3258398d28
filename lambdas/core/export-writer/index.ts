import { s3Client } from '../aws-clients';
import { storageNamesFromEnv } from '../tables';
import { ExportWriter } from './writer';

export { HashingCounter, hashStream, sha256Hex } from './hashing';
export * from './manifest';
export * from './writer';

/** KMS key (id or ARN) the bundle objects are encrypted with; unset → SSE-S3. Set by the stack. */
export const EXPORT_KMS_KEY_ENV = 'QDSR_EXPORT_KMS_KEY_ID';

/** The writer over the bucket named by `QDSR_EXPORT_BUCKET`, with the shared client. */
export function exportWriterFromEnv(env: NodeJS.ProcessEnv = process.env): ExportWriter {
  return new ExportWriter({
    s3: s3Client(),
    bucket: storageNamesFromEnv(env).exportBucket,
    kmsKeyId: env[EXPORT_KMS_KEY_ENV]?.trim() || undefined,
  });
}
