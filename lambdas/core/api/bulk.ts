import { z } from 'zod';
import { LIST_LIMIT_MAX, parseLedgerTime, type RequestSource } from '../ledger';
import { REQUEST_TYPES, type RequestStatus, requestSubmission, validate } from '../request-contract';
import type { RequestStore } from '../request-store';
import { toErrorResponse } from './errors';
import { type SubmitDeps, submitRequest } from './submit';

/**
 * The bulk routes (README "Bulk"): many submissions in one call (`POST /requests/batch`, and the
 * CLI's `import`), and a retry of every FAILED request that matches a filter
 * (`POST /requests/retry`, and `retry --failed`). Each item stands alone: it is checked and
 * recorded as if it came by itself, and its outcome — or its own error — is reported by its index.
 */

/** Submissions in one `POST /requests/batch`. */
export const MAX_BATCH_REQUESTS = 500;
/**
 * Requests one `POST /requests/retry` retries at most (each starts a workflow). A retried request
 * is no longer FAILED, so calling again takes the next ones: call until `retried` is empty.
 */
export const MAX_BULK_RETRIES = 100;
/** Submissions of one batch recorded at once (a Lambda has 29 s for 500 of them). */
const BATCH_CONCURRENCY = 8;

/**
 * `POST /requests/batch`: each item is any JSON value here, checked on its own against the request
 * contract (so API Gateway's model lets a batch with one bad item through, to be answered per item).
 */
export const batchSubmission = z.strictObject({
  requests: z
    .array(z.unknown(), { error: `requests must be an array of 1-${MAX_BATCH_REQUESTS} submissions` })
    .min(1, `requests must be an array of 1-${MAX_BATCH_REQUESTS} submissions`)
    .max(MAX_BATCH_REQUESTS, `requests must be an array of 1-${MAX_BATCH_REQUESTS} submissions`),
});
export type BatchSubmission = z.output<typeof batchSubmission>;

const timeRule = (name: string) =>
  `${name} must be an ISO-8601 instant with Z or an offset, or a date YYYY-MM-DD`;
const rangeBound = (name: string) =>
  z
    .string({ error: timeRule(name) })
    .max(64, timeRule(name))
    .refine((v) => parseLedgerTime(v) !== undefined, timeRule(name))
    .optional();
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,99}$/;

/** `POST /requests/retry`: which FAILED requests to retry (since inclusive, until exclusive, on receipt). */
export const bulkRetryRequest = z
  .strictObject({
    status: z.literal('FAILED', { error: 'status must be "FAILED" (only failed requests are retried)' }),
    type: z.enum(REQUEST_TYPES, { error: 'type must be "access" or "deletion"' }).optional(),
    since: rangeBound('since'),
    until: rangeBound('until'),
    errorCode: z
      .string({ error: 'errorCode must be an error code such as QUALTRICS_AUTH' })
      .regex(ERROR_CODE, 'errorCode must be an error code such as QUALTRICS_AUTH')
      .optional(),
  })
  .superRefine((v, ctx) => {
    const since = v.since === undefined ? undefined : parseLedgerTime(v.since);
    const until = v.until === undefined ? undefined : parseLedgerTime(v.until);
    if (since !== undefined && until !== undefined && since >= until) {
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'since must be earlier than until' });
    }
  });
export type BulkRetryRequest = z.output<typeof bulkRetryRequest>;

export interface BatchItemResult {
  index: number;
  requestId?: string;
  status?: RequestStatus;
  error?: { code: string; message: string };
}

/**
 * Records and starts each submission of a batch, as `POST /requests` would (same rules, same
 * idempotency), `source` being the entry point's. Never throws for one item: its error is its
 * result. `onItem` hears each result as it comes (the CLI's progress).
 */
export async function submitBatch(
  deps: SubmitDeps,
  items: readonly unknown[],
  source: RequestSource,
  onItem?: (result: BatchItemResult) => void,
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await submitOne(deps, items[index], index, source);
      onItem?.(results[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, items.length) }, worker));
  return results;
}

async function submitOne(
  deps: SubmitDeps,
  item: unknown,
  index: number,
  source: RequestSource,
): Promise<BatchItemResult> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { index, error: { code: 'INVALID_BODY', message: 'each submission must be a JSON object' } };
  }
  const checked = validate(requestSubmission, item);
  if (!checked.ok) return { index, error: { code: 'INVALID_BODY', message: checked.problems.join('; ') } };
  try {
    const { record, status } = await submitRequest(deps, { ...checked.value, source });
    return { index, requestId: record.requestId, status };
  } catch (err) {
    // The API's own mapping: the code and message a lone POST /requests would have answered.
    // (A workflow that could not be started leaves its request FAILED; the message names it.)
    const { error } = JSON.parse(toErrorResponse(err).response.body) as { error: BatchItemResult['error'] };
    return { index, error };
  }
}

export interface BulkRetryResult {
  retried: string[];
  skipped: Array<{ requestId: string; reason: string }>;
}

/**
 * Retries the FAILED requests that match `filter`, newest receipt first, at most MAX_BULK_RETRIES
 * of them, each through `retryOne` (the single retry's own path). A request that cannot be retried
 * is skipped with its reason: EMAIL_FORGOTTEN (its email was erased), or the code the single retry
 * answered with.
 */
export async function retryFailed(
  store: Pick<RequestStore, 'list'>,
  filter: BulkRetryRequest,
  retryOne: (requestId: string) => Promise<unknown>,
): Promise<BulkRetryResult> {
  const result: BulkRetryResult = { retried: [], skipped: [] };
  const since = filter.since === undefined ? undefined : parseLedgerTime(filter.since);
  const until = filter.until === undefined ? undefined : parseLedgerTime(filter.until);
  let cursor: string | undefined;
  do {
    const page = await store.list({
      status: 'FAILED',
      ...(filter.type ? { type: filter.type } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      limit: LIST_LIMIT_MAX,
      ...(cursor ? { cursor } : {}),
    });
    for (const summary of page.requests) {
      if (filter.errorCode !== undefined && summary.error?.code !== filter.errorCode) continue;
      try {
        await retryOne(summary.requestId);
        result.retried.push(summary.requestId);
      } catch (err) {
        const { error } = JSON.parse(toErrorResponse(err).response.body) as { error: { code: string } };
        result.skipped.push({ requestId: summary.requestId, reason: error.code });
      }
      if (result.retried.length >= MAX_BULK_RETRIES) return result;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return result;
}
