import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TARGET_UTILIZATION, targetUtilizationFromEnv } from '../config';
import { ConfigError, ThrottledError } from '../errors';
import { bucketsFor, type EndpointName, JOB_STATUS_ENDPOINT, rateLimitBuckets } from '../qualtrics/endpoints';
import type { CallGate } from '../qualtrics/types';
import { storageNamesFromEnv } from '../tables';
import { BucketStore, type WriteResult } from './bucket-store';
import {
  type BucketPlan,
  defaultBurst,
  maxReservableTat,
  planBucket,
  slotOf,
  stepFor,
  worstCasePerPeriod,
} from './gcra';

export { LimiterUnavailableError } from './bucket-store';
export { type BucketPlan, defaultBurst, worstCasePerPeriod } from './gcra';

/**
 * The shared Qualtrics rate limiter: GCRA on DynamoDB, one item per (tenant, bucket). Every call
 * must be admitted by its endpoint's bucket, then by the brand bucket (endpoint table ×
 * target utilization). See `gcra.ts` for the arithmetic and the slot reservations.
 *
 * THE path for Qualtrics calls is a `CallGate` from `limiter.gate()`: the Qualtrics client calls
 * `before` / `after` around every HTTP request it makes (each page, each retry), so no handler can
 * reach Qualtrics around the limiter. `limitedCall(gate, endpoint, call)` is the same
 * acquire → call → classify sequence for one call made outside the client.
 *
 * One RateLimiter per process (Lambda container, local runtime), one gate per caller: a gate holds
 * its caller's reservations. The instance also remembers the last `tat` it saw per bucket, only to
 * guess which conditional write to try first (a wrong guess costs one failed write, never a wrong
 * decision).
 *
 * @example
 * const limiter = new RateLimiter({ doc, tableName, tenant: `${datacenter}#${clientId}` });
 * const gate = limiter.gate({ reservations: input.reservations });  // from the previous attempt
 * try {
 *   return await clientUsing(gate).whoami();               // the client calls gate.before/after
 * } catch (e) {
 *   if (e instanceof ThrottledError) {
 *     // A Step Functions Wait until then, and this step again with the reservations it holds.
 *     return { waitUntil: new Date(Date.now() + e.waitMs).toISOString(), reservations: gate.reservations() };
 *   }
 *   throw e;                                                // LimiterUnavailable is retryable
 * }
 */

export interface RateLimiterOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** e.g. `${datacenter}#${brandOrClientId}`: part of every bucket key, so tenants never share a bucket. */
  tenant: string;
  /** Fraction of each published limit to use, in (0, 1]; default from QDSR_TARGET_UTILIZATION (0.75). */
  targetUtilization?: number;
  /** Length of the period the published limits apply to (Qualtrics: a minute). Tests and benches compress it. */
  periodMs?: number;
  /** Calls allowed back to back from an idle bucket: a number, or a function of the published limit per period. Default `defaultBurst` (1 % of the limit, at least 1). */
  burst?: number | ((limitPerPeriod: number) => number);
  /** How late a reserved slot may still be used. Default periodMs / 30 (2 s of a minute: a Step Functions Wait rounds up to whole seconds). */
  reservationGraceMs?: number;
  /**
   * How far ahead a slot may be reserved, for every bucket or per bucket; 0 turns reservations off
   * (a pure policer). Default one period.
   */
  maxReservationMs?: number | ((bucket: string) => number);
  now?: () => number;
  /** In [0, 1): spreads the callers a full bucket turns away over the reservation horizon. Default Math.random. */
  random?: () => number;
  /**
   * A call that starts a Qualtrics job (`JOB_STATUS_ENDPOINT`) is admitted only while the bucket
   * the job's status is polled through is booked at most this far ahead. Default periodMs / 12
   * (5 s of a minute). Qualtrics gives a status endpoint the same limit as its create endpoint:
   * at full speed every job in flight shares one poll per job, and a job started while polls
   * queue adds no throughput, only delay to the news of every job before it.
   */
  maxStatusBacklogMs?: number;
}

/** A reserved (or already paid) slot in one bucket: hand it back to `acquire` to use it. JSON-safe, no personal data. */
export interface Reservation {
  /** The bucket item's key, `gcra#<tenant>#<bucket>`. */
  key: string;
  /** Epoch ms from which the slot may be used (until slotAt + reservationGraceMs). */
  slotAt: number;
}

