import { ConfigError, type ThrottledError } from '../errors';

/**
 * Wait arithmetic of the workflows. Every Wait state of the ASL reads an ISO instant (`waitUntil`)
 * that a handler computed: either the exact wait the rate limiter returned, or the next poll of a
 * Qualtrics job. The poll schedule lives here alone, so a test can derive the execution-history
 * cost of a 30-day job from it.
 */

/** Shortest and longest pause between two polls of one Qualtrics job, in unscaled seconds. */
export const POLL_MIN_SECONDS = 5;
export const POLL_MAX_SECONDS = 3600;
/** Next pause = this fraction of the job's age: quick answers for quick jobs, few polls for slow ones. */
export const POLL_GROWTH = 0.1;

/** `QDSR_WAIT_SCALE`: multiplies every wait a handler computes (1 in AWS; small against the simulator). */
export function waitScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.QDSR_WAIT_SCALE?.trim();
  if (!raw) return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 100) {
    throw new ConfigError(
      'QDSR_WAIT_SCALE',
      'QDSR_WAIT_SCALE must be a positive number (at most 100), e.g. 0.01',
    );
  }
  return value;
}

/** Unscaled seconds between a poll and the next one, for a job `elapsedSeconds` old (unscaled). */
export function pollIntervalSeconds(elapsedSeconds: number): number {
  const grown = POLL_GROWTH * Math.max(0, elapsedSeconds);
  return Math.min(POLL_MAX_SECONDS, Math.max(POLL_MIN_SECONDS, grown));
}

/**
 * Instants of every poll of a job that runs `durationSeconds` (unscaled), counted from its
 * creation; the last one is the first poll at or after the job's end.
 */
export function pollSchedule(durationSeconds: number): number[] {
  const polls: number[] = [];
  let t = 0;
  do {
    t += pollIntervalSeconds(t);
    polls.push(t);
  } while (t < durationSeconds);
  return polls;
}

/** ISO instant `delayMs` (real, already scaled) after `now`; whole seconds when not scaled (Wait precision). */
export function instantAfter(now: number, delayMs: number, scale: number): string {
  const at = now + Math.max(0, delayMs);
  return new Date(scale === 1 ? Math.ceil(at / 1000) * 1000 : Math.ceil(at)).toISOString();
}

/** When to poll a job created at `createdAt` (ISO) next. Elapsed time is measured in scaled time. */
export function nextPollAt(now: number, createdAt: string, scale: number): string {
  const created = Date.parse(createdAt);
  const elapsedUnscaledSeconds = Number.isFinite(created) ? (now - created) / scale / 1000 : 0;
  return instantAfter(now, pollIntervalSeconds(elapsedUnscaledSeconds) * 1000 * scale, scale);
}

/**
 * When the limiter admits the next call. The limiter already runs in scaled time (its period is
 * 60 s × QDSR_WAIT_SCALE), so its wait is used as is, never scaled again.
 */
export function limiterWaitUntil(now: number, throttled: ThrottledError, scale: number): string {
  return instantAfter(now, throttled.waitMs, scale);
}
