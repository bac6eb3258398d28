import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EndpointName } from '../qualtrics/endpoints';
import { TABLE_PARTITION_KEY } from '../tables';
import { firstPollAt, POLL_AFTER_TYPICAL_SECONDS } from './wait';

/**
 * How long a tenant's Qualtrics jobs take, learned from the jobs themselves, so the first poll of
 * a new job can wait until it is likely done. Qualtrics gives a status endpoint the same limit as
 * its create endpoint (erasures: 20 a minute for the whole brand), so at full speed there is one
 * poll per job to spend: a first poll that only hears "not yet" delays the news of every other job.
 *
 * One item per tenant and kind of job in the limiter table (`jobs#<tenant>#<kind>`), overwritten
 * by the latest lesson: a timing hint, never a decision. Reading or writing it fails soft (no
 * hint, the growing schedule alone), and it holds no personal data: a number of seconds.
 */

export type JobKind = 'customerData' | 'erasure' | 'erasureSearchOnly';

export interface JobDurations {
  /** The typical duration of this tenant's jobs of `kind`, in unscaled seconds, if known. */
  typical(kind: JobKind): Promise<number | undefined>;
  /** Records what a poll taught (see `durationLesson`). */
  learn(kind: JobKind, seconds: number): Promise<void>;
  /**
   * Records that a job of `kind` was still running `seconds` after it was created: a provisional
   * duration, set only while nothing was measured (`learn`) and only ever raised. A tenant's first
   * jobs are created before any of them has ended; without it each of them would spend polls of
   * the shared status endpoint hearing "not yet" at ages another job already heard it at.
   */
  learnAtLeast(kind: JobKind, seconds: number): Promise<void>;
}

/**
 * A job found done at its first poll (placed just past the typical duration) may have ended well
 * before it: the next job's first poll aims this much earlier, so a typical duration that has
 * become too long shrinks job after job. Small steps: one that undershoots costs a second poll.
 */
export const EARLIER_AFTER_DONE_AT_FIRST_POLL = 0.95;

/** Lessons older than this are forgotten (the limiter table's TTL): a tenant's jobs change with its data. */
const LESSON_TTL_SECONDS = 30 * 24 * 3600;

/**
 * What one poll of a job teaches about the duration of this tenant's jobs, in unscaled seconds:
 * - Qualtrics reported when the job was created and last updated, and it ended: exactly that;
 * - in progress at `percentComplete` p (0 < p < 100) at age a: its projected end, a × 100 / p;
 * - done at its first poll, without timestamps: it ended before that poll, maybe long before, so
 *   a little less than the typical duration that poll aimed at (the next job's first poll comes a
 *   little earlier). Not the poll's age: that includes any wait for the rate limiter (or, in the
 *   local runtime, for the engine), and learning it would make every queue longer. Without a
 *   typical duration the poll aimed at the growing schedule, not at the job: nothing;
 * - anything else: nothing.
 */
export interface PollOutcome {
  ended: boolean;
  /** The poll found the job still running (neither ended nor failed). */
  running?: boolean;
  ageSeconds: number;
  firstPoll: boolean;
  percentComplete?: number;
  /** Qualtrics' own timestamps of the job (ISO), when it reports them. */
  created?: string;
  updated?: string;
  /** Multiplies Qualtrics' clock into unscaled seconds (1 / QDSR_WAIT_SCALE). */
  unscale: number;
}

/** The duration Qualtrics' own stamps give for an ended job, if they give one. */
function stampedSeconds(o: PollOutcome): number | undefined {
  if (!(o.ended && o.created && o.updated)) return undefined;
  const ms = Date.parse(o.updated) - Date.parse(o.created);
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000) * o.unscale : undefined;
}

export function durationLesson(
  o: PollOutcome & {
    /** The typical duration known now (what the first poll aimed at), if any. */
    typicalSeconds?: number;
  },
): number | undefined {
  const stamped = stampedSeconds(o);
  if (stamped !== undefined) return stamped;
  const p = o.percentComplete;
  if (!o.ended && p !== undefined && p > 0 && p < 100 && o.ageSeconds > 0) return (o.ageSeconds * 100) / p;
  if (o.ended && o.firstPoll && o.ageSeconds > 0 && o.typicalSeconds !== undefined && o.typicalSeconds > 0) {
    const aimedAt = Math.min(o.ageSeconds, o.typicalSeconds + POLL_AFTER_TYPICAL_SECONDS);
    return aimedAt * EARLIER_AFTER_DONE_AT_FIRST_POLL;
  }
  return undefined;
}

