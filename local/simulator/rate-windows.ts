/**
 * Exact sliding-window rate limits: a request is admitted when every one of its buckets holds
 * fewer than `limit` admitted requests in the last `windowMs`. Rejected requests are not recorded,
 * so a client hammering through 429s does not extend its own penalty.
 */

class Window {
  private readonly times: number[] = [];
  private head = 0;

  /** Drops timestamps at or before `now - windowMs` (they no longer count). */
  prune(now: number, windowMs: number): void {
    const cutoff = now - windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }

  get count(): number {
    return this.times.length - this.head;
  }

  /** The timestamp whose expiry brings the count below `limit` (valid when count >= limit). */
  blocker(limit: number): number {
    return this.times[this.head + this.count - limit]!;
  }

  push(at: number): void {
    this.times.push(at);
  }
}

export type WindowDecision = { admitted: true } | { admitted: false; waitMs: number; buckets: string[] };

export class SlidingWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly windowMs: number) {}

  private window(bucket: string): Window {
    let w = this.windows.get(bucket);
    if (!w) {
      w = new Window();
      this.windows.set(bucket, w);
    }
    return w;
  }

  /** Admits (and records) the request in every bucket, or answers how long until all have room. */
  tryAdmit(
    buckets: ReadonlyArray<{ bucket: string; limit: number }>,
    now: number,
    enforce: boolean,
  ): WindowDecision {
    let waitMs = 0;
    const full: string[] = [];
    for (const { bucket, limit } of buckets) {
      const w = this.window(bucket);
      w.prune(now, this.windowMs);
      if (enforce && w.count >= limit) {
        full.push(bucket);
        waitMs = Math.max(waitMs, w.blocker(limit) + this.windowMs - now);
      }
    }
    if (full.length > 0) return { admitted: false, waitMs: Math.max(1, waitMs), buckets: full };
    for (const { bucket } of buckets) this.window(bucket).push(now);
    return { admitted: true };
  }

  /** Admitted requests currently inside the window of `bucket`. */
  inWindow(bucket: string, now: number): number {
    const w = this.window(bucket);
    w.prune(now, this.windowMs);
    return w.count;
  }
}
