import { afterAll, beforeAll } from 'vitest';
import { type ExportWriter, exportWriterFromEnv } from '../../lambdas/core/export-writer';
import { type RequestStore, requestStoreFromEnv } from '../../lambdas/core/request-store';
import { type LocalAws, startLocalAws } from '../../local/aws';

export interface LocalStorage {
  aws: LocalAws;
  /** The request store and export writer the steps use, over the throwaway services. */
  store: RequestStore;
  writer: ExportWriter;
}

/**
 * Throwaway dynalite and s3rver around a test file's tests, reached through `process.env` as the
 * steps reach AWS: `use` receives the request store and export writer over them before the first
 * test; after the last, they stop and the environment is as it was.
 */
export function withLocalStorage(use: (storage: LocalStorage) => void): void {
  let aws: LocalAws | undefined;
  beforeAll(async () => {
    aws = await startLocalAws();
    aws.applyEnv();
    use({ aws, store: requestStoreFromEnv(), writer: exportWriterFromEnv() });
  });
  afterAll(() => aws?.close());
}
