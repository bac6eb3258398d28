/**
 * GCRA arithmetic, free of I/O. A bucket stores one number, its theoretical arrival time `tat`
 * (epoch ms). With emission interval T and tolerance τ = burst·T, a call at `now` conforms iff
 * `tat − (τ − T) ≤ now`, and moves `tat` to `max(tat, now) + T`. Over any window of length W at
 * most ⌊W/T⌋ + burst calls conform, and in the long run exactly one per T.
 *
 * On top of the policer, a call that does not conform yet may *reserve* the next free slot (the
 * same `tat += T`, taken now) as long as that slot is at most `maxReservationMs` away: the caller
 * then waits exactly until its slot and goes out without another write. Reserving keeps a crowd
 * of waiting workers from waking at the same instant and racing for one slot (each losing writer
 * would cost a write and come back again), so every admitted call costs one write per bucket.
 */

export interface BucketPlan {
  /** Bucket name from the endpoint table (`brand`, `searchDirectoryContacts`, …). */
  readonly bucket: string;
  /** Published limit per period (per minute for Qualtrics), before the target utilization. */
  readonly limitPerPeriod: number;
  /** T: ms between two calls at the target rate; whole ms, rounded up so we never run fast. */
  readonly emissionMs: number;
  /** Calls that may go out back to back from an idle bucket. */
  readonly burst: number;
  /** τ = burst·T. */
  readonly toleranceMs: number;
}

/**
 * Default burst: 1 % of the published limit, at least 1. It lets a small fan-out (a Map over a
 * few directories) start without a Wait state, yet keeps the worst case per window, with the
 * reservation grace (see `worstCasePerPeriod`), near u·N + 3.5 %·N: inside "utilization + 5 %"
 * and far from the published limit N. brand 30, searchDirectoryContacts 5, the 100/min and
 * 20/min endpoints 1. A larger burst would let a small batch start its jobs together (5 erasures
 * are created over 16 s at 15 a minute), but on a 20-a-minute endpoint every extra call is 5 % of
 * the limit: the margin below it is worth more than those seconds.
 */
export function defaultBurst(limitPerPeriod: number): number {
  return Math.max(1, Math.floor(limitPerPeriod / 100));
}

export function planBucket(
  bucket: string,
  limitPerPeriod: number,
  periodMs: number,
  targetUtilization: number,
  burst: number,
): BucketPlan {
  if (!(limitPerPeriod > 0)) throw new RangeError(`bucket ${bucket}: limit must be positive`);
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError(`bucket ${bucket}: burst must be an integer >= 1 (got ${burst})`);
  }
  const emissionMs = Math.max(1, Math.ceil(periodMs / (limitPerPeriod * targetUtilization)));
  return { bucket, limitPerPeriod, emissionMs, burst, toleranceMs: burst * emissionMs };
}

/** The largest `tat` a call at `now` may move forward: beyond it the next slot is too far away. */
export function maxReservableTat(plan: BucketPlan, now: number, maxReservationMs: number): number {
  return now + plan.toleranceMs - plan.emissionMs + maxReservationMs;
}

/** What a call at `now` must do given the bucket's current `tat` (null: no item or no tat yet). */
export type Step = { kind: 'idle' } | { kind: 'queue' } | { kind: 'full'; waitMs: number };

export function stepFor(tat: number | null, now: number, plan: BucketPlan, maxReservationMs: number): Step {
  if (tat === null || tat <= now) return { kind: 'idle' };
  const max = maxReservableTat(plan, now, maxReservationMs);
  if (tat <= max) return { kind: 'queue' };
  // Exact: at now + waitMs the bucket's tat is within reach again (admits, or reserves a slot).
  return { kind: 'full', waitMs: tat - max };
}

/**
 * When a slot taken by moving tat to `newTat` may be used: its conformance time `newTat − τ`, or
 * `now` when that is already past (then the call goes out at once).
 */
export function slotOf(newTat: number, now: number, plan: BucketPlan): number {
  return Math.max(now, newTat - plan.toleranceMs);
}

/**
 * Most calls that can reach Qualtrics in any window of one period: ⌊u·N + grace/T⌋ + burst.
 * A reserved slot may be used up to `graceMs` after it begins (a Step Functions Wait rounds up to
 * whole seconds, and the Lambda needs time to start), which stretches the window by the grace.
 */
export function worstCasePerPeriod(plan: BucketPlan, periodMs: number, graceMs: number): number {
  return Math.floor((periodMs + graceMs) / plan.emissionMs) + plan.burst;
}
