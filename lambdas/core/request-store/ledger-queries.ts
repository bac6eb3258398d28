import { InputError } from '../errors';
import {
  decodeCursor,
  encodeCursor,
  type IndexKey,
  InvalidCursorError,
  JURISDICTIONS,
  type LedgerQuery,
  type LedgerRange,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  parseLedgerTime,
} from '../ledger';
import { emailProblem, emailSha256 } from '../privacy';
import { REQUEST_STATUSES, REQUEST_TYPES, type RequestStatus } from '../request-contract';
import { REQUESTS_TABLE_INDEXES, TABLE_PARTITION_KEY, type TableIndexSpec, TTL_ATTRIBUTE } from '../tables';
import { LEDGER_PARTITION, subjectKey } from './ledger-attributes';
import { type SummaryItem, toSummary } from './status-document';
import { epochSeconds, type RequestTable } from './table';
import type { RequestSummary } from './types';

/**
 * The ledger's reads: a filtered page of requests, one subject's requests, and every request
 * received in a range. Each is a Query of the index that serves it (lambdas/core/tables.ts), never
 * a Scan: the cost follows the requests asked for, not the table's size.
 */

const { byReceivedAt, byStatus, bySubject } = REQUESTS_TABLE_INDEXES;

/** One Query of `index` in one partition, with its key range, filters and order. */
export interface IndexQuery {
  index: TableIndexSpec;
  partition: string;
  /** Sort key bounds: since inclusive, until exclusive (normalized ISO instants); or up to, inclusive. */
  since?: string;
  until?: string;
  upTo?: string;
  newestFirst: boolean;
  filters: Filter[];
}

