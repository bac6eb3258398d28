import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { ConfigError } from '../../lambdas/core/errors';
import { TABLE_PARTITION_KEY, type TableIndexSpec } from '../../lambdas/core/tables';
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

export type LocalItem = Record<string, unknown>;

export interface LocalTableSpec {
  name: string;
  ttlAttribute?: string;
  /** Global secondary indexes (the same specs the CDK stack deploys). */
  indexes?: readonly TableIndexSpec[];
  /** What an item of a table made without `indexes` becomes when the table is migrated (undefined: dropped). */
  migrateItem?: (item: LocalItem) => LocalItem | undefined;
}

/**
 * Creates the tables (single string key `pk`, their indexes) that are missing; TTL where the
 * emulator has it. A table made by an earlier version without its indexes is migrated (see
 * `migrateTable`): dynalite cannot add an index to a table.
 */
export async function ensureTables(endpoint: string, tables: readonly LocalTableSpec[]): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    for (const table of tables) {
      await resumeMigration(client, table);
      const created = await createTable(client, table.name, table.indexes ?? []);
      // Persisted data dir: the table is already there from an earlier run.
      if (!created && missingIndexes(await describe(client, table.name), table.indexes ?? []).length > 0) {
        await migrateTable(client, table);
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

function createTableInput(name: string, indexes: readonly TableIndexSpec[]): CreateTableCommandInput {
  const keys = new Set([TABLE_PARTITION_KEY, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  return {
    TableName: name,
    AttributeDefinitions: [...keys].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length
      ? {
          GlobalSecondaryIndexes: indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
            Projection: i.include
              ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.include] }
              : { ProjectionType: 'KEYS_ONLY' },
          })),
        }
      : {}),
  };
}

/**
 * dynalite answers CreateTable/DeleteTable at once but finishes them a moment later (on LevelDB,
 * after its writes): until then the table is CREATING (a write to it: ResourceNotFound) or
 * DELETING (its name still taken). Wait for the change, briefly.
 */
async function settled(client: DynamoDBClient, name: string, until: 'ACTIVE' | 'GONE'): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const status = (await describe(client, name))?.TableStatus ?? 'GONE';
    if (status === until) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`local DynamoDB: table ${name} did not become ${until}`);
}

/** Creates the table (and waits until it is ACTIVE); false when it exists already. */
async function createTable(
  client: DynamoDBClient,
  name: string,
  indexes: readonly TableIndexSpec[],
): Promise<boolean> {
  let created = true;
  try {
    await client.send(new CreateTableCommand(createTableInput(name, indexes)));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
    created = false;
  }
  await settled(client, name, 'ACTIVE');
  return created;
}

async function deleteTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name }));
  await settled(client, name, 'GONE');
}

async function describe(client: DynamoDBClient, name: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    throw e;
  }
}

function missingIndexes(
  table: { GlobalSecondaryIndexes?: Array<{ IndexName?: string }> } | undefined,
  indexes: readonly TableIndexSpec[],
): string[] {
  const present = new Set((table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  return indexes.map((i) => i.name).filter((n) => !present.has(n));
}

/** The copy a migration keeps while it rebuilds a table; it holds `COPIED` once the copy is whole. */
export const migrationTableName = (name: string): string => `${name}.migrating`;
const COPIED = { [TABLE_PARTITION_KEY]: '#migration-copy-complete' };

async function copyItems(
  client: DynamoDBClient,
  from: string,
  to: string,
  transform: (item: LocalItem) => LocalItem | undefined,
): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  for await (const page of paginateScan({ client: doc }, { TableName: from, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const next = transform(item);
      if (next) await doc.send(new PutCommand({ TableName: to, Item: next }));
    }
  }
}

/**
 * Rebuilds a table made without its indexes: copy every item aside, delete the table, create it
 * with its indexes, copy the items back through `migrateItem`, delete the copy. Each step can be
 * interrupted: the copy is marked whole before the table is deleted, and `resumeMigration` finishes
 * (or, when the copy was not whole, restarts) a migration at the next start.
 */
async function migrateTable(client: DynamoDBClient, table: LocalTableSpec): Promise<void> {
  const aside = migrationTableName(table.name);
  await createTable(client, aside, []);
  await copyItems(client, table.name, aside, (item) => item);
  await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: aside, Item: COPIED }));
  await deleteTable(client, table.name);
  await restoreFromCopy(client, table);
}

async function restoreFromCopy(client: DynamoDBClient, table: LocalTableSpec): Promise<void> {
  const aside = migrationTableName(table.name);
  await createTable(client, table.name, table.indexes ?? []);
  const migrate = table.migrateItem ?? ((item: LocalItem) => item);
  await copyItems(client, aside, table.name, (item) =>
    item[TABLE_PARTITION_KEY] === COPIED[TABLE_PARTITION_KEY] ? undefined : migrate(item),
  );
  await deleteTable(client, aside);
}

/** Finishes a migration an earlier start left: from a whole copy, or by dropping a partial one. */
async function resumeMigration(client: DynamoDBClient, table: LocalTableSpec): Promise<void> {
  const aside = migrationTableName(table.name);
  if (!(await describe(client, aside))) return;
  const doc = DynamoDBDocumentClient.from(client);
  const whole = await doc.send(new GetCommand({ TableName: aside, Key: COPIED, ConsistentRead: true }));
  if (whole.Item) {
    await restoreFromCopy(client, table);
  } else {
    // The table itself was not touched yet: drop the partial copy, and migrate again.
    await deleteTable(client, aside);
  }
}

/** Another process holds the data dir's tables (LevelDB's lock). */
export class DataDirLockedError extends ConfigError {
  constructor(readonly path: string) {
    super(
      '--data-dir',
      `the data dir ${path} is in use by another qualtrics-dsr process: stop it, or choose another --data-dir`,
    );
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
    if (code === 'LEVEL_LOCKED') throw new DataDirLockedError(path);
    throw e;
  }
  await db.close();
}
