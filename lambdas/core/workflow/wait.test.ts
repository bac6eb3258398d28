import { describe, expect, it } from 'vitest';
import { ConfigError, ThrottledError } from '../errors';
import {
  firstPollAt,
  instantAfter,
  limiterWaitUntil,
  nextPollAt,
  POLL_AFTER_TYPICAL_SECONDS,
  POLL_ESTIMATE_STRETCH,
  POLL_MAX_SECONDS,
  POLL_MAX_SHARE_OF_LIMIT,
  POLL_MIN_SECONDS,
  pollFloorSeconds,
  pollIntervalSeconds,
  pollSecondsAfterCreation,
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

  it('waits for the end Qualtrics progress points to, within POLL_ESTIMATE_STRETCH intervals', () => {
    const at = (elapsed: number, percentComplete?: number) =>
      pollIntervalSeconds(elapsed, { percentComplete });
    // 5 s old and 25 % done: 15 s to go (the simulator's 20-s job, polled twice).
    expect(at(5, 25)).toBe(15);
    expect(at(100, 95)).toBe(10);
    expect(at(100, 80)).toBe(25);
    expect(at(100, 1)).toBe(POLL_ESTIMATE_STRETCH * 10);
    expect(at(36_000, 1)).toBe(POLL_MAX_SECONDS);
    // No usable progress: the growing schedule.
    for (const p of [undefined, 0, 100, -3, Number.NaN]) expect(at(100, p)).toBe(10);
    const created = new Date(T0).toISOString();
    expect(nextPollAt(T0 + 5000, created, 1, { percentComplete: 25 })).toBe(
      new Date(T0 + 20_000).toISOString(),
    );
  });

  it("keeps one job's polls to a fifth of its status endpoint's limit", () => {
    // getErasureRequest: 20 a minute → at least 15 s apart; getCustomerDataRequest: 100 → 3 s, so 5.
    expect(pollFloorSeconds('getErasureRequest')).toBe(15);
    expect(pollFloorSeconds('getCustomerDataRequest')).toBe(POLL_MIN_SECONDS);
    expect(pollFloorSeconds()).toBe(POLL_MIN_SECONDS);
    expect(POLL_MAX_SHARE_OF_LIMIT).toBe(0.2);
    const erasure = { endpoint: 'getErasureRequest' } as const;
    expect(pollIntervalSeconds(0, erasure)).toBe(15);
    expect(pollIntervalSeconds(1000, erasure)).toBe(100);
    expect(pollIntervalSeconds(36_000, erasure)).toBe(POLL_MAX_SECONDS);
    const created = new Date(T0).toISOString();
    expect(nextPollAt(T0, created, 0.01, erasure)).toBe(new Date(T0 + 150).toISOString());
  });

  it('schedules polls until the first one at or after the end of the job', () => {
    expect(pollSecondsAfterCreation(12)).toEqual([5, 10, 15]);
    const day = pollSecondsAfterCreation(86_400);
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

  it("polls a new job first once this tenant's typical duration has passed, within the schedule's bounds", () => {
    const created = new Date(T0).toISOString();
    const at = (iso: string) => (Date.parse(iso) - T0) / 1000;
    // No lesson yet: the growing schedule (5 s; 15 s for an erasure, see the floor).
    expect(at(firstPollAt(T0, created, 1))).toBe(5);
    expect(at(firstPollAt(T0, created, 1, { endpoint: 'getErasureRequest' }))).toBe(15);
    // Erasures here take 30 s: the first poll just after, one poll instead of two.
    expect(at(firstPollAt(T0, created, 1, { endpoint: 'getErasureRequest', typicalSeconds: 30 }))).toBe(
      30 + POLL_AFTER_TYPICAL_SECONDS,
    );
    // Never sooner than the floor, never later than the longest interval.
    expect(at(firstPollAt(T0, created, 1, { endpoint: 'getErasureRequest', typicalSeconds: 2 }))).toBe(15);
    expect(at(firstPollAt(T0, created, 1, { typicalSeconds: 10 * 24 * 3600 }))).toBe(POLL_MAX_SECONDS);
    // Scaled like every wait, and counted from creation: a job reused 10 s after it was created.
    expect(at(firstPollAt(T0, created, 0.25, { typicalSeconds: 20 }))).toBe(5.25);
    expect(at(firstPollAt(T0 + 10_000, created, 1, { typicalSeconds: 20 }))).toBe(21);
    // Past that moment already: at once (rounded up to the next whole second when unscaled).
    expect(at(firstPollAt(T0 + 60_000, created, 1, { typicalSeconds: 20 }))).toBe(60);
  });

  it('uses the limiter wait as it is (the limiter already runs in scaled time)', () => {
    expect(limiterWaitUntil(T0, new ThrottledError(37, 'brand'), 0.01)).toBe('2030-01-01T00:00:00.037Z');
    expect(limiterWaitUntil(T0, new ThrottledError(1200, 'brand'), 1)).toBe('2030-01-01T00:00:02.000Z');
  });

  it("waits until the limiter's own instant, however long the step took since it answered", () => {
    // Denied at T0 with a slot 4 s away; the step wrote a record for 1.5 s before scheduling its wait.
    const denied = new ThrottledError(4000, 'createErasureRequest', T0 + 4000);
    expect(limiterWaitUntil(T0 + 1500, denied, 0.01)).toBe('2030-01-01T00:00:04.000Z');
    expect(limiterWaitUntil(T0 + 1500, denied, 1)).toBe('2030-01-01T00:00:04.000Z');
    // Already past: at once.
    expect(limiterWaitUntil(T0 + 5000, denied, 0.01)).toBe('2030-01-01T00:00:05.000Z');
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
