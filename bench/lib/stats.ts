/** Small statistics over recorded samples, shared by the benchmarks. */

/** The p-quantile (0..1) by nearest rank; undefined for no samples. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Most events in any window `(t − windowMs, t]` (the sliding window a rate limit counts in), over
 * event times in ms.
 */
export function maxInSlidingWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let end = 0, start = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Events per second in consecutive bins of `binMs` from `from` to `to`, as [seconds since from, rate]. */
export function ratePerSecond(
  times: readonly number[],
  from: number,
  to: number,
  binMs: number,
): Array<[number, number]> {
  const bins = Math.max(1, Math.ceil((to - from) / binMs));
  const counts = new Array<number>(bins).fill(0);
  for (const t of times) {
    if (t < from || t >= to) continue;
    const i = Math.floor((t - from) / binMs);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts.map((c, i) => [((i + 0.5) * binMs) / 1000, (c * 1000) / binMs]);
}

export function round(value: number | undefined, digits = 2): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
