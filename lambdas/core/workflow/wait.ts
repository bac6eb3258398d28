import { ConfigError, type ThrottledError } from '../errors';
import { ENDPOINTS, type EndpointName } from '../qualtrics/endpoints';

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

/** How far a progress estimate may stretch the growing interval (see `pollIntervalSeconds`). */
export const POLL_ESTIMATE_STRETCH = 4;
/**
 * At its shortest interval, one job's polls use at most this share of its status endpoint's
 * published limit, which every job polled at the same time shares: polling an erasure (20 calls
 * a minute for the whole brand) every 5 s would take 60 % of it, and two deletions would queue.
 */
export const POLL_MAX_SHARE_OF_LIMIT = 0.2;

/** The shortest interval between two polls of one job through `endpoint`, in unscaled seconds. */
export function pollFloorSeconds(endpoint?: EndpointName): number {
  const limit = endpoint ? ENDPOINTS[endpoint].limitPerMinute : null;
  if (!limit) return POLL_MIN_SECONDS;
  return Math.max(POLL_MIN_SECONDS, 60 / (limit * POLL_MAX_SHARE_OF_LIMIT));
}

export interface PollHints {
  /** What Qualtrics said of the job's progress, if anything. */
  percentComplete?: number;
  /** The status endpoint the job is polled through (its limit sets the shortest interval). */
  endpoint?: EndpointName;
}

/**
 * Unscaled seconds between a poll and the next one, for a job `elapsedSeconds` old (unscaled):
 * POLL_GROWTH of its age, between `pollFloorSeconds` of its status endpoint and POLL_MAX_SECONDS.
 *
 * When Qualtrics says how far the job is (`percentComplete`, strictly between 0 and 100), the job
 * should end about elapsed × (100 − p) / p seconds from now. A poll before then would mostly spend
 * a call of the endpoint's rate limit (shared by every job polled at the same time) to hear "not
 * yet", so the next poll waits for the estimate, but at most POLL_ESTIMATE_STRETCH growing
 * intervals (progress need not be linear) and never past POLL_MAX_SECONDS.
 */
export function pollIntervalSeconds(elapsedSeconds: number, hints: PollHints = {}): number {
  const { percentComplete, endpoint } = hints;
  const grown = Math.min(
    POLL_MAX_SECONDS,
    Math.max(pollFloorSeconds(endpoint), POLL_GROWTH * Math.max(0, elapsedSeconds)),
  );
  if (percentComplete === undefined || !(percentComplete > 0 && percentComplete < 100)) return grown;
  const remaining = (Math.max(0, elapsedSeconds) * (100 - percentComplete)) / percentComplete;
  return Math.min(POLL_MAX_SECONDS, POLL_ESTIMATE_STRETCH * grown, Math.max(grown, remaining));
}

/**
 * When each poll of a job that runs `durationSeconds` comes, in unscaled seconds after the job's
 * creation (the growing schedule without hints); the last one is the first at or after its end.
 */
export function pollSecondsAfterCreation(durationSeconds: number): number[] {
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

/** Unscaled seconds since `createdAt` (ISO), measured on a clock running `scale` times real time. */
export function ageSeconds(now: number, createdAt: string, scale: number): number {
  const created = Date.parse(createdAt);
  return Number.isFinite(created) ? (now - created) / scale / 1000 : 0;
}

/**
 * When to poll a job created at `createdAt` (ISO) next (see `pollIntervalSeconds` for the hints).
 * Elapsed time is measured in scaled time.
 */
export function nextPollAt(now: number, createdAt: string, scale: number, hints: PollHints = {}): string {
  const interval = pollIntervalSeconds(ageSeconds(now, createdAt, scale), hints);
  return instantAfter(now, interval * 1000 * scale, scale);
}

/** The first poll comes this long after the typical duration (unscaled s): our clock and Qualtrics' differ a little. */
export const POLL_AFTER_TYPICAL_SECONDS = 1;

/**
 * When to poll a job created at `createdAt` (ISO) for the first time. With `typicalSeconds` (what
 * this tenant's jobs of the kind have taught, `job-durations.ts`): once that has passed, but never
 * sooner than the growing schedule's first poll nor later than POLL_MAX_SECONDS after creation;
 * at full speed a job has one poll of its status endpoint to spend, and a poll that hears "not
 * yet" spends another job's. Without it, the growing schedule.
 */
export function firstPollAt(
  now: number,
  createdAt: string,
  scale: number,
  hints: PollHints & { typicalSeconds?: number } = {},
): string {
  const { typicalSeconds, ...rest } = hints;
  const created = Date.parse(createdAt);
  if (!(typicalSeconds !== undefined && typicalSeconds > 0) || !Number.isFinite(created)) {
    return nextPollAt(now, createdAt, scale, rest);
  }
  const age = Math.min(
    POLL_MAX_SECONDS,
    Math.max(pollIntervalSeconds(0, rest), typicalSeconds + POLL_AFTER_TYPICAL_SECONDS),
  );
  return instantAfter(now, created + age * 1000 * scale - now, scale);
}

/**
 * When the limiter admits the next call. The limiter already runs in scaled time (its period is
 * 60 s × QDSR_WAIT_SCALE), so its wait is used as is, never scaled again. Its instant wins over
 * `now` + the wait: the step may have spent time (a record write) since the limiter answered, and
 * a reserved slot is held only briefly past its instant.
 */
export function limiterWaitUntil(now: number, throttled: ThrottledError, scale: number): string {
  const wait = throttled.retryAt !== undefined ? throttled.retryAt - now : throttled.waitMs;
  return instantAfter(now, wait, scale);
}
