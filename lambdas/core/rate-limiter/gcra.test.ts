import { describe, expect, it } from 'vitest';
import { defaultBurst, maxReservableTat, planBucket, slotOf, stepFor, worstCasePerPeriod } from './gcra';
import { bucketTable } from './index';

describe('GCRA arithmetic', () => {
  it('derives the emission interval from limit × utilization, in whole ms rounded up', () => {
    expect(planBucket('createErasureRequest', 20, 60_000, 0.75, 1).emissionMs).toBe(4000);
    expect(planBucket('searchDirectoryContacts', 500, 60_000, 0.75, 5).emissionMs).toBe(160);
    // 60000 / 2250 = 26.67 → 27: never faster than the target.
    const brand = planBucket('brand', 3000, 60_000, 0.75, 30);
    expect(brand.emissionMs).toBe(27);
    expect(brand.toleranceMs).toBe(30 * 27);
  });

  it('defaults the burst to 1 % of the published limit, at least 1', () => {
    expect([3000, 500, 100, 20].map(defaultBurst)).toEqual([30, 5, 1, 1]);
  });

  it('rejects a burst below one call', () => {
    expect(() => planBucket('x', 10, 60_000, 0.75, 0)).toThrow(RangeError);
    expect(() => planBucket('x', 10, 60_000, 0.75, 1.5)).toThrow(RangeError);
  });

  it('chooses idle, queue or full from the current tat', () => {
    const plan = planBucket('b', 20, 60_000, 0.75, 2); // T 4000, τ 8000
    const now = 100_000;
    expect(stepFor(null, now, plan, 0)).toEqual({ kind: 'idle' });
    expect(stepFor(now, now, plan, 0)).toEqual({ kind: 'idle' });
    // Policer: conforms while tat − (τ − T) ≤ now.
    expect(stepFor(now + 4000, now, plan, 0)).toEqual({ kind: 'queue' });
    expect(stepFor(now + 4001, now, plan, 0)).toEqual({ kind: 'full', waitMs: 1 });
    // With reservations up to 10 s ahead.
    expect(maxReservableTat(plan, now, 10_000)).toBe(now + 14_000);
    expect(stepFor(now + 14_000, now, plan, 10_000)).toEqual({ kind: 'queue' });
    expect(stepFor(now + 14_500, now, plan, 10_000)).toEqual({ kind: 'full', waitMs: 500 });
  });

  it('places a taken slot at its conformance time, or now when that has passed', () => {
    const plan = planBucket('b', 20, 60_000, 0.75, 2);
    expect(slotOf(100_000 + 4000, 100_000, plan)).toBe(100_000);
    expect(slotOf(100_000 + 9000, 100_000, plan)).toBe(101_000);
  });

  it('bounds one period by u·N + grace/T + burst', () => {
    const plan = planBucket('getCustomerDataRequest', 100, 1200, 0.75, 2); // T 16
    expect(worstCasePerPeriod(plan, 1200, 40)).toBe(Math.floor(1240 / 16) + 2);
  });
});

describe('bucketTable', () => {
  it('lists every bucket of the endpoint table at the target utilization, brand first', () => {
    const rows = bucketTable({ targetUtilization: 0.75 });
    expect(rows[0]).toMatchObject({
      bucket: 'brand',
      limitPerPeriod: 3000,
      targetPerPeriod: 2250,
      burst: 30,
    });
    const erasure = rows.find((r) => r.bucket === 'createErasureRequest');
    expect(erasure).toMatchObject({ limitPerPeriod: 20, targetPerPeriod: 15, emissionMs: 4000, burst: 1 });
    expect(rows.find((r) => r.bucket === 'token')).toBeUndefined();
    // At the defaults every bucket stays under its published limit even in the worst case.
    for (const r of rows) expect(r.worstCasePerPeriod).toBeLessThanOrEqual(r.limitPerPeriod);
  });
});
