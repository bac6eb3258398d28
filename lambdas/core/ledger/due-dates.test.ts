import { describe, expect, it } from 'vitest';
import { addCalendarMonths, daysBetween, dueDates } from './due-dates';

const at = (iso: string) => new Date(iso);

describe('due dates', () => {
  it('GDPR: one calendar month, clamped to the last day of a shorter month, same clock time', () => {
    expect(dueDates('gdpr', at('2026-01-31T10:00:00Z')).dueAt).toBe('2026-02-28T10:00:00.000Z');
    expect(dueDates('uk-gdpr', at('2026-01-31T10:00:00Z')).dueAt).toBe('2026-02-28T10:00:00.000Z');
    // A leap year has the 29th.
    expect(dueDates('gdpr', at('2028-01-31T10:00:00Z')).dueAt).toBe('2028-02-29T10:00:00.000Z');
    expect(dueDates('gdpr', at('2028-01-29T23:59:59.999Z')).dueAt).toBe('2028-02-29T23:59:59.999Z');
    expect(dueDates('gdpr', at('2026-03-31T08:30:00Z')).dueAt).toBe('2026-04-30T08:30:00.000Z');
    expect(dueDates('gdpr', at('2026-05-15T00:00:00Z')).dueAt).toBe('2026-06-15T00:00:00.000Z');
    // Across the year.
    expect(dueDates('gdpr', at('2026-12-31T12:00:00Z')).dueAt).toBe('2027-01-31T12:00:00.000Z');
  });

  it('GDPR: an extension gives three calendar months from receipt, clamped the same way', () => {
    expect(dueDates('gdpr', at('2026-11-30T10:00:00Z')).extendedDueAt).toBe('2027-02-28T10:00:00.000Z');
    expect(dueDates('gdpr', at('2027-11-30T10:00:00Z')).extendedDueAt).toBe('2028-02-29T10:00:00.000Z');
    expect(dueDates('uk-gdpr', at('2026-01-31T10:00:00Z')).extendedDueAt).toBe('2026-04-30T10:00:00.000Z');
  });

  it('an offset is a UTC instant: the clock time kept is the UTC one', () => {
    // 31 Jan 00:30 in Berlin is 30 Jan 23:30 UTC: due 28 Feb 23:30 UTC (30 Feb does not exist).
    expect(dueDates('gdpr', at('2026-01-31T00:30:00+01:00')).dueAt).toBe('2026-02-28T23:30:00.000Z');
  });

  it('CCPA and other US states: 45 days, extended to 90, counted from receipt', () => {
    for (const j of ['ccpa', 'us-state'] as const) {
      expect(dueDates(j, at('2026-01-31T10:00:00Z'))).toEqual({
        dueAt: '2026-03-17T10:00:00.000Z',
        extendedDueAt: '2026-05-01T10:00:00.000Z',
      });
    }
    // Leap day counts as a day.
    expect(dueDates('ccpa', at('2028-02-01T00:00:00Z')).dueAt).toBe('2028-03-17T00:00:00.000Z');
  });

  it('adds calendar months on the UTC calendar', () => {
    expect(addCalendarMonths(at('2026-08-31T00:00:00Z'), 1).toISOString()).toBe('2026-09-30T00:00:00.000Z');
    expect(addCalendarMonths(at('2026-02-28T00:00:00Z'), 1).toISOString()).toBe('2026-03-28T00:00:00.000Z');
    expect(addCalendarMonths(at('2026-10-31T05:06:07.089Z'), 4).toISOString()).toBe(
      '2027-02-28T05:06:07.089Z',
    );
  });

  it('counts days to respond to one decimal', () => {
    expect(daysBetween('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')).toBe(0);
    expect(daysBetween('2026-01-01T00:00:00Z', '2026-01-03T12:00:00Z')).toBe(2.5);
    expect(daysBetween('2026-01-01T00:00:00Z', '2026-01-01T02:59:00Z')).toBe(0.1);
    expect(daysBetween('2026-01-01T00:00:00Z', '2026-01-31T10:00:00Z')).toBe(30.4);
  });
});