export type AcquireResult =
  | {
      admitted: true;
      /** Epoch ms the admission counts at (the limiter's clock). */
      at: number;
      /** Reservations the caller still holds (those of other endpoints' buckets). */
      reservations: Reservation[];
    }
  | {
      admitted: false;
      /**
       * Ms until acquiring again (with `reservations`) admits, counted from when this answer was
       * given: exact for a reserved slot; for a bucket booked beyond the horizon, a spread moment
       * after it comes back within reach.
       */
      waitMs: number;
      /** The same moment as epoch ms (for a Step Functions Wait with `TimestampPath`). */
      retryAt: number;
      /** The bucket that said no. */
      bucket: string;
      /** Hold these and pass them to the next acquire: they are the slots paid for. */
      reservations: Reservation[];
    };

export interface LimiterStats {
  /** UpdateItem calls sent (a failed conditional write costs a write unit too). */
  writes: number;
  /** GetItem calls sent. */
  reads: number;
  admitted: number;
  denied: number;
}

const DEFAULT_PERIOD_MS = 60_000;
const KEY_PREFIX = 'gcra#';
/** Conditional writes one bucket may spend on one acquire before giving up on a contended race. */
const MAX_STEPS = 4;
const DEFAULT_STATUS_BACKLOG_DIVISOR = 12;

export class RateLimiter {
  readonly tenant: string;
  readonly targetUtilization: number;
  readonly periodMs: number;
  readonly reservationGraceMs: number;
  readonly maxStatusBacklogMs: number;
  private readonly horizons: (bucket: string) => number;
  private readonly store: BucketStore;
  private readonly burstOf: (limitPerPeriod: number) => number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly plans = new Map<string, BucketPlan>();
  /** Last tat this instance saw per key: only to guess which write to try first. */
  private readonly lastTat = new Map<string, number>();
  /** Busy-bucket writes this instance has in flight per key. */
  private readonly queueing = new Map<string, number>();
  /** The first take of a key this instance has no tat for yet, while it runs. */
  private readonly learning = new Map<string, Promise<unknown>>();
  private admitted = 0;
  private denied = 0;

