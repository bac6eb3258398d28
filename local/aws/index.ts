import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resetAwsClients } from '../../lambdas/core/aws-clients';
import { forgetEmailAfterDaysFromEnv, recordRetentionDaysFromEnv } from '../../lambdas/core/ledger';
import { withLedgerAttributes } from '../../lambdas/core/request-store';
import {
  DEFAULT_LOCAL_NAMES,
  REQUESTS_TABLE_INDEXES,
  STORAGE_ENV,
  TTL_ATTRIBUTE,
} from '../../lambdas/core/tables';
import { ensureTables, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalDynamo, startDynalite } from './dynamo';
import { type LocalS3, startS3rver } from './s3';

/**
 * The local AWS services of the embedded runtime: DynamoDB (dynalite) and S3 (s3rver), both
 * in-process on loopback ports chosen by the OS, with the connector's tables and bucket created.
 *
 * The handlers reach them through the standard endpoint variables (`env` / `applyEnv()`), so the
 * code that runs in Lambda runs here unchanged.
 */

export interface StorageNames {
  limiterTable: string;
  requestsTable: string;
  exportBucket: string;
}

export interface LocalAwsOptions {
  /** Persist tables (`<dataDir>/dynamodb`, LevelDB) and objects (`<dataDir>/s3`) under it. Omit for a throwaway run. */
  dataDir?: string;
  names?: Partial<StorageNames>;
}

export interface LocalAws {
  dynamoEndpoint: string;
  s3Endpoint: string;
  names: StorageNames;
  /** Everything a process (or a handler) needs to use these services as if they were AWS. */
  env: Record<string, string>;
  /** Writes `env` into `process.env` and drops cached SDK clients; `close()` undoes it. */
  applyEnv(): void;
  close(): Promise<void>;
}

/**
 * A requests-table item of a data dir made before the ledger, as the ledger wants it (with the
 * current retention settings); an item already past its retention is dropped, as TTL would have.
 */
function migratedRequestItem(item: Record<string, unknown>): Record<string, unknown> | undefined {
  const now = new Date();
  if (typeof item.expiresAt === 'number' && item.expiresAt < Math.floor(now.getTime() / 1000))
    return undefined;
  return withLedgerAttributes(item, {
    retentionDays: recordRetentionDaysFromEnv().days,
    forgetEmailAfterDays: forgetEmailAfterDaysFromEnv(),
    now,
  });
}

/**
 * A folder of stored data, its owner's only (0700), also when an earlier version made it readable
 * to others: what is inside cannot be reached through it.
 */
function ownerOnlyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export async function startLocalAws(opts: LocalAwsOptions = {}): Promise<LocalAws> {
  const names: StorageNames = { ...DEFAULT_LOCAL_NAMES, ...opts.names };
  const tempDir = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'qdsr-local-aws-'));
  const baseDir = opts.dataDir ? resolve(opts.dataDir) : (tempDir as string);
  const s3Dir = join(baseDir, 's3');
  ownerOnlyDir(s3Dir);
  let dynamoDir: string | undefined;
  if (opts.dataDir) {
    dynamoDir = join(baseDir, 'dynamodb');
    ownerOnlyDir(dynamoDir);
  }

  let dynamo: LocalDynamo | undefined;
  let s3: LocalS3 | undefined;
  const stop = async () => {
    const results = await Promise.allSettled([dynamo?.close(), s3?.close()]);
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  try {
    dynamo = await startDynalite({ path: dynamoDir });
    await ensureTables(dynamo.endpoint, [
      { name: names.limiterTable, ttlAttribute: TTL_ATTRIBUTE },
      {
        name: names.requestsTable,
        ttlAttribute: TTL_ATTRIBUTE,
        indexes: Object.values(REQUESTS_TABLE_INDEXES),
        // A data dir made before the ledger: its records get their ledger attributes once.
        migrateItem: (item) => migratedRequestItem(item),
      },
    ]);
    s3 = await startS3rver({ directory: s3Dir, buckets: [names.exportBucket] });
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    [STORAGE_ENV.limiterTable]: names.limiterTable,
    [STORAGE_ENV.requestsTable]: names.requestsTable,
    [STORAGE_ENV.exportBucket]: names.exportBucket,
  };

  // What applyEnv() replaced, so close() can put it back (only where nobody changed it since).
  let saved: Map<string, string | undefined> | undefined;
  const applyEnv = () => {
    saved ??= new Map();
    for (const [key, value] of Object.entries(env)) {
      if (!saved.has(key)) saved.set(key, process.env[key]);
      process.env[key] = value;
    }
    // A real session token from the user's shell would be sent along with the dummy keys.
    if (!saved.has('AWS_SESSION_TOKEN')) saved.set('AWS_SESSION_TOKEN', process.env.AWS_SESSION_TOKEN);
    delete process.env.AWS_SESSION_TOKEN;
    resetAwsClients();
  };
  const restoreEnv = () => {
    if (!saved) return;
    for (const [key, previous] of saved) {
      const ours = key === 'AWS_SESSION_TOKEN' ? undefined : env[key];
      if (process.env[key] !== ours) continue;
      if (previous === undefined) delete process.env[key];
      else process.env[key] = previous;
    }
    saved = undefined;
    resetAwsClients();
  };

  let closing: Promise<void> | undefined;
  return {
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    names,
    env,
    applyEnv,
    close: () => {
      closing ??= (async () => {
        restoreEnv();
        await stop();
      })();
      return closing;
    },
  };
}
