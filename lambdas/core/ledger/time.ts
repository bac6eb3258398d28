import { z } from 'zod';

/**
 * Times the ledger accepts: a receipt time (`receivedAt`), and the bounds of a list or records
 * range (`since`, `until`). Stored and compared as `Date.toISOString()` (UTC, milliseconds), so
 * that string order is time order in DynamoDB's sort keys.
 */

/** How far ahead of the connector's clock a receipt time may be (clocks differ a little). */
export const RECEIVED_AT_MAX_AHEAD_MS = 5 * 60_000;
/** How far back a receipt time may be: beyond any deadline, so a request recorded late still counts. */
export const RECEIVED_AT_MAX_AGE_DAYS = 400;

const ISO_INSTANT = z.iso.datetime({ offset: true });
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An ISO-8601 instant with `Z` or an offset (`2026-01-31T10:00:00+01:00`), or undefined. */
export function parseInstant(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !ISO_INSTANT.safeParse(value).success) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * A bound of a range: an ISO-8601 instant, or a date `YYYY-MM-DD` meaning its 00:00 UTC. The
 * normalized form (`toISOString()`), or undefined when it is neither.
 */
export function parseLedgerTime(value: unknown): string | undefined {
  if (typeof value === 'string' && ISO_DATE.test(value)) {
    const date = new Date(`${value}T00:00:00.000Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
      ? date.toISOString()
      : undefined;
  }
  return parseInstant(value)?.toISOString();
}

/** Why `receivedAt` cannot be a receipt time at `now`, or undefined when it can. Never quotes it. */
export function receivedAtProblem(receivedAt: Date, now: Date): string | undefined {
  if (receivedAt.getTime() > now.getTime() + RECEIVED_AT_MAX_AHEAD_MS) {
    return 'receivedAt must not be more than 5 minutes in the future';
  }
  if (receivedAt.getTime() < now.getTime() - RECEIVED_AT_MAX_AGE_DAYS * 86_400_000) {
    return `receivedAt must not be more than ${RECEIVED_AT_MAX_AGE_DAYS} days in the past`;
  }
  return undefined;
}
