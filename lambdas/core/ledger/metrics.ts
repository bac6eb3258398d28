import { REQUEST_TYPES, type RequestType } from '../request-contract';
import type { LedgerRange } from './query';

/**
 * The yearly request metrics (README "Metrics"; the shape 11 CCR §7102 asks a business to publish):
 * per request type, how many were received in a calendar year (UTC, by `receivedAt`), how many were
 * completed, failed or are still open, and the median and mean days to respond over the completed
 * ones (null when none was completed).
 */

export interface TypeMetrics {
  received: number;
  completed: number;
  failed: number;
  open: number;
  medianDaysToRespond: number | null;
  meanDaysToRespond: number | null;
}

export interface YearMetrics {
  year: number;
  byType: Record<RequestType, TypeMetrics>;
}

/** What metrics read of a request (a ledger summary has it). */
export interface MetricsRow {
  type: RequestType;
  status: string;
  receivedAt: string;
  respondedAt: string | null;
}

/** Years a request can be received in: the ledger keeps no record from before 2000, nor after 9999. */
export const METRICS_YEARS = { min: 2000, max: 9999 } as const;

/** The receipt range of a year: 1 January 00:00 UTC inclusive to the next 1 January exclusive. */
export function metricsRange(year: number): Required<LedgerRange> {
  return { since: `${year}-01-01T00:00:00.000Z`, until: `${year + 1}-01-01T00:00:00.000Z` };
}

const DAY_MS = 86_400_000;
const oneDecimal = (n: number): number => Math.round(n * 10) / 10;

/** The metrics of `rows` (the requests received in `year`). */
export async function yearMetrics(
  year: number,
  rows: AsyncIterable<MetricsRow> | Iterable<MetricsRow>,
): Promise<YearMetrics> {
  const days = Object.fromEntries(REQUEST_TYPES.map((t) => [t, [] as number[]])) as Record<
    RequestType,
    number[]
  >;
  const counts = Object.fromEntries(
    REQUEST_TYPES.map((t) => [t, { received: 0, completed: 0, failed: 0, open: 0 }]),
  ) as Record<RequestType, Pick<TypeMetrics, 'received' | 'completed' | 'failed' | 'open'>>;
  for await (const r of rows) {
    const c = counts[r.type];
    if (!c) continue;
    c.received++;
    if (r.status === 'COMPLETED') {
      c.completed++;
      if (r.respondedAt) days[r.type].push((Date.parse(r.respondedAt) - Date.parse(r.receivedAt)) / DAY_MS);
    } else if (r.status === 'FAILED') c.failed++;
    else c.open++;
  }
  const byType = Object.fromEntries(
    REQUEST_TYPES.map((t) => [t, { ...counts[t], ...spread(days[t]) }]),
  ) as Record<RequestType, TypeMetrics>;
  return { year, byType };
}

function spread(days: number[]): Pick<TypeMetrics, 'medianDaysToRespond' | 'meanDaysToRespond'> {
  if (days.length === 0) return { medianDaysToRespond: null, meanDaysToRespond: null };
  const sorted = [...days].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const mean = sorted.reduce((n, d) => n + d, 0) / sorted.length;
  return { medianDaysToRespond: oneDecimal(median), meanDaysToRespond: oneDecimal(mean) };
}
