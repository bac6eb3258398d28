import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ConfigError } from '../../lambdas/core/errors';
import { TABLE_PARTITION_KEY } from '../../lambdas/core/tables';
import { closeHttpServer, listenOnLoopback } from './servers';

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite in-process on an OS-chosen loopback port. With `path`, tables live in LevelDB under it
 * (persisting across runs); without, in memory. Tables are ACTIVE at once (`createTableMs: 0`).
 */
export async function startDynalite(opts: { path?: string } = {}): Promise<LocalDynamo> {
  if (opts.path) await assertLevelDbUnlocked(opts.path);
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.path ? { path: opts.path } : {}),
  });
  const endpoint = await listenOnLoopback(server);
  return { endpoint, close: () => closeHttpServer(server) };
}

/** Creates the tables (single string key `pk`) that are missing; TTL where the emulator has it. */
export async function ensureTables(
  endpoint: string,
  tables: ReadonlyArray<{ name: string; ttlAttribute?: string }>,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    for (const table of tables) {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: table.name,
            AttributeDefinitions: [{ AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' }],
            KeySchema: [{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      } catch (e) {
        // Persisted data dir: the table is already there from an earlier run.
        if (!(e instanceof ResourceInUseException)) throw e;
      }
      if (table.ttlAttribute) {
        try {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: table.name,
              TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
            }),
          );
        } catch (e) {
          // dynalite has no UpdateTimeToLive; expiry is enforced by readers anyway (TTL is lazy in AWS too).
          if ((e as { name?: string }).name !== 'UnknownOperationException') throw e;
        }
      }
    }
  } finally {
    client.destroy();
  }
}

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * LevelDB admits one process per directory. dynalite opens it lazily and, when the lock is held,
 * throws from inside a callback (crashing the process), so probe it first and fail with a reason.
 */
async function assertLevelDbUnlocked(path: string): Promise<void> {
  // The same classic-level dynalite loads (through `level`), wherever npm placed it.
  const fromDynalite = createRequire(require.resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const { ClassicLevel } = fromLevel('classic-level') as { ClassicLevel: new (p: string) => LevelDb };
  const db = new ClassicLevel(path);
  try {
    await db.open();
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === 'LEVEL_LOCKED') {
      throw new ConfigError(
        '--data-dir',
        `the data dir ${path} is in use by another qualtrics-dsr process: stop it, or choose another --data-dir`,
      );
    }
    throw e;
  }
  await db.close();
}
