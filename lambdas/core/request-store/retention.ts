import { epochSeconds } from './table';

/**
 * How long a record is kept (README "Retention"): `retentionDays` after its response, or after its
 * receipt if it was never answered. Two floors keep a record from being written already expired,
 * which only a retention shorter than the 400 days a receipt may be backdated could do: an open
 * request is kept at least `retentionDays` from now (it must outlive its workflow), and a request
 * that just ended at least a day (so that its failure can be seen and retried).
 */

const DAY_SECONDS = 86_400;

/** The TTL (epoch seconds) of a record written at `now`; `from` is its respondedAt ?? receivedAt. */
export function recordExpiry(
  from: string,
  opts: { retentionDays: number; open: boolean },
  now: Date,
): number {
  const expiry = epochSeconds(new Date(from)) + opts.retentionDays * DAY_SECONDS;
  const floor = epochSeconds(now) + (opts.open ? opts.retentionDays : 1) * DAY_SECONDS;
  return Math.max(expiry, floor);
}