interface Filter {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** An expired record is gone for readers (TTL deletes lazily, dynalite never). */
const notExpired = (now: Date): Filter => ({
  expression: '(attribute_not_exists(#ttl) OR #ttl >= :nowEpoch)',
  names: { '#ttl': TTL_ATTRIBUTE },
  values: { ':nowEpoch': epochSeconds(now) },
});

function queryInput(q: IndexQuery, limit: number, startKey?: Record<string, unknown>) {
  const names: Record<string, string> = { '#pk': q.index.partitionKey };
  const values: Record<string, unknown> = { ':pk': q.partition };
  let range = '';
  // DynamoDB refuses a name no expression uses.
  if (q.since !== undefined || q.until !== undefined || q.upTo !== undefined) names['#sk'] = q.index.sortKey;
  if (q.since !== undefined && q.until !== undefined) {
    // Sort keys are `<receivedAt>#<id>`: none equals `until` itself, so BETWEEN excludes it.
    range = ' AND #sk BETWEEN :since AND :until';
  } else if (q.since !== undefined) range = ' AND #sk >= :since';
  else if (q.until !== undefined) range = ' AND #sk < :until';
  else if (q.upTo !== undefined) range = ' AND #sk <= :upTo';
  if (q.since !== undefined) values[':since'] = q.since;
  if (q.until !== undefined) values[':until'] = q.until;
  if (q.upTo !== undefined) values[':upTo'] = q.upTo;
  for (const f of q.filters) {
    Object.assign(names, f.names);
    Object.assign(values, f.values);
  }
  return {
    IndexName: q.index.name,
    KeyConditionExpression: `#pk = :pk${range}`,
    ...(q.filters.length ? { FilterExpression: q.filters.map((f) => f.expression).join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: !q.newestFirst,
    Limit: limit,
    ...(startKey ? { ExclusiveStartKey: startKey } : {}),
  };
}

const keyAttributes = (index: TableIndexSpec): string[] => [
  TABLE_PARTITION_KEY,
  index.partitionKey,
  index.sortKey,
];

function keyOf(index: TableIndexSpec, item: Record<string, unknown>): IndexKey {
  return Object.fromEntries(keyAttributes(index).map((a) => [a, String(item[a])]));
}

/** Every item of the query, page after page. */
export async function* allItems(table: RequestTable, q: IndexQuery): AsyncGenerator<Record<string, unknown>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.queryIndex(queryInput(q, LIST_LIMIT_MAX, startKey));
    yield* page.items;
    startKey = page.lastKey;
  } while (startKey);
}

function rangeOf(range: LedgerRange): { since?: string; until?: string } {
  const bound = (name: 'since' | 'until'): string | undefined => {
    const raw = range[name];
    if (raw === undefined) return undefined;
    const value = parseLedgerTime(raw);
    if (!value) throw new InputError(`${name} must be an ISO-8601 instant or a date YYYY-MM-DD`);
    return value;
  };
  const since = bound('since');
  const until = bound('until');
  if (since !== undefined && until !== undefined && since >= until) {
    throw new InputError('since must be before until');
  }
  return { since, until };
}

function checkQuery(query: LedgerQuery): void {
  const { limit, status, type, jurisdiction, overdue } = query;
  if (!Number.isSafeInteger(limit) || limit < LIST_LIMIT_MIN || limit > LIST_LIMIT_MAX) {
    throw new InputError(`limit must be a whole number from ${LIST_LIMIT_MIN} to ${LIST_LIMIT_MAX}`);
  }
  if (status !== undefined && !REQUEST_STATUSES.includes(status)) throw new InputError('unknown status');
  if (type !== undefined && !REQUEST_TYPES.includes(type)) throw new InputError('unknown request type');
  if (jurisdiction !== undefined && !JURISDICTIONS.includes(jurisdiction))
    throw new InputError('unknown jurisdiction');
  if (overdue !== undefined && typeof overdue !== 'boolean')
    throw new InputError('overdue must be true or false');
}

/**
 * overdue = not COMPLETED and past the effective due date. A filter may not name an index key, so
 * within one status (`byStatus`) the status part is decided here; undefined when nothing can match.
 */
function overdueFilter(overdue: boolean, status: RequestStatus | undefined, now: Date): Filter | undefined {
  const names: Record<string, string> = { '#due': 'effectiveDueAt' };
  const values: Record<string, unknown> = { ':nowIso': now.toISOString() };
  if (status !== undefined) {
    if (status === 'COMPLETED') return overdue ? undefined : { expression: 'attribute_exists(#due)', names };
    return { expression: overdue ? '#due < :nowIso' : '#due >= :nowIso', names, values };
  }
  names['#status'] = 'status';
  values[':completed'] = 'COMPLETED';
  return overdue
    ? { expression: '(#status <> :completed AND #due < :nowIso)', names, values }
    : { expression: '(#status = :completed OR #due >= :nowIso)', names, values };
}

/**
 * One page of the ledger, newest receipt first: the status partition of `byStatus` when a status
 * is asked for, `byReceivedAt` otherwise; type, jurisdiction and overdue are filters. DynamoDB
 * applies `Limit` before a filter, so the page is filled from as many Queries as it takes, and a
 * page that ends inside a Query's answer resumes after its last request.
 */
export async function listRequests(
  table: RequestTable,
  query: LedgerQuery,
  now: Date,
): Promise<{ requests: RequestSummary[]; nextCursor: string | null }> {
  checkQuery(query);
  const { since, until } = rangeOf(query);
  const index = query.status ? byStatus : byReceivedAt;
  const partition = query.status ?? LEDGER_PARTITION;
  const filters: Filter[] = [notExpired(now)];
  if (query.type)
    filters.push({
      expression: '#type = :type',
      names: { '#type': 'type' },
      values: { ':type': query.type },
    });
  if (query.jurisdiction) {
    filters.push({
      expression: '#jurisdiction = :jurisdiction',
      names: { '#jurisdiction': 'jurisdiction' },
      values: { ':jurisdiction': query.jurisdiction },
    });
  }
  if (query.overdue !== undefined) {
    const filter = overdueFilter(query.overdue, query.status, now);
    if (!filter) return { requests: [], nextCursor: null };
    filters.push(filter);
  }
  const q: IndexQuery = { index, partition, since, until, newestFirst: true, filters };

  let startKey: Record<string, unknown> | undefined;
  if (query.cursor !== undefined) {
    startKey = decodeCursor(query.cursor, index.name, keyAttributes(index));
    if (startKey[index.partitionKey] !== partition) throw new InvalidCursorError();
  }
  const requests: RequestSummary[] = [];
  // Without filters a Query returns what it reads; with them, read ahead (up to a whole page).
  const selective = query.type || query.jurisdiction || query.overdue !== undefined;
  for (;;) {
    const remaining = query.limit - requests.length;
    const page = await table.queryIndex(queryInput(q, selective ? LIST_LIMIT_MAX : remaining, startKey));
    for (const [i, item] of page.items.entries()) {
      requests.push(toSummary(item as unknown as SummaryItem, now));
      if (requests.length === query.limit) {
        const cutShort = i < page.items.length - 1;
        const resumeAt = cutShort ? keyOf(index, item) : page.lastKey;
        return { requests, nextCursor: resumeAt ? encodeCursor(index.name, resumeAt as IndexKey) : null };
      }
    }
    if (!page.lastKey) return { requests, nextCursor: null };
    startKey = page.lastKey;
  }
}

/** Every request for the subject with this email (matched on its normalized hash), newest receipt first. */
export async function findBySubject(
  table: RequestTable,
  email: string,
  now: Date,
): Promise<RequestSummary[]> {
  const problem = emailProblem(email);
  if (problem) throw new InputError(problem);
  const q: IndexQuery = {
    index: bySubject,
    partition: subjectKey(emailSha256(email)),
    newestFirst: true,
    filters: [notExpired(now)],
  };
  const found: RequestSummary[] = [];
  for await (const item of allItems(table, q)) found.push(toSummary(item as unknown as SummaryItem, now));
  return found;
}

/** Every request received in `range` (since inclusive, until exclusive), oldest receipt first. */
export async function* ledgerRecords(
  table: RequestTable,
  range: LedgerRange,
  now: Date,
): AsyncGenerator<RequestSummary> {
  const q: IndexQuery = {
    index: byReceivedAt,
    partition: LEDGER_PARTITION,
    ...rangeOf(range),
    newestFirst: false,
    filters: [notExpired(now)],
  };
  for await (const item of allItems(table, q)) yield toSummary(item as unknown as SummaryItem, now);
}