  constructor(o: RateLimiterOptions) {
    if (!o.tenant?.trim()) throw new RangeError('rate limiter: tenant must not be empty');
    this.tenant = o.tenant;
    this.targetUtilization = validUtilization(o.targetUtilization ?? targetUtilizationFromEnv());
    this.periodMs = positive('periodMs', o.periodMs ?? DEFAULT_PERIOD_MS);
    this.reservationGraceMs = nonNegative('reservationGraceMs', o.reservationGraceMs ?? this.periodMs / 30);
    const horizon = o.maxReservationMs ?? this.periodMs;
    this.horizons =
      typeof horizon === 'function'
        ? (bucket) => nonNegative(`maxReservationMs(${bucket})`, horizon(bucket))
        : (
            (h) => () =>
              h
          )(nonNegative('maxReservationMs', horizon));
    const burst = o.burst;
    this.burstOf = typeof burst === 'function' ? burst : burst !== undefined ? () => burst : defaultBurst;
    this.maxStatusBacklogMs = nonNegative(
      'maxStatusBacklogMs',
      o.maxStatusBacklogMs ?? this.periodMs / DEFAULT_STATUS_BACKLOG_DIVISOR,
    );
    this.store = new BucketStore(o.doc, o.tableName);
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** Table name from QDSR_LIMITER_TABLE and utilization from QDSR_TARGET_UTILIZATION. */
  static fromEnv(
    o: { doc: DynamoDBDocumentClient; tenant: string; env?: NodeJS.ProcessEnv } & Partial<RateLimiterOptions>,
  ): RateLimiter {
    const env = o.env ?? process.env;
    return new RateLimiter({
      ...o,
      tableName: o.tableName ?? storageNamesFromEnv(env).limiterTable,
      targetUtilization: o.targetUtilization ?? targetUtilizationFromEnv(env),
    });
  }

  /** The bucket's parameters as this limiter runs it. */
  plan(bucket: string, limitPerPeriod: number): BucketPlan {
    let p = this.plans.get(bucket);
    if (!p) {
      p = planBucket(
        bucket,
        limitPerPeriod,
        this.periodMs,
        this.targetUtilization,
        this.burstOf(limitPerPeriod),
      );
      this.plans.set(bucket, p);
    }
    return p;
  }

  /** How far ahead a slot of `bucket` may be reserved. */
  maxReservationMs(bucket: string): number {
    return this.horizons(bucket);
  }

  keyOf(bucket: string): string {
    return `${KEY_PREFIX}${this.tenant}#${bucket}`;
  }

  stats(): LimiterStats {
    return {
      writes: this.store.writes,
      reads: this.store.reads,
      admitted: this.admitted,
      denied: this.denied,
    };
  }

  /**
   * Admits a call of `endpoint` now, or answers the exact wait. Endpoints without a bucket (the
   * token endpoint) are admitted without DynamoDB. Throws LimiterUnavailableError when DynamoDB fails.
   */
  async acquire(endpoint: EndpointName, held: readonly Reservation[] = []): Promise<AcquireResult> {
    const buckets = bucketsFor(endpoint).map((b) => ({ plan: this.plan(b.bucket, b.limitPerMinute) }));
    const keys = new Set(buckets.map((b) => this.keyOf(b.plan.bucket)));
    // Concurrent first calls in one process learn a bucket's state from one write, not by racing blind.
    for (const key of keys) {
      // Only await when there is something to wait for: even `await undefined` would yield, and let
      // every concurrent caller past this check before the first one registers its write.
      const pending = this.lastTat.has(key) ? undefined : this.learning.get(key);
      if (pending) await pending.catch(() => undefined);
    }
    let now = this.now();
    // Tickets for other endpoints' buckets pass through untouched.
    const kept = held.filter((r) => !keys.has(r.key));
    const holding = new Map(held.filter((r) => keys.has(r.key)).map((r) => [r.key, r.slotAt]));
    // The wait counts from when the answer is given (after the writes), not from when it was asked.
    const denyNow = (retryAt: number, bucket: string): AcquireResult => {
      this.denied++;
      const reservations = [...kept, ...[...holding].map(([key, slotAt]) => ({ key, slotAt }))];
      const waitMs = Math.max(1, Math.ceil(retryAt - this.now()));
      return { admitted: false, waitMs, retryAt: Math.ceil(retryAt), bucket, reservations };
    };
    const statusWait = await this.statusBacklogWait(endpoint, now);
    if (statusWait) return denyNow(statusWait.retryAt, statusWait.bucket);
    for (const { plan } of buckets) {
      const key = this.keyOf(plan.bucket);
      const ticket = holding.get(key);
      if (ticket !== undefined && this.ticketPlausible(ticket, now, plan)) {
        if (now < ticket) return denyNow(ticket, plan.bucket);
        if (now <= ticket + this.reservationGraceMs) continue;
      }
      // No ticket, or it expired unused (or is implausible): take a slot.
      holding.delete(key);
      const taken = await this.take(key, plan, now);
      const askedAt = now;
      now = this.now();
      if ('fullWaitMs' in taken) return denyNow(askedAt + taken.fullWaitMs, plan.bucket);
      // Judge the slot against the time the call is sent: now, when the answer arrived. A slot up to
      // the grace in the past is used at once, as a reserved one is. One further back was judged for
      // a call sent at `askedAt` and answered late: the call waits out its offset from `askedAt`
      // after the answer instead, so calls granted one interval apart leave one interval apart.
      // Used as granted, slots a late DynamoDB answer put in the past would all leave at once (a
      // bench minute reached 0.85 of a Qualtrics limit against the 0.8 this limiter promises).
      const slotAt =
        now > taken.slotAt + this.reservationGraceMs ? taken.slotAt + (now - askedAt) : taken.slotAt;
      holding.set(key, slotAt);
      if (slotAt > now) return denyNow(slotAt, plan.bucket);
    }
    this.admitted++;
    return { admitted: true, at: now, reservations: kept };
  }

  /**
   * 429 feedback: pushes the endpoint's bucket and the brand bucket to `now + penalty` so every
   * worker slows down, not only the one that got the 429 (Qualtrics does not say which limit it
   * hit). The penalty is Retry-After when given; otherwise a tenth of the period (6 s of a
   * minute): long enough to drain more of the window than the limiter's own worst-case overshoot
   * (burst + grace, ~3.5 % of the limit), short of idling a whole window; a repeated 429 pushes
   * again, and the caller's retry backs off exponentially on top.
   * Slots reserved before the 429 are still honoured (at most one period of them).
   */
  async penalize(endpoint: EndpointName, retryAfterSeconds?: number): Promise<void> {
    const now = this.now();
    const buckets = bucketsFor(endpoint).map((b) => this.plan(b.bucket, b.limitPerMinute));
    await Promise.all(
      buckets.map((plan) => {
        const penaltyMs =
          retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0
            ? Math.min(retryAfterSeconds * 1000, MAX_PENALTY_MS)
            : this.periodMs / 10;
        const pushed = now + Math.ceil(Math.max(penaltyMs, plan.emissionMs));
        const key = this.keyOf(plan.bucket);
        this.sawTat(key, pushed);
        return this.store.push(key, pushed);
      }),
    );
  }

  /** A CallGate for one caller (one worker, one handler invocation): it holds that caller's reservations. */
  gate(o: { reservations?: readonly Reservation[] } = {}): LimiterGate {
    return new LimiterGate(this, o.reservations ?? []);
  }

  /**
   * For a call that starts a job: when the job's status bucket is booked further ahead than
   * `maxStatusBacklogMs`, the instant it will not be (and that bucket's name). One GetItem; the
   * status bucket itself is not touched.
   */
  private async statusBacklogWait(
    endpoint: EndpointName,
    now: number,
  ): Promise<{ retryAt: number; bucket: string } | undefined> {
    const status = JOB_STATUS_ENDPOINT[endpoint];
    const own = status ? bucketsFor(status)[0] : undefined;
    if (!own) return undefined;
    const plan = this.plan(own.bucket, own.limitPerMinute);
    const tat = await this.store.read(this.keyOf(plan.bucket));
    if (tat === null) return undefined;
    // A new poll there would conform at tat − (τ − T): that is how long polls queue now.
    const queuedUntil = tat - (plan.toleranceMs - plan.emissionMs);
    if (queuedUntil - now <= this.maxStatusBacklogMs) return undefined;
    return { retryAt: queuedUntil - this.maxStatusBacklogMs, bucket: plan.bucket };
  }

  /** Takes a slot in one bucket: admits now, reserves a later slot, or reports the bucket full. */
  private async take(
    key: string,
    plan: BucketPlan,
    now: number,
  ): Promise<{ slotAt: number } | { fullWaitMs: number }> {
    if (this.lastTat.has(key) || this.learning.has(key)) return this.takeSteps(key, plan, now);
    const learned = this.takeSteps(key, plan, now);
    this.learning.set(key, learned);
    try {
      return await learned;
    } finally {
      this.learning.delete(key);
    }
  }

  private async takeSteps(
    key: string,
    plan: BucketPlan,
    now: number,
  ): Promise<{ slotAt: number } | { fullWaitMs: number }> {
    const horizonMs = this.maxReservationMs(plan.bucket);
    const maxTat = maxReservableTat(plan, now, horizonMs);
    // Try the busy write first when the bucket is hot: its tat is ahead of the clock, or another
    // caller of this process is queueing on it right now. That spares a failed idle write.
    const busy = (this.lastTat.get(key) ?? 0) > now || (this.queueing.get(key) ?? 0) > 0;
    let step: 'idle' | 'queue' = busy ? 'queue' : 'idle';
    for (let i = 0; i < MAX_STEPS; i++) {
      let r: WriteResult;
      if (step === 'idle') {
        // Either way the tat will be past `now` (set to now + T, or already beyond): say so at once.
        this.sawTat(key, now + plan.emissionMs);
        r = await this.store.idle(key, now, plan.emissionMs);
      } else {
        this.queueing.set(key, (this.queueing.get(key) ?? 0) + 1);
        try {
          r = await this.store.queue(key, now, plan.emissionMs, maxTat);
        } finally {
          this.queueing.set(key, (this.queueing.get(key) ?? 1) - 1);
        }
      }
      if (r.ok) {
        this.sawTat(key, r.tat);
        return { slotAt: slotOf(r.tat, now, plan) };
      }
      let observed = r.observed;
      if (observed === undefined) {
        // No item came back (dynalite). A failed idle write means tat > now: queue is next either way.
        if (step === 'idle') {
          step = 'queue';
          continue;
        }
        observed = await this.store.read(key);
      }
      if (observed !== null) this.sawTat(key, observed);
      const next = stepFor(observed, now, plan, horizonMs);
      // Reservations are booked a whole horizon ahead: every caller turned away now would come
      // back at the same instant, when one slot is in reach again, and all but one would be turned
      // away again, one slot after another (a herd: each return costs a write, a Lambda and a
      // Wait). Spread over the horizon instead, they return about as fast as slots free up.
      if (next.kind === 'full') {
        return { fullWaitMs: next.waitMs + Math.floor(this.random() * horizonMs) };
      }
      step = next.kind;
    }
    // Other writers kept moving the item between our writes: back off one interval (rare, safe).
    return { fullWaitMs: plan.emissionMs };
  }

  /** tat only grows (writes land out of order): keep the largest seen. */
  private sawTat(key: string, tat: number): void {
    this.lastTat.set(key, Math.max(this.lastTat.get(key) ?? tat, tat));
  }

  /** A ticket no acquire could have issued (forged, or from a longer period): ignore it. */
  private ticketPlausible(slotAt: number, now: number, plan: BucketPlan): boolean {
    return (
      Number.isFinite(slotAt) && slotAt <= maxReservableTat(plan, now, this.maxReservationMs(plan.bucket))
    );
  }
}

/** Retry-After beyond this is capped: a longer pause is the workflow's decision, not the limiter's. */
const MAX_PENALTY_MS = 15 * 60_000;

/** The limiter as the Qualtrics client sees it (`CallGate`), for one caller. */
export class LimiterGate implements CallGate {
  private held: Reservation[];

