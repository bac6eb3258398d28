import { describe, expect, it } from 'vitest';
import { type MetricsRow, metricsRange, yearMetrics } from './metrics';

const DAY = 86_400_000;
const at = (iso: string, plusDays = 0) => new Date(Date.parse(iso) + plusDays * DAY).toISOString();

function completed(type: MetricsRow['type'], receivedAt: string, days: number): MetricsRow {
  return { type, status: 'COMPLETED', receivedAt, respondedAt: at(receivedAt, days) };
}

describe('yearMetrics', () => {
  it('counts by status and takes the median and mean days over COMPLETED requests, to one decimal', async () => {
    const r = '2026-03-01T10:00:00.000Z';
    const rows: MetricsRow[] = [
      completed('access', r, 2),
      completed('access', r, 10),
      completed('access', r, 30.5),
      completed('access', r, 6),
      { type: 'access', status: 'FAILED', receivedAt: r, respondedAt: null },
      { type: 'access', status: 'RECEIVED', receivedAt: r, respondedAt: null },
      { type: 'access', status: 'WAITING_ON_QUALTRICS', receivedAt: r, respondedAt: null },
      completed('deletion', r, 1),
      completed('deletion', r, 4.04),
      completed('deletion', r, 0.2),
    ];
    expect(await yearMetrics(2026, rows)).toEqual({
      year: 2026,
      byType: {
        // 2, 6, 10, 30.5: the median is the mean of the middle two; the mean 48.5 / 4.
        access: {
          received: 7,
          completed: 4,
          failed: 1,
          open: 2,
          medianDaysToRespond: 8,
          meanDaysToRespond: 12.1,
        },
        // 0.2, 1, 4.04: median 1, mean 5.24 / 3.
        deletion: {
          received: 3,
          completed: 3,
          failed: 0,
          open: 0,
          medianDaysToRespond: 1,
          meanDaysToRespond: 1.7,
        },
      },
    });
  });

  it('null medians and means when nothing was completed, zero counts when nothing was received', async () => {
    const rows: MetricsRow[] = [
      { type: 'deletion', status: 'FAILED', receivedAt: '2026-01-01T00:00:00.000Z', respondedAt: null },
    ];
    expect((await yearMetrics(2026, rows)).byType).toEqual({
      access: {
        received: 0,
        completed: 0,
        failed: 0,
        open: 0,
        medianDaysToRespond: null,
        meanDaysToRespond: null,
      },
      deletion: {
        received: 1,
        completed: 0,
        failed: 1,
        open: 0,
        medianDaysToRespond: null,
        meanDaysToRespond: null,
      },
    });
  });

  it('a year is 1 January 00:00 UTC inclusive to the next 1 January exclusive', () => {
    expect(metricsRange(2026)).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      until: '2027-01-01T00:00:00.000Z',
    });
  });
});
