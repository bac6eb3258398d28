import { dynamoDocumentClient } from '../aws-clients';
import { storageNamesFromEnv } from '../tables';
import { RequestStore } from './store';

export type { ClaimResult } from './create-claims';
export * from './errors';
export { idempotencyPk } from './idempotency-keys';
export { type BackfillPolicy, withLedgerAttributes } from './ledger-attributes';
export { clip, scrubPii } from './scrub';
export { toStatusDocument, toSummary } from './status-document';
export * from './store';
export { requestPk } from './table';
export * from './types';

/** The store over the requests table named by `QDSR_REQUESTS_TABLE`, with the shared client. */
export function requestStoreFromEnv(env: NodeJS.ProcessEnv = process.env): RequestStore {
  return new RequestStore({ doc: dynamoDocumentClient(), tableName: storageNamesFromEnv(env).requestsTable });
}
