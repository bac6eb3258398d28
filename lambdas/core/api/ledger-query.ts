import {
  JURISDICTIONS,
  type LedgerQuery,
  type LedgerRange,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  METRICS_YEARS,
  parseLedgerTime,
} from '../ledger';
import { REQUEST_STATUSES, REQUEST_TYPES } from '../request-contract';
import { badRequest } from './errors';
import type { QueryParameters } from './http';

/**
 * The query strings of `GET /requests` and `GET /records` (README "The request ledger"), read
 * into the store's query. The CLI's `list` and `records` flags go through the same functions, so
 * both ways in refuse the same things. A bad value or a parameter given twice is a 400 naming the
 * parameter and its rule, never quoting the value; a parameter the route does not know is a 400
 * listing the known ones (its name is not repeated: a query string may carry anything, an email
 * included).
 */

export const LIST_PARAMETERS = [
  'status',
  'type',
  'jurisdiction',
  'overdue',
  'since',
  'until',
  'limit',
  'cursor',
] as const;
export const RECORDS_PARAMETERS = ['since', 'until'] as const;
export const METRICS_PARAMETERS = ['year'] as const;

/** Cursors are ours (base64url of the last key); anything longer or of other characters is not one. */
const CURSOR = /^[A-Za-z0-9_-]{1,2048}$/;

/** `GET /requests`' parameters → the store's query (a page of `limit`, default 100). */
export function parseListQuery(query: QueryParameters | undefined): LedgerQuery {
  const params = singleValues(query, LIST_PARAMETERS);
  const status = oneOf('status', params.status, REQUEST_STATUSES);
  const type = oneOf('type', params.type, REQUEST_TYPES);
  const jurisdiction = oneOf('jurisdiction', params.jurisdiction, JURISDICTIONS);
  const overdue = params.overdue === undefined ? undefined : parseBoolean('overdue', params.overdue);
  const range = parseRange(params);
  let limit = LIST_LIMIT_DEFAULT;
  if (params.limit !== undefined) {
    limit = /^[0-9]{1,3}$/.test(params.limit) ? Number(params.limit) : 0;
    if (limit < LIST_LIMIT_MIN || limit > LIST_LIMIT_MAX) {
      throw invalid(`limit must be a whole number from ${LIST_LIMIT_MIN} to ${LIST_LIMIT_MAX}`);
    }
  }
  if (params.cursor !== undefined && !CURSOR.test(params.cursor)) {
    throw badRequest('INVALID_CURSOR', 'cursor must be the nextCursor of an earlier answer');
  }
  return {
    ...(status ? { status } : {}),
    ...(type ? { type } : {}),
    ...(jurisdiction ? { jurisdiction } : {}),
    ...(overdue === undefined ? {} : { overdue }),
    ...range,
    limit,
    ...(params.cursor ? { cursor: params.cursor } : {}),
  };
}

/** `GET /records`' parameters → the receipt range of the export. */
export function parseRecordsQuery(query: QueryParameters | undefined): LedgerRange {
  return parseRange(singleValues(query, RECORDS_PARAMETERS));
}

/** `GET /reports/metrics`' parameter: `year`, four digits (required). */
export function parseMetricsQuery(query: QueryParameters | undefined): { year: number } {
  const { year } = singleValues(query, METRICS_PARAMETERS);
  const value = year !== undefined && /^[0-9]{4}$/.test(year) ? Number(year) : 0;
  if (value < METRICS_YEARS.min || value > METRICS_YEARS.max) {
    throw invalid(`year is required: a year from ${METRICS_YEARS.min} to ${METRICS_YEARS.max} (YYYY)`);
  }
  return { year: value };
}

/**
 * An instant of a `since`/`until` parameter: an ISO-8601 date-time with `Z` or an offset, or a
 * date `YYYY-MM-DD` (00:00 UTC that day); answered as `toISOString()`. A `+` of an offset that
 * arrived form-decoded as a space is read as the `+` it was.
 */
export function parseRangeBound(name: string, value: string): string {
  const time = parseLedgerTime(value.replace(/^(\d{4}-\d{2}-\d{2}T[0-9:.]+) (\d{2}:?\d{2})$/, '$1+$2'));
  if (time !== undefined) return time;
  throw invalid(`${name} must be an ISO-8601 instant with Z or an offset, or a date YYYY-MM-DD`);
}

function parseRange(params: { since?: string; until?: string }): LedgerRange {
  const since = params.since === undefined ? undefined : parseRangeBound('since', params.since);
  const until = params.until === undefined ? undefined : parseRangeBound('until', params.until);
  if (since !== undefined && until !== undefined && since >= until) {
    throw invalid('since must be earlier than until (since is inclusive, until exclusive)');
  }
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

function parseBoolean(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalid(`${name} must be true or false`);
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(`${name} must be one of ${allowed.join(', ')}`);
}

/** One value per known parameter; an unknown or repeated parameter is refused. */
function singleValues<K extends string>(
  query: QueryParameters | undefined,
  known: readonly K[],
): Partial<Record<K, string>> {
  const values: Partial<Record<K, string>> = {};
  for (const [name, given] of Object.entries(query ?? {})) {
    if (!(known as readonly string[]).includes(name)) throw unknownParameter(name, known);
    if (given.length !== 1) throw invalid(`${name} may be given once`);
    values[name as K] = given[0]!;
  }
  return values;
}

function unknownParameter(name: string, known: readonly string[]): Error {
  const allowed = `allowed: ${known.join(', ')}`;
  if (name === 'email') {
    return invalid(`an email is never accepted in a URL: POST /requests/search {"email"} (${allowed})`);
  }
  // Not named: a parameter's name is the caller's input as much as its value (it may be an email).
  return invalid(`unknown query parameter (${allowed})`);
}

const invalid = (message: string) => badRequest('INVALID_QUERY', message);