/**
 * Learns what one poll taught (`durationLesson`), reading the typical duration only when the
 * lesson depends on it: a job done at its first poll with no usable stamps of its own. A job still
 * running with nothing better to go on teaches a lower bound (`learnAtLeast`): its age, which is
 * a fact about this job even when it includes a wait for the rate limiter.
 */
export async function learnFromPoll(
  durations: JobDurations | undefined,
  kind: JobKind,
  poll: PollOutcome,
): Promise<void> {
  if (!durations) return;
  const aimedAt =
    poll.ended && poll.firstPoll && stampedSeconds(poll) === undefined
      ? await durations.typical(kind)
      : undefined;
  const lesson = durationLesson({ ...poll, ...(aimedAt !== undefined ? { typicalSeconds: aimedAt } : {}) });
  if (lesson !== undefined) await durations.learn(kind, lesson);
  else if (poll.running && poll.ageSeconds > 0) await durations.learnAtLeast(kind, poll.ageSeconds);
}

/**
 * The instant a job's first poll should wait for instead of polling now, if it should: a job
 * created before its kind's duration was known (or while the known one still grew) had its first
 * poll set on the growing schedule, and a poll that only hears "not yet" spends a call that every
 * job polled at the same time shares. Not when the poll holds a slot the rate limiter reserved for
 * it (a slot left unused is lost), nor for a later poll (its job has already outlived the hint).
 */
export async function firstPollDeferral(
  durations: JobDurations | undefined,
  kind: JobKind,
  job: { polls: number; createdAt: string; reservations?: readonly unknown[] },
  clock: { now: number; scale: number; endpoint: EndpointName },
): Promise<string | undefined> {
  if (!durations || job.polls > 0 || (job.reservations?.length ?? 0) > 0) return undefined;
  const typicalSeconds = await durations.typical(kind);
  if (typicalSeconds === undefined) return undefined;
  const at = firstPollAt(clock.now, job.createdAt, clock.scale, {
    endpoint: clock.endpoint,
    typicalSeconds,
  });
  // Less than a second (unscaled) early is on time: a Wait of its own would cost more than it saves.
  return Date.parse(at) - clock.now >= 1000 * clock.scale ? at : undefined;
}

export class DynamoJobDurations implements JobDurations {
  constructor(
    private readonly o: {
      doc: DynamoDBDocumentClient;
      tableName: string;
      tenant: string;
      now?: () => number;
    },
  ) {}

  private key(kind: JobKind): string {
    return `jobs#${this.o.tenant}#${kind}`;
  }

  async typical(kind: JobKind): Promise<number | undefined> {
    try {
      const out = await this.o.doc.send(
        new GetCommand({
          TableName: this.o.tableName,
          Key: { [TABLE_PARTITION_KEY]: this.key(kind) },
          ProjectionExpression: 'seconds',
        }),
      );
      const seconds = out.Item?.seconds;
      return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
    } catch {
      return undefined; // a hint only: without it the growing schedule still finds the job done
    }
  }

  async learn(kind: JobKind, seconds: number): Promise<void> {
    await this.write(kind, seconds, { update: 'SET seconds = :s, expiresAt = :exp REMOVE provisional' });
  }

  async learnAtLeast(kind: JobKind, seconds: number): Promise<void> {
    await this.write(kind, seconds, {
      update: 'SET seconds = :s, provisional = :yes, expiresAt = :exp',
      // Never over a measured duration, never lowering a provisional one.
      condition: 'attribute_not_exists(seconds) OR (provisional = :yes AND seconds < :s)',
      values: { ':yes': true },
    });
  }

  /**
   * Writes a lesson of `seconds` (`:s`), renewing its TTL (`:exp`). Fails soft: a lesson lost, or
   * refused by its condition (the usual case for a lower bound once a duration is known), costs at
   * most a poll that hears "not yet".
   */
  private async write(
    kind: JobKind,
    seconds: number,
    o: { update: string; condition?: string; values?: Record<string, unknown> },
  ): Promise<void> {
    if (!(Number.isFinite(seconds) && seconds > 0)) return;
    const now = (this.o.now ?? Date.now)();
    try {
      await this.o.doc.send(
        new UpdateCommand({
          TableName: this.o.tableName,
          Key: { [TABLE_PARTITION_KEY]: this.key(kind) },
          UpdateExpression: o.update,
          ...(o.condition ? { ConditionExpression: o.condition } : {}),
          ExpressionAttributeValues: {
            ':s': Math.round(seconds * 1000) / 1000,
            ':exp': Math.ceil(now / 1000) + LESSON_TTL_SECONDS,
            ...o.values,
          },
        }),
      );
    } catch {
      // A hint only (see above).
    }
  }
}
