import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_PARTITION_KEY } from '../tables';
import { POLL_AFTER_TYPICAL_SECONDS } from './wait';

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
 *   little earlier). Not the poll's age: that includes any wait for the rate limiter, and learning
 *   it would make every queue longer;
 * - anything else: nothing.
 */
export interface PollOutcome {
  ended: boolean;
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
  if (o.ended && o.firstPoll && o.ageSeconds > 0) {
    const aimedAt =
      o.typicalSeconds !== undefined && o.typicalSeconds > 0
        ? Math.min(o.ageSeconds, o.typicalSeconds + POLL_AFTER_TYPICAL_SECONDS)
        : o.ageSeconds;
    return aimedAt * EARLIER_AFTER_DONE_AT_FIRST_POLL;
  }
  return undefined;
}

/**
 * Learns what one poll taught (`durationLesson`), reading the typical duration only when the
 * lesson depends on it: a job done at its first poll with no usable stamps of its own.
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
    if (!(Number.isFinite(seconds) && seconds > 0)) return;
    const now = (this.o.now ?? Date.now)();
    try {
      await this.o.doc.send(
        new UpdateCommand({
          TableName: this.o.tableName,
          Key: { [TABLE_PARTITION_KEY]: this.key(kind) },
          UpdateExpression: 'SET seconds = :s, expiresAt = :exp',
          ExpressionAttributeValues: {
            ':s': Math.round(seconds * 1000) / 1000,
            ':exp': Math.ceil(now / 1000) + LESSON_TTL_SECONDS,
          },
        }),
      );
    } catch {
      // A lost lesson costs at most a poll that hears "not yet".
    }
  }
}
