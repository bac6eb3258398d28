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

export const DEFAULT_LOCAL_NAMES = {
  limiterTable: 'qdsr-rate-limiter',
  requestsTable: 'qdsr-requests',
  exportBucket: 'qdsr-exports',
} as const;

/** Bundle layout (BRIEF §5). */
export const exportPrefix = (requestId: string): string => `exports/${requestId}/`;
export const manifestKey = (requestId: string): string => `exports/${requestId}/manifest.json`;
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
