import { describe, expect, it } from 'vitest';
import { ConfigError, ThrottledError } from '../errors';
import {
  instantAfter,
  limiterWaitUntil,
  nextPollAt,
  POLL_MAX_SECONDS,
  POLL_MIN_SECONDS,
  pollIntervalSeconds,
  pollSchedule,
  waitScaleFromEnv,
} from './wait';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('wait arithmetic', () => {
  it('grows the poll interval with the job age, between the minimum and the cap', () => {
    expect(pollIntervalSeconds(0)).toBe(POLL_MIN_SECONDS);
    expect(pollIntervalSeconds(49)).toBe(POLL_MIN_SECONDS);
    expect(pollIntervalSeconds(1000)).toBe(100);
    expect(pollIntervalSeconds(36_000)).toBe(POLL_MAX_SECONDS);
    expect(pollIntervalSeconds(10 * 86_400)).toBe(POLL_MAX_SECONDS);
    expect(pollIntervalSeconds(-5)).toBe(POLL_MIN_SECONDS);
  });

  it('schedules polls until the first one at or after the end of the job', () => {
    expect(pollSchedule(12)).toEqual([5, 10, 15]);
    const day = pollSchedule(86_400);
    expect(day.at(-1)).toBeGreaterThanOrEqual(86_400);
    expect(day.at(-2)).toBeLessThan(86_400);
  });

  it('rounds unscaled instants up to whole seconds and keeps milliseconds when scaled', () => {
    expect(instantAfter(T0 + 200, 5000, 1)).toBe('2030-01-01T00:00:06.000Z');
    expect(instantAfter(T0, 5000, 1)).toBe('2030-01-01T00:00:05.000Z');
    expect(instantAfter(T0 + 200, 50, 0.01)).toBe('2030-01-01T00:00:00.250Z');
    expect(instantAfter(T0, -10, 1)).toBe('2030-01-01T00:00:00.000Z');
  });

  it('measures the job age in scaled time and scales the next interval', () => {
    const created = new Date(T0).toISOString();
    // Unscaled: a job 1000 s old polls again in 100 s.
    expect(nextPollAt(T0 + 1_000_000, created, 1)).toBe(new Date(T0 + 1_100_000).toISOString());
    // At scale 0.01 the same age is 10 s of real time, and the 100 s interval is 1 s.
    expect(nextPollAt(T0 + 10_000, created, 0.01)).toBe(new Date(T0 + 11_000).toISOString());
    // A fresh job: the minimum interval.
    expect(nextPollAt(T0, created, 1)).toBe(new Date(T0 + 5000).toISOString());
  });

  it('uses the limiter wait as it is (the limiter already runs in scaled time)', () => {
    expect(limiterWaitUntil(T0, new ThrottledError(37, 'brand'), 0.01)).toBe('2030-01-01T00:00:00.037Z');
    expect(limiterWaitUntil(T0, new ThrottledError(1200, 'brand'), 1)).toBe('2030-01-01T00:00:02.000Z');
  });

  it('reads QDSR_WAIT_SCALE, default 1, and rejects nonsense naming the variable', () => {
    expect(waitScaleFromEnv({})).toBe(1);
    expect(waitScaleFromEnv({ QDSR_WAIT_SCALE: '0.01' })).toBe(0.01);
    for (const bad of ['0', '-1', 'abc', '1000']) {
      expect(() => waitScaleFromEnv({ QDSR_WAIT_SCALE: bad })).toThrow(ConfigError);
    }
    try {
      waitScaleFromEnv({ QDSR_WAIT_SCALE: 'x' });
    } catch (e) {
      expect((e as ConfigError).setting).toBe('QDSR_WAIT_SCALE');
    }
  });
});
