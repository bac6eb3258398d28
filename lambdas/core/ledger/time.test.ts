import { describe, expect, it } from 'vitest';
import { parseInstant, parseLedgerTime, receivedAtProblem } from './time';

describe('receipt times', () => {
  it('accepts ISO-8601 instants with Z or an offset, and nothing else', () => {
    expect(parseInstant('2026-01-31T10:00:00Z')?.toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(parseInstant('2026-01-31T10:00:00.5+02:00')?.toISOString()).toBe('2026-01-31T08:00:00.500Z');
    expect(parseInstant('2026-01-31T10:00:00-05:30')?.toISOString()).toBe('2026-01-31T15:30:00.000Z');
    for (const bad of [
      '2026-01-31T10:00:00',
      '2026-01-31',
      '2026-02-30T10:00:00Z',
      '2026-01-31T25:00:00Z',
      '2026-01-31 10:00:00Z',
      'yesterday',
      '',
      1_769_853_600_000,
      null,
    ]) {
      expect(parseInstant(bad), String(bad)).toBeUndefined();
    }
  });

  it('are refused more than 5 minutes ahead or more than 400 days back, never quoting them', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    expect(receivedAtProblem(new Date('2026-06-01T12:05:00Z'), now)).toBeUndefined();
    expect(receivedAtProblem(new Date('2026-06-01T12:05:00.001Z'), now)).toBe(
      'receivedAt must not be more than 5 minutes in the future',
    );
    expect(receivedAtProblem(new Date('2025-04-27T12:00:00Z'), now)).toBeUndefined();
    expect(receivedAtProblem(new Date('2025-04-27T11:59:59.999Z'), now)).toBe(
      'receivedAt must not be more than 400 days in the past',
    );
  });

  it('range bounds are instants or plain dates (00:00 UTC), normalized', () => {
    expect(parseLedgerTime('2026-02-01')).toBe('2026-02-01T00:00:00.000Z');
    expect(parseLedgerTime('2026-02-01T01:00:00+01:00')).toBe('2026-02-01T00:00:00.000Z');
    for (const bad of ['2026-02-30', '2026-2-1', '20260201', '2026-02-01T00:00', 'now']) {
      expect(parseLedgerTime(bad), bad).toBeUndefined();
    }
  });
});
