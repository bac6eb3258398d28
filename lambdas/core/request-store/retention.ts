import { epochSeconds } from './table';

/**
 * How long a record is kept (README "Retention"): `retentionDays` after its response, or after its
 * receipt if it was never answered. Two floors keep a record from being written already expired,
 * which only a retention shorter than the 400 days a receipt may be backdated could do: an open
 * request is kept at least `retentionDays` from now (it must outlive its workflow), and a request
 * that just ended at least a day (so its failure can be seen and retried).
 */

const DAY_SECONDS = 86_400;

export interface ExpiryBasis {
  receivedAt: string;
  respondedAt?: string | null;
  /** Still running (created, or reopened for a retry). */
  open: boolean;
}

/** The record's TTL (epoch seconds) when written at `now`. */
export function recordExpiry(basis: ExpiryBasis, retentionDays: number, now: Date): number {
  const from = basis.respondedAt ?? basis.receivedAt;
  const expiry = epochSeconds(new Date(from)) + retentionDays * DAY_SECONDS;
  const floor = epochSeconds(now) + (basis.open ? retentionDays : 1) * DAY_SECONDS;
  return Math.max(expiry, floor);
}
