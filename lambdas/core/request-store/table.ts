import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DEFAULT_RECORD_RETENTION_DAYS } from '../ledger/retention';
import { normalizeRequestId, REQUEST_STATUSES, REQUEST_TYPES } from '../request-contract';
import { RecordUnreadableError, RequestNotFoundError, StorageError } from './errors';
import type { RequestRecord } from './types';
import { combine, render, type UpdateSpec } from './update-expression';

/**
 * The requests table in DynamoDB: its keys, its TTL, and single conditional writes (dynalite has
 * no transactions). A failed condition is an answer (false / undefined), any other failure a
 * StorageError that says the operation but never the item.
 */

export const requestPk = (requestId: string): string => `request#${requestId}`;

export interface RequestTableOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  now?: () => Date;
  /**
   * Days a record is kept after its response, or its receipt if never answered (TTL; README
   * "Retention"). Default 730.
   */
  retentionDays?: number;
}

/** Every record write also says when, and never creates a record by accident. */
const touched = (now: Date): UpdateSpec => ({
  set: ['updatedAt = :now'],
  values: { ':now': now.toISOString() },
});
const recordExists: UpdateSpec = { condition: 'attribute_exists(pk)' };

export class RequestTable {
  readonly now: () => Date;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  readonly retentionDays: number;

  constructor(opts: RequestTableOptions) {
    this.doc = opts.doc;
    this.tableName = opts.tableName;
    this.now = opts.now ?? (() => new Date());
    this.retentionDays = opts.retentionDays ?? DEFAULT_RECORD_RETENTION_DAYS;
  }

  /** Past its TTL: DynamoDB deletes expired items lazily (dynalite never), so reads check. */
  isExpired(expiresAt: number | undefined, now: Date = this.now()): boolean {
    return typeof expiresAt === 'number' && expiresAt < epochSeconds(now);
  }

  async getItem<T>(pk: string): Promise<T | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
      );
      return out.Item as T | undefined;
    } catch (e) {
      throw new StorageError('GetItem', e);
    }
  }

  /** Writes `item` when `condition` holds; false when it does not. */
  async putItem(item: object, condition: string, values?: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw new StorageError('PutItem', e);
    }
  }

  /** One page of a Query of one of the table's indexes (never a Scan: see ledger-queries.ts). */
  async queryIndex(
    input: Omit<QueryCommandInput, 'TableName'> & { IndexName: string },
  ): Promise<{ items: Array<Record<string, unknown>>; lastKey?: Record<string, unknown> }> {
    try {
      const out = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...input }));
      return { items: out.Items ?? [], lastKey: out.LastEvaluatedKey };
    } catch (e) {
      throw new StorageError(`Query (${input.IndexName})`, e);
    }
  }

  /**
   * The record, or undefined when the id is malformed, unknown or past its retention; a record
   * whose attributes are not what the store writes is a RecordUnreadableError (naming them).
   */
  async getRecord(requestId: string): Promise<RequestRecord | undefined> {
    const id = normalizeRequestId(requestId);
    if (!id) return undefined;
    const item = await this.getItem<RequestRecord>(requestPk(id));
    if (!item || this.isExpired(item.expiresAt)) return undefined;
    const unreadable = unreadableAttributes(item);
    if (unreadable.length > 0) throw new RecordUnreadableError(id, unreadable);
    return item;
  }

  async mustGetRecord(requestId: string): Promise<RequestRecord> {
    const record = await this.getRecord(requestId);
    if (!record) throw new RequestNotFoundError(requestId);
    return record;
  }

  /**
   * One conditional UpdateItem of an existing record, stamped `updatedAt = now`; the new record,
   * or undefined when the record is absent or the condition failed.
   */
  async updateRecord(
    requestId: string,
    operation: string,
    spec: UpdateSpec,
    now: Date = this.now(),
  ): Promise<RequestRecord | undefined> {
    const id = normalizeRequestId(requestId);
    if (!id) return undefined;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(id) },
          ...render(combine(recordExists, spec, touched(now))),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as RequestRecord;
    } catch (e) {
      if (isConditionFailed(e)) return undefined;
      throw new StorageError(`UpdateItem (${operation})`, e);
    }
  }
}

/**
 * What every reader of a record relies on: its identity, status, masked email, timeline, the
 * Qualtrics refs and counts, and the execution it runs under. Other attributes are read leniently
 * (the ledger's are filled in when absent).
 */
const ReadableRecord = z.object({
  requestId: z.string(),
  type: z.enum(REQUEST_TYPES),
  status: z.enum(REQUEST_STATUSES),
  maskedEmail: z.string(),
  email: z.string().optional(),
  timeline: z.array(z.object({ at: z.string(), step: z.string() })),
  counts: z.record(z.string(), z.number()).optional(),
  qualtrics: z.record(z.string(), z.unknown()).optional(),
  execution: z.object({ name: z.string(), attempt: z.number() }).optional(),
});

/** The top-level attributes of `item` that are missing or malformed (names only). */
export function unreadableAttributes(item: unknown): string[] {
  const checked = ReadableRecord.safeParse(item);
  if (checked.success) return [];
  return [...new Set(checked.error.issues.map((i) => String(i.path[0] ?? 'record')))].sort();
}

export function epochSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function isConditionFailed(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException ||
    (e as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException'
  );
}
