/**
 * Storage layout shared by the core, the CDK stack and the local runtime: table keys, the bucket
 * layout, and the environment variables that carry the names into every process.
 */

export const STORAGE_ENV = {
  limiterTable: 'QDSR_LIMITER_TABLE',
  requestsTable: 'QDSR_REQUESTS_TABLE',
  exportBucket: 'QDSR_EXPORT_BUCKET',
} as const;

/** Both tables have a single string partition key named `pk` and expire items by TTL on `expiresAt`. */
export const TABLE_PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * The requests table's global secondary indexes (README "The request ledger", docs/deploy.md
 * "Indexes"), defined once for the CDK stack and the local runtime. Every index is sparse: only
 * request records carry its key attributes (idempotency key items never do). The ledger's indexes
 * project the summary attributes only — never `email`, `evidence`, `timeline` or an extension's
 * reason — so the raw email lives in the base item alone and forgetting it leaves no copy.
 */
export interface TableIndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes projected (INCLUDE); absent: KEYS_ONLY. */
  readonly include?: readonly string[];
}

/** What a list, a search and the records export show of a request (RequestSummary's sources). */
export const SUMMARY_ATTRIBUTES = [
  'requestId',
  'type',
  'status',
  'maskedEmail',
  'dryRun',
  'createdAt',
  'updatedAt',
  'finishedAt',
  'counts',
  'qualtrics',
  'error',
  'jurisdiction',
  'receivedAt',
  'channel',
  'source',
  'dueAt',
  'extendedDueAt',
  'effectiveDueAt',
  'respondedAt',
  'outcome',
  TTL_ATTRIBUTE,
] as const;

const summaryWithout = (...keys: string[]): string[] => SUMMARY_ATTRIBUTES.filter((a) => !keys.includes(a));

export const REQUESTS_TABLE_INDEXES = {
  /** Every request by receipt time: list (newest first), since/until, the records export. */
  byReceivedAt: {
    name: 'byReceivedAt',
    partitionKey: 'ledgerPartition',
    sortKey: 'receivedAtKey',
    include: summaryWithout(),
  },
  /** The requests in one status by receipt time: list?status=, open and failed requests. */
  byStatus: {
    name: 'byStatus',
    partitionKey: 'status',
    sortKey: 'receivedAtKey',
    include: summaryWithout('status'),
  },
  /** One subject's requests (by the email's hash) by receipt time: POST /requests/search. */
  bySubject: {
    name: 'bySubject',
    partitionKey: 'subjectKey',
    sortKey: 'receivedAtKey',
    include: summaryWithout(),
  },
  /** Completed requests by when their raw email is to be erased: the minimization job. */
  byEmailForgetAt: {
    name: 'byEmailForgetAt',
    partitionKey: 'forgetPartition',
    sortKey: 'forgetEmailAt',
  },
} as const satisfies Record<string, TableIndexSpec>;

export type RequestsTableIndex = keyof typeof REQUESTS_TABLE_INDEXES;

export const DEFAULT_LOCAL_NAMES = {
  limiterTable: 'qdsr-rate-limiter',
  requestsTable: 'qdsr-requests',
  exportBucket: 'qdsr-exports',
} as const;

/** Bundle layout (README "The export bundle"). */
export const exportPrefix = (requestId: string): string => `exports/${requestId}/`;
export const manifestKey = (requestId: string): string => `exports/${requestId}/manifest.json`;
/** The subject's report (README "The subject's report"), a file of the bundle like the others. */
export const reportKey = (requestId: string): string => `exports/${requestId}/report.html`;
export const customerDataFileKey = (requestId: string, fileId: string, ext: string): string =>
  `exports/${requestId}/qualtrics/customer-data/${fileId}.${ext}`;
export const directoryFileKey = (requestId: string, directoryId: string): string =>
  `exports/${requestId}/qualtrics/directories/${directoryId}.json`;
export const evidenceKey = (requestId: string): string => `evidence/${requestId}.json`;

export function storageNamesFromEnv(env: NodeJS.ProcessEnv = process.env): {
  limiterTable: string;
  requestsTable: string;
  exportBucket: string;
} {
  return {
    limiterTable: env[STORAGE_ENV.limiterTable] ?? DEFAULT_LOCAL_NAMES.limiterTable,
    requestsTable: env[STORAGE_ENV.requestsTable] ?? DEFAULT_LOCAL_NAMES.requestsTable,
    exportBucket: env[STORAGE_ENV.exportBucket] ?? DEFAULT_LOCAL_NAMES.exportBucket,
  };
}
