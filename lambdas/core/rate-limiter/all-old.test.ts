import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorNames } from '../errors';
import { LimiterUnavailableError, RateLimiter } from './index';

/**
 * Real DynamoDB returns the current item with a failed conditional write
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), which dynalite does not: these tests pin the
 * path that uses it instead of a GetItem.
 */

const T0 = 1_800_000_000_000;
const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
);
const ddb = mockClient(doc);

afterEach(() => {
  ddb.reset();
});

// listErasureRequests: 20/min × 0.75 → T = 4000 ms; burst 1 → τ = 4000; reservations up to 60 s ahead.
// `random` 0: a caller turned away by a full bucket comes back the moment it is within reach.
function limiter(random = () => 0) {
  return new RateLimiter({
    doc,
    tableName: 'limiter',
    tenant: 'iad1#client',
    targetUtilization: 0.75,
    burst: 1,
    now: () => T0,
    random,
  });
}

const conditionFailed = (tat?: number) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(tat === undefined
      ? {}
      : { Item: { pk: { S: 'gcra#iad1#client#listErasureRequests' }, tat: { N: String(tat) } } }),
  });

describe('failed conditional writes on real DynamoDB (ALL_OLD)', () => {
  it('answers the exact wait from the returned item, without a GetItem', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(T0 + 100_000));
    const r = limiter();
    // The last reservable tat is T0 + 60 000; the bucket is 40 s beyond it.
    expect(await r.acquire('listErasureRequests')).toMatchObject({
      admitted: false,
      waitMs: 40_000,
      bucket: 'listErasureRequests',
      reservations: [],
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    const update = ddb.commandCalls(UpdateCommand);
    expect(update).toHaveLength(1);
    expect(update[0]!.args[0].input).toMatchObject({
      TableName: 'limiter',
      Key: { pk: 'gcra#iad1#client#listErasureRequests' },
      ConditionExpression: 'attribute_not_exists(tat) OR tat <= :now',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ExpressionAttributeValues: {
        ':tat': T0 + 4000,
        ':now': T0,
        ':exp': Math.ceil((T0 + 4000) / 1000) + 3600,
      },
    });
    expect(r.stats()).toEqual({ writes: 1, reads: 0, admitted: 0, denied: 1 });
  });

  it('spreads callers turned away by a full bucket over the reservation horizon', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(T0 + 100_000));
    // Without a spread, everyone turned away now would return at T0 + 40 s, and race for one slot.
    expect(await limiter(() => 0.5).acquire('listErasureRequests')).toMatchObject({
      admitted: false,
      waitMs: 40_000 + 30_000,
    });
    expect(await limiter(() => 0.999).acquire('listErasureRequests')).toMatchObject({
      waitMs: 40_000 + 59_940,
    });
  });

  it('goes from a failed idle write straight to the busy write when the item shows room', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed(T0 + 8000))
      .resolvesOnce({ Attributes: { tat: T0 + 12_000 } });
    const r = limiter();
    const result = await r.acquire('listErasureRequests');
    // Slot T0 + 8000 reserved (new tat − τ): wait 8 s, holding the reservation.
    expect(result).toMatchObject({
      admitted: false,
      waitMs: 8000,
      reservations: [{ key: 'gcra#iad1#client#listErasureRequests', slotAt: T0 + 8000 }],
    });
    const [, queue] = ddb.commandCalls(UpdateCommand);
    expect(queue!.args[0].input).toMatchObject({
      UpdateExpression: 'SET tat = tat + :t, expiresAt = :exp',
      ConditionExpression: 'tat BETWEEN :now AND :max',
      ExpressionAttributeValues: { ':t': 4000, ':now': T0, ':max': T0 + 60_000 },
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('falls back to a strongly consistent GetItem when no item comes back (dynalite)', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { tat: T0 + 70_000 } });
    const r = limiter();
    expect(await r.acquire('listErasureRequests')).toMatchObject({ admitted: false, waitMs: 10_000 });
    // Idle failed (so tat > now), busy failed: one read tells how long.
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('turns any other DynamoDB error into a retryable LimiterUnavailable that names only the AWS error', async () => {
    ddb.on(UpdateCommand).rejects(
      new ProvisionedThroughputExceededException({
        message: 'Throughput exceeded for table limiter, request from AKIAEXAMPLE',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const attempt = limiter().acquire('whoami');
    await expect(attempt).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(attempt).rejects.toMatchObject({
      name: ErrorNames.LimiterUnavailable,
      retryable: true,
      message: expect.stringContaining('ProvisionedThroughputExceededException'),
    });
    await expect(attempt).rejects.not.toThrow(/AKIA/);
  });
});
