import { describe, expect, it } from 'vitest';
import { EXPECTED_METRICS, METRICS_YEAR, metricsRowsOf } from '../../../test/support/metrics-ledger';
import { type MetricsRow, metricsRange, yearMetrics } from './metrics';

describe('yearMetrics', () => {
  it('counts by status and takes the median and mean days over COMPLETED requests, to one decimal', async () => {
    // The figures worked out by hand for the fixture (test/support/metrics-ledger.ts).
    expect(await yearMetrics(METRICS_YEAR, metricsRowsOf(METRICS_YEAR))).toEqual(EXPECTED_METRICS.last);
    expect(await yearMetrics(METRICS_YEAR + 1, metricsRowsOf(METRICS_YEAR + 1))).toEqual(
      EXPECTED_METRICS.this,
    );
  });

  it('the median of an odd count is the middle value', async () => {
    const rows: MetricsRow[] = [3, 1, 10].map((days) => ({
      type: 'deletion',
      status: 'COMPLETED',
      receivedAt: '2026-01-01T00:00:00.000Z',
      respondedAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + days * 86_400_000).toISOString(),
    }));
    expect((await yearMetrics(2026, rows)).byType.deletion).toMatchObject({
      completed: 3,
      medianDaysToRespond: 3,
      meanDaysToRespond: 4.7,
    });
  });

  it('null medians and means when nothing was completed', async () => {
    const rows: MetricsRow[] = [
      { type: 'deletion', status: 'FAILED', receivedAt: '2026-01-01T00:00:00.000Z', respondedAt: null },
    ];
    expect((await yearMetrics(2026, rows)).byType.deletion).toEqual({
      ...EXPECTED_METRICS.this.byType.deletion,
      received: 1,
      failed: 1,
    });
  });

  it('a year is 1 January 00:00 UTC inclusive to the next 1 January exclusive', () => {
    expect(metricsRange(2026)).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      until: '2027-01-01T00:00:00.000Z',
    });
  });
});
