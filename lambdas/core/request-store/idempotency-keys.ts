import type { RequestType } from '../request-contract';
import { IdempotencyConflictError, StorageError } from './errors';
import { epochSeconds, type RequestTable } from './table';

/**
 * Idempotency keys: one item per key, beside the records, naming the request made under it. The
 * same key with the same request (type, subject, dry run) is a replay; with another, a conflict.
 */

export const idempotencyPk = (key: string): string => `idem#${key}`;

/** The request a key is claimed for: what a replay must match, never the email itself. */
export interface KeyedRequest {
  requestId: string;
  type: RequestType;
  emailSha256: string;
  dryRun?: boolean;
  /** The key is kept as long as the request's record is at first. */
  expiresAt: number;
}

interface IdempotencyItem {
  pk: string;
  requestId: string;
  type: RequestType;
  emailSha256: string;
  dryRun: boolean;
  expiresAt: number;
}

/**
 * Claims `key` for `request` at `now`. Resolves to undefined when the key is now the request's, or
 * to the id of the request that already holds it; throws IdempotencyConflictError when that request
 * differs.
 */
export async function claimIdempotencyKey(
  table: RequestTable,
  key: string,
  request: KeyedRequest,
  now: Date,
): Promise<string | undefined> {
  const item: IdempotencyItem = {
    pk: idempotencyPk(key),
    requestId: request.requestId,
    type: request.type,
    emailSha256: request.emailSha256,
    dryRun: Boolean(request.dryRun),
    expiresAt: request.expiresAt,
  };
  // Two tries: the key item may expire (and be taken over) between our Put and our Get.
  for (let attempt = 0; attempt < 2; attempt++) {
    // An expired key is free again (TTL deletion is lazy, and absent in dynalite).
    const claimed = await table.putItem(item, 'attribute_not_exists(pk) OR expiresAt < :nowEpoch', {
      ':nowEpoch': epochSeconds(now),
    });
    if (claimed) return undefined;
    const existing = await table.getItem<IdempotencyItem>(item.pk);
    if (!existing) continue;
    if (
      existing.type !== item.type ||
      existing.emailSha256 !== item.emailSha256 ||
      Boolean(existing.dryRun) !== item.dryRun
    ) {
      throw new IdempotencyConflictError();
    }
    return existing.requestId;
  }
  throw new StorageError('PutItem', new Error('idempotency key contended'));
}
