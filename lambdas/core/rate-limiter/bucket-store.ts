import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DsrError, ErrorNames } from '../errors';
import { TABLE_PARTITION_KEY } from '../tables';

/**
 * The DynamoDB side of the limiter: one item per bucket `{pk, tat, expiresAt}`, changed only by
 * conditional UpdateItems whose condition DynamoDB checks against the current item, so concurrent
 * writers can never both act on a stale value (no read-modify-write). A GetItem is only used to
 * learn the current `tat` after a failed write when DynamoDB did not return the item
 * (dynalite ignores `ReturnValuesOnConditionCheckFailure`).
 */

/** DynamoDB failed (network, throttling, missing table, credentials): no call may go out. */
export class LimiterUnavailableError extends DsrError {
  constructor(
    readonly operation: string,
    readonly awsErrorName: string,
    readonly httpStatus?: number,
  ) {
    // Only the SDK error name and status: SDK messages can quote request details.
    const status = httpStatus ? `, HTTP ${httpStatus}` : '';
    super(
      ErrorNames.LimiterUnavailable,
      `rate limiter unavailable: DynamoDB ${operation} failed (${awsErrorName}${status}); no Qualtrics call was made`,
      true,
    );
  }
}

/** Result of a conditional write: the new tat, or the tat DynamoDB saw (null: none, undefined: not returned). */
export type WriteResult = { ok: true; tat: number } | { ok: false; observed: number | null | undefined };

/** TTL only removes items whose tat is long past (absent and idle mean the same); an hour of slack covers clock skew. */
const TTL_MARGIN_SECONDS = 3600;

export function expiresAtFor(latestTatMs: number): number {
  return Math.ceil(latestTatMs / 1000) + TTL_MARGIN_SECONDS;
}

export class BucketStore {
  writes = 0;
  reads = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Idle bucket: `tat = now + T` if there is no tat or it is not in the future. */
  idle(key: string, now: number, emissionMs: number): Promise<WriteResult> {
    const tat = now + emissionMs;
    return this.conditionalWrite(
      key,
      'SET tat = :tat, expiresAt = :exp',
      'attribute_not_exists(tat) OR tat <= :now',
      { ':tat': tat, ':now': now, ':exp': expiresAtFor(tat) },
      () => tat,
    );
  }

  /**
   * Busy bucket: `tat += T` if `now ≤ tat ≤ maxTat`. The lower bound keeps a stale guess from
   * crediting idle time (tat + T < now + T); the upper bound is the policer's limit plus how far
   * ahead a slot may be reserved.
   */
  queue(key: string, now: number, emissionMs: number, maxTat: number): Promise<WriteResult> {
    return this.conditionalWrite(
      key,
      'SET tat = tat + :t, expiresAt = :exp',
      'tat BETWEEN :now AND :max',
      { ':t': emissionMs, ':now': now, ':max': maxTat, ':exp': expiresAtFor(maxTat + emissionMs) },
      (attributes) => Number(attributes?.tat),
    );
  }

  /** 429 feedback: `tat = pushed` unless it is already further ahead. Resolves whether it moved. */
  async push(key: string, pushed: number): Promise<boolean> {
    const r = await this.conditionalWrite(
      key,
      'SET tat = :pushed, expiresAt = :exp',
      'attribute_not_exists(tat) OR tat < :pushed',
      { ':pushed': pushed, ':exp': expiresAtFor(pushed) },
      () => pushed,
    );
    return r.ok;
  }

  /** Strongly consistent read of a bucket's tat (null when the bucket has none). */
  async read(key: string): Promise<number | null> {
    this.reads++;
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [TABLE_PARTITION_KEY]: key },
          ConsistentRead: true,
          ProjectionExpression: 'tat',
        }),
      );
      return tatOf(out.Item);
    } catch (e) {
      throw unavailable('GetItem', e);
    }
  }

  private async conditionalWrite(
    key: string,
    update: string,
    condition: string,
    values: Record<string, number>,
    newTat: (attributes: Record<string, unknown> | undefined) => number,
  ): Promise<WriteResult> {
    this.writes++;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [TABLE_PARTITION_KEY]: key },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          // Real DynamoDB returns the current item with the failure, sparing a read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, tat: newTat(out.Attributes) };
    } catch (e) {
      if (isConditionalCheckFailure(e)) {
        const item = (e as { Item?: Record<string, unknown> }).Item;
        return { ok: false, observed: item === undefined ? undefined : tatOf(item) };
      }
      throw unavailable('UpdateItem', e);
    }
  }
}

function isConditionalCheckFailure(e: unknown): boolean {
  return (e as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * The tat of an item, plain (document client) or marshalled (`{N: "…"}`: the document client does
 * not unmarshall the item attached to a ConditionalCheckFailedException).
 */
export function tatOf(item: Record<string, unknown> | undefined): number | null {
  const raw = item?.tat;
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'object' && typeof (raw as { N?: unknown }).N === 'string') {
    return Number((raw as { N: string }).N);
  }
  return null;
}

function unavailable(operation: string, e: unknown): LimiterUnavailableError {
  const err = e as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const name = typeof err?.name === 'string' && err.name !== 'Error' ? err.name : undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  return new LimiterUnavailableError(
    operation,
    name ?? code ?? 'UnknownError',
    err?.$metadata?.httpStatusCode,
  );
}
