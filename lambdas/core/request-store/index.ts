import { dynamoDocumentClient } from '../aws-clients';
import { storageNamesFromEnv } from '../tables';
import { RequestStore } from './store';

export * from './errors';
export { clip, scrubPii } from './scrub';
export * from './store';
export * from './types';

/** The store over the requests table named by `QDSR_REQUESTS_TABLE`, with the shared client. */
export function requestStoreFromEnv(env: NodeJS.ProcessEnv = process.env): RequestStore {
  return new RequestStore({ doc: dynamoDocumentClient(), tableName: storageNamesFromEnv(env).requestsTable });
}
