import type { Jurisdiction } from './jurisdictions';

/**
 * When a request must be answered (README "Deadlines"): GDPR and UK GDPR one calendar month from
 * receipt, extendable once to three (Art. 12(3)); CCPA and the other US state laws 45 days,
 * extendable once to 90 (Cal. Civ. Code §1798.130(a)(2)).
 */

const DAY_MS = 86_400_000;

type Period = { months: number } | { days: number };

const PERIODS: Record<Jurisdiction, { due: Period; extended: Period }> = {
  gdpr: { due: { months: 1 }, extended: { months: 3 } },
  'uk-gdpr': { due: { months: 1 }, extended: { months: 3 } },
  ccpa: { due: { days: 45 }, extended: { days: 90 } },
  'us-state': { due: { days: 45 }, extended: { days: 90 } },
};

/**
 * `from` + `months` calendar months in UTC: the same day of the month and clock time, or the last
 * day of the month when it has no such day (31 Jan + 1 month = 28 Feb, or 29 Feb in a leap year).
 */
export function addCalendarMonths(from: Date, months: number): Date {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(from.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      from.getUTCHours(),
      from.getUTCMinutes(),
      from.getUTCSeconds(),
      from.getUTCMilliseconds(),
    ),
  );
}

function after(from: Date, period: Period): Date {
  return 'months' in period
    ? addCalendarMonths(from, period.months)
    : new Date(from.getTime() + period.days * DAY_MS);
}

/** A request's due date, and the one an extension would give (both from receipt). */
export function dueDates(
  jurisdiction: Jurisdiction,
  receivedAt: Date,
): { dueAt: string; extendedDueAt: string } {
  const periods = PERIODS[jurisdiction];
  return {
    dueAt: after(receivedAt, periods.due).toISOString(),
    extendedDueAt: after(receivedAt, periods.extended).toISOString(),
  };
}

/** (respondedAt − receivedAt) in days, to one decimal. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / (DAY_MS / 10)) / 10;
}
