import { dynamoDocumentClient } from '../aws-clients';
import {
  defaultJurisdictionFromEnv,
  forgetEmailAfterDaysFromEnv,
  recordRetentionDaysFromEnv,
} from '../ledger';
import { storageNamesFromEnv } from '../tables';
import { RequestStore } from './store';

export type { ClaimResult } from './create-claims';
export * from './errors';
export { MAX_EXTENSION_REASON } from './extension';
export { idempotencyPk } from './idempotency-keys';
export { type BackfillPolicy, withLedgerAttributes } from './ledger-attributes';
export { requireEmail } from './minimization';
export { clip, scrubPii } from './scrub';
export { toStatusDocument, toSummary } from './status-document';
export * from './store';
export { type DeadlineNotice, MAX_RESUMPTIONS, OPEN_STATUSES } from './sweep-writes';
export { requestPk } from './table';
export * from './types';

let warned: string | undefined;

/**
 * The store over the requests table named by `QDSR_REQUESTS_TABLE`, with the shared client and the
 * ledger's settings (QDSR_RECORD_RETENTION_DAYS, QDSR_FORGET_EMAIL_AFTER_DAYS,
 * QDSR_DEFAULT_JURISDICTION; a bad value is a ConfigError naming it). A retention shorter than 730
 * days works, and is warned about once per process.
 */
export function requestStoreFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => console.warn(message),
): RequestStore {
  const retention = recordRetentionDaysFromEnv(env);
  if (retention.warning && retention.warning !== warned) {
    warned = retention.warning;
    warn(`warning: ${retention.warning}`);
  }
  return new RequestStore({
    doc: dynamoDocumentClient(),
    tableName: storageNamesFromEnv(env).requestsTable,
    retentionDays: retention.days,
    forgetEmailAfterDays: forgetEmailAfterDaysFromEnv(env),
    defaultJurisdiction: defaultJurisdictionFromEnv(env),
  });
}
