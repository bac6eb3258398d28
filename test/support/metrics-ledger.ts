import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import type { MetricsRow, YearMetrics } from '../../lambdas/core/ledger';
import type { RequestType } from '../../lambdas/core/request-contract';
import { RequestStore } from '../../lambdas/core/request-store';

/**
 * A ledger to compute yearly metrics from, written through the request store with its clock set to
 * each step's instant: requests received last year (and at both ends of it), answered after a
 * known number of days. `expected` is what the metrics of those years must be, worked out by hand.
 */

const DAY = 86_400_000;

/** Last year (UTC): every receipt of the fixture has passed and is within the store's 400 days. */
export const METRICS_YEAR = new Date().getUTCFullYear() - 1;

export interface SeededRequest {
  type: RequestType;
  receivedAt: string;
  /** Days until completion; 'failed' or an open status otherwise. */
  end: number | 'failed' | 'received' | 'running';
}

const Y = METRICS_YEAR;
export const METRICS_FIXTURE: SeededRequest[] = [
  // The first instant of the year counts in it.
  { type: 'access', receivedAt: `${Y}-01-01T00:00:00.000Z`, end: 6 },
  { type: 'access', receivedAt: `${Y}-03-01T10:00:00.000Z`, end: 2 },
  { type: 'access', receivedAt: `${Y}-03-01T10:00:00.000Z`, end: 10 },
  { type: 'access', receivedAt: `${Y}-06-15T08:30:00.000Z`, end: 30.5 },
  { type: 'access', receivedAt: `${Y}-07-01T00:00:00.000Z`, end: 'failed' },
  { type: 'access', receivedAt: `${Y}-09-01T00:00:00.000Z`, end: 'running' },
  // The last instant of the year too.
  { type: 'access', receivedAt: `${Y}-12-31T23:59:59.999Z`, end: 'received' },
  { type: 'deletion', receivedAt: `${Y}-02-01T12:00:00.000Z`, end: 1 },
  { type: 'deletion', receivedAt: `${Y}-05-01T12:00:00.000Z`, end: 4.04 },
  { type: 'deletion', receivedAt: `${Y}-11-30T12:00:00.000Z`, end: 0.2 },
  // The next year's first instant counts in the next year.
  { type: 'access', receivedAt: `${Y + 1}-01-01T00:00:00.000Z`, end: 1 },
];

const none = { medianDaysToRespond: null, meanDaysToRespond: null };

export const EXPECTED_METRICS: Record<'last' | 'this', YearMetrics> = {
  last: {
    year: Y,
    byType: {
      // Completed after 6, 2, 10 and 30.5 days: median (6 + 10) / 2, mean 48.5 / 4 = 12.125.
      access: {
        received: 7,
        completed: 4,
        failed: 1,
        open: 2,
        medianDaysToRespond: 8,
        meanDaysToRespond: 12.1,
      },
      // 1, 4.04 and 0.2 days: median 1, mean 5.24 / 3 = 1.7466….
      deletion: {
        received: 3,
        completed: 3,
        failed: 0,
        open: 0,
        medianDaysToRespond: 1,
        meanDaysToRespond: 1.7,
      },
    },
  },
  this: {
    year: Y + 1,
    byType: {
      access: { received: 1, completed: 1, failed: 0, open: 0, medianDaysToRespond: 1, meanDaysToRespond: 1 },
      deletion: { received: 0, completed: 0, failed: 0, open: 0, ...none },
    },
  },
};

/** The fixture's requests received in `year`, as the metrics read them (what the store's range gives). */
export function metricsRowsOf(year: number): MetricsRow[] {
  return METRICS_FIXTURE.filter((s) => s.receivedAt.startsWith(String(year))).map((s) => ({
    type: s.type,
    status: typeof s.end === 'number' ? 'COMPLETED' : s.end === 'failed' ? 'FAILED' : 'RUNNING',
    receivedAt: s.receivedAt,
    respondedAt:
      typeof s.end === 'number' ? new Date(Date.parse(s.receivedAt) + s.end * DAY).toISOString() : null,
  }));
}

/** Writes the fixture into the requests table the environment names (the local AWS applied). */
export async function seedMetricsLedger(tableName: string): Promise<void> {
  let clock = Date.now();
  const store = new RequestStore({ doc: dynamoDocumentClient(), tableName, now: () => new Date(clock) });
  for (const [i, s] of METRICS_FIXTURE.entries()) {
    clock = Date.parse(s.receivedAt);
    const { record } = await store.create({
      source: 'import',
      type: s.type,
      email: `metrics-${i}@example.org`,
      receivedAt: s.receivedAt,
    });
    if (s.end === 'received') continue;
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    if (s.end === 'running') continue;
    if (s.end === 'failed') {
      await store.fail(record.requestId, { code: 'X', message: 'failed' });
      continue;
    }
    clock += s.end * DAY;
    await store.complete(record.requestId, {});
  }
}