  constructor(
    private readonly limiter: RateLimiter,
    reservations: readonly Reservation[],
  ) {
    this.held = [...reservations];
  }

  /** Resolves when the call may go out; throws ThrottledError (exact wait) or LimiterUnavailableError. */
  async before(endpoint: EndpointName): Promise<void> {
    const r = await this.limiter.acquire(endpoint, this.held);
    this.held = r.reservations;
    if (!r.admitted) throw new ThrottledError(r.waitMs, r.bucket, r.retryAt);
  }

  /**
   * A 429 pushes the shared buckets back. Best effort: the 429 itself is what the caller reports
   * (and retries); if DynamoDB is down, the next `before` fails closed anyway.
   */
  async after(
    endpoint: EndpointName,
    outcome: { httpStatus: number; retryAfterSeconds?: number },
  ): Promise<void> {
    if (outcome.httpStatus !== 429) return;
    try {
      await this.limiter.penalize(endpoint, outcome.retryAfterSeconds);
    } catch {
      // see above
    }
  }

  /** The slots this caller holds; carry them through a Step Functions Wait and pass them to `limiter.gate`. */
  reservations(): Reservation[] {
    return [...this.held];
  }
}

/**
 * acquire → call → classify, for one call outside the Qualtrics client. A thrown error with a
 * numeric `httpStatus` (QualtricsError, or any error shaped like it) is reported to the gate, so a
 * 429 pushes the shared buckets back; the error is rethrown. Denied → ThrottledError, DynamoDB
 * down → LimiterUnavailableError, and in both cases `call` is not made.
 */
export async function limitedCall<T>(
  gate: CallGate,
  endpoint: EndpointName,
  call: () => Promise<T>,
): Promise<T> {
  await gate.before(endpoint);
  let result: T;
  try {
    result = await call();
  } catch (e) {
    const status = (e as { httpStatus?: unknown } | null)?.httpStatus;
    if (typeof status === 'number') {
      const retryAfter = (e as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      await gate.after(endpoint, {
        httpStatus: status,
        ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    throw e;
  }
  await gate.after(endpoint, { httpStatus: 200 });
  return result;
}

/** Every bucket as a limiter with these settings runs it (for docs and benches). */
export function bucketTable(
  o: {
    targetUtilization?: number;
    periodMs?: number;
    burst?: RateLimiterOptions['burst'];
    reservationGraceMs?: number;
  } = {},
): Array<{
  bucket: string;
  endpoints: EndpointName[];
  limitPerPeriod: number;
  targetPerPeriod: number;
  emissionMs: number;
  burst: number;
  worstCasePerPeriod: number;
}> {
  const u = validUtilization(o.targetUtilization ?? DEFAULT_TARGET_UTILIZATION);
  const periodMs = o.periodMs ?? DEFAULT_PERIOD_MS;
  const graceMs = o.reservationGraceMs ?? periodMs / 30;
  const burstOf =
    typeof o.burst === 'function' ? o.burst : o.burst !== undefined ? () => o.burst as number : defaultBurst;
  return rateLimitBuckets().map((b) => {
    const plan = planBucket(b.bucket, b.limitPerMinute, periodMs, u, burstOf(b.limitPerMinute));
    return {
      bucket: b.bucket,
      endpoints: b.endpoints,
      limitPerPeriod: b.limitPerMinute,
      targetPerPeriod: b.limitPerMinute * u,
      emissionMs: plan.emissionMs,
      burst: plan.burst,
      worstCasePerPeriod: worstCasePerPeriod(plan, periodMs, graceMs),
    };
  });
}

function validUtilization(u: number): number {
  if (!Number.isFinite(u) || u <= 0 || u > 1) {
    throw new ConfigError(
      'QDSR_TARGET_UTILIZATION',
      'target utilization must be a number in (0, 1], e.g. 0.75',
    );
  }
  return u;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`rate limiter: ${name} must be positive`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`rate limiter: ${name} must not be negative`);
  return v;
}
