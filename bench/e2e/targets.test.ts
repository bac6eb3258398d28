import { describe, expect, it } from 'vitest';
import { judge, judgedRatio, pollLagTargetSec, TARGETS } from './targets';
import { batchResult, smallBatch } from './test-support';

const targetsOf = (results: Parameters<typeof judge>[0]) => judge(results).map((m) => m.target);

describe('bench:e2e targets', () => {
  it('are the ones decided for the e2e bench', () => {
    expect(TARGETS).toMatchObject({
      pacedRatioMax: 1.2,
      boundRatioMax: 1.45,
      maxWindowRatioMax: 0.8,
      status429Max: 0,
      accessCostPer1000UsdMax: 2,
    });
  });

  it('judge a batch bound by its longest job by pacedRatio, any other by boundRatio', () => {
    expect(judgedRatio(smallBatch())).toBe('pacedRatio');
    expect(judgedRatio(batchResult())).toBe('boundRatio');
    // boundRatio 1.733 is not held against the small batch; pacedRatio is.
    expect(judge([smallBatch()])).toEqual([]);
    expect(judge([smallBatch({ pacedRatio: 1.21 })])).toEqual([
      { batch: 10, target: 'pacedRatio', text: 'batch 10: pacedRatio 1.21 > 1.20' },
    ]);
    // pacedRatio is not held against a batch bound by its calls.
    expect(judge([batchResult({ pacedRatio: 1.3 })])).toEqual([]);
  });

  it('hold boundRatio at 1.45 inclusive', () => {
    expect(judge([batchResult({ boundRatio: 1.45 })])).toEqual([]);
    expect(judge([batchResult({ boundRatio: 1.451 })])).toEqual([
      { batch: 100, target: 'boundRatio', text: 'batch 100: boundRatio 1.451 > 1.45' },
    ]);
  });

  it('hold every batch to 0.80 of a limit in any minute and no 429', () => {
    expect(targetsOf([smallBatch({ maxWindowRatio: 0.8 }), batchResult({ maxWindowRatio: 0.8 })])).toEqual(
      [],
    );
    expect(targetsOf([smallBatch({ maxWindowRatio: 0.85 })])).toEqual(['maxWindowRatio']);
    expect(targetsOf([batchResult({ status429: 1 })])).toEqual(['status429']);
  });

  it('hold access at $2 per 1,000; a batch without access requests has no access cost to judge', () => {
    expect(targetsOf([batchResult({ costPer1000RequestsUsd: { access: 2, deletion: 3 } })])).toEqual([]);
    expect(targetsOf([batchResult({ costPer1000RequestsUsd: { access: 2.01, deletion: 1 } })])).toEqual([
      'accessCost',
    ]);
    expect(targetsOf([batchResult({ costPer1000RequestsUsd: { access: null, deletion: 1 } })])).toEqual([]);
  });

  it('hold poll lag p95 to 10 % of the job plus one minimum poll interval', () => {
    expect(pollLagTargetSec(20, 5)).toBe(7);
    expect(pollLagTargetSec(30, 5)).toBe(8);
    const lagging = batchResult({
      pollLagSec: {
        access: { p50: 2, p95: 7.5, n: 50 },
        deletion: { p50: 4, p95: 8, n: 50 },
        all: { p50: 3, p95: 8, n: 100 },
      },
    });
    expect(judge([lagging]).map((m) => m.text)).toEqual(['batch 100: access poll lag p95 7.5 s > 7 s']);
  });

  it('count requests that did not complete as a miss', () => {
    expect(targetsOf([batchResult({ failed: 2, completed: 98 })])).toEqual(['completed']);
  });

  it('report every miss of every batch, batch by batch', () => {
    const misses = judge([smallBatch({ pacedRatio: 1.5, status429: 3 }), batchResult({ boundRatio: 1.6 })]);
    expect(misses.map((m) => [m.batch, m.target])).toEqual([
      [10, 'pacedRatio'],
      [10, 'status429'],
      [100, 'boundRatio'],
    ]);
  });
});
