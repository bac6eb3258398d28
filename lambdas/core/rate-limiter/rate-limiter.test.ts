import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createLimiterTable,
  localDynamoClient,
  startDynalite,
  type TestDynalite,
} from '../../../test/support/dynalite';
import { ConfigError, ErrorNames, QualtricsError, ThrottledError } from '../errors';
import type { EndpointName } from '../qualtrics/endpoints';
import {
  LimiterUnavailableError,
  limitedCall,
  RateLimiter,
  type RateLimiterOptions,
  type Reservation,
} from './index';

const TABLE = 'limiter-test';
const T0 = 1_800_000_000_000; // a fixed epoch ms for the fake clock

let db: TestDynalite;

beforeAll(async () => {
  db = await startDynalite();
  await createLimiterTable(db.client, TABLE);
});

afterAll(async () => {
  await db.close();
});

/** A limiter on a fresh tenant (so tests never share buckets) with a settable clock. */
function fakeClockLimiter(o: Partial<RateLimiterOptions> = {}) {
  const clock = { t: T0 };
  const limiter = new RateLimiter({
    doc: db.doc,
    tableName: TABLE,
    tenant: o.tenant ?? `iad1#${randomUUID()}`,
    targetUtilization: 0.75,
    now: () => clock.t,
    ...o,
  });
  return { limiter, clock };
}

describe('one worker (fake clock)', () => {
  // createErasureRequest: 20/min × 0.75 → T = 4000 ms.
  it('admits calls exactly one emission interval apart, and denies closer ones with the exact wait (policer)', async () => {
    const { limiter, clock } = fakeClockLimiter({ burst: 1, maxReservationMs: 0 });
    for (let i = 0; i < 5; i++) {
      clock.t = T0 + i * 4000;
      expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true, at: clock.t });
    }
    clock.t = T0 + 4 * 4000 + 2500;
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({
      admitted: false,
      waitMs: 1500,
      bucket: 'createErasureRequest',
    });
    clock.t += 1499; // 1 ms early
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: false, waitMs: 1 });
    clock.t += 1; // exactly after the first wait
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true });
    expect(limiter.stats()).toMatchObject({ admitted: 6, denied: 2 });
  });

  it('returns an exact wait: with the reservation, 1 ms early is denied and on time is admitted without a write', async () => {
    const { limiter, clock } = fakeClockLimiter({ burst: 1 });
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true });
    clock.t = T0 + 1000;
    const denied = await limiter.acquire('createErasureRequest');
    if (denied.admitted) throw new Error('expected a denial');
    expect(denied).toMatchObject({ waitMs: 3000, retryAt: T0 + 4000, bucket: 'createErasureRequest' });
    expect(denied.reservations).toEqual([{ key: limiter.keyOf('createErasureRequest'), slotAt: T0 + 4000 }]);

    const writesBefore = limiter.stats().writes;
    clock.t = T0 + 1000 + denied.waitMs - 1;
    expect(await limiter.acquire('createErasureRequest', denied.reservations)).toMatchObject({
      admitted: false,
      waitMs: 1,
      reservations: denied.reservations,
    });
    expect(limiter.stats().writes).toBe(writesBefore); // waiting out a reservation costs nothing

    clock.t = T0 + 1000 + denied.waitMs;
    const admitted = await limiter.acquire('createErasureRequest', denied.reservations);
    expect(admitted).toMatchObject({ admitted: true, reservations: [] });
    // Only the brand bucket was written: the endpoint slot was paid when it was reserved.
    expect(limiter.stats().writes).toBe(writesBefore + 1);

    // The slot is taken: another caller at the same instant gets the next one.
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: false, waitMs: 4000 });
  });

  it('costs one write per bucket per call when callers of one process start together', async () => {
    const { limiter } = fakeClockLimiter({ burst: 1 });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => limiter.acquire('listErasureRequests')),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(1);
    // The other seven hold consecutive slots, one emission interval apart.
    const waits = results.flatMap((r) => (r.admitted ? [] : [r.waitMs])).sort((a, b) => a - b);
    expect(waits).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => k * 4000));
    // 1 idle write + 7 busy writes on the endpoint bucket, 1 on the brand bucket, no failed write.
    expect(limiter.stats()).toEqual({ writes: 9, reads: 0, admitted: 1, denied: 7 });
  });

  it('reserves as far ahead as each bucket allows, and spreads those turned away over that horizon', async () => {
    // The endpoint bucket may book an hour ahead; getErasureRequest only one period (60 s = 15 slots).
    const options: Partial<RateLimiterOptions> = {
      burst: 1,
      maxReservationMs: (bucket) => (bucket === 'getErasureRequest' ? 60_000 : 3_600_000),
      random: () => 0.5,
    };
    // A fresh limiter (tenant) per endpoint, so the two never meet in the brand bucket.
    const waits = async (endpoint: EndpointName) => {
      const { limiter } = fakeClockLimiter(options);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await limiter.acquire(endpoint);
        out.push(r.admitted ? 0 : r.waitMs);
      }
      return out;
    };
    // 20 creates: one admitted, 19 each holding its own slot, 4 s apart.
    expect(await waits('createErasureRequest')).toEqual(Array.from({ length: 20 }, (_, k) => k * 4000));
    expect(fakeClockLimiter(options).limiter.maxReservationMs('brand')).toBe(3_600_000);
    // 20 polls: 16 slots within the minute; the rest are told to come back once the bucket is in
    // reach again (at 4 s), plus half the horizon (random 0.5): not all at the same instant.
    const polls = await waits('getErasureRequest');
    expect(polls.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, k) => k * 4000));
    expect(polls.slice(16)).toEqual([34_000, 34_000, 34_000, 34_000]);
  });

  it('starts a job only while the bucket its status is polled through is booked at most maxStatusBacklogMs ahead', async () => {
    const { limiter, clock } = fakeClockLimiter({ burst: 1, maxStatusBacklogMs: 5000 });
    // Idle status bucket: the create goes out, and the status bucket is only read, not moved.
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true });
    expect(limiter.stats()).toMatchObject({ reads: 1 });
    // Five polls take the slots at T0 + 0, 4, 8, 12 and 16 s: a new poll would go out at T0 + 20 s.
    for (let i = 0; i < 5; i++) await limiter.acquire('getErasureRequest');
    clock.t = T0 + 4000; // the create bucket is free again
    const denied = await limiter.acquire('createErasureRequest');
    // Polls queue 16 s ahead, 11 s more than allowed: come back when only 5 s are left.
    expect(denied).toMatchObject({ admitted: false, bucket: 'getErasureRequest', waitMs: 11_000 });
    expect(denied.admitted ? 0 : denied.retryAt).toBe(T0 + 15_000);
    // The denial took no create slot: at that instant the create is admitted at once.
    clock.t = T0 + 15_000;
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true, at: T0 + 15_000 });
    // Calls that start no job never look at a status bucket.
    const before = limiter.stats().reads;
    await limiter.acquire('searchDirectoryContacts');
    expect(limiter.stats().reads).toBe(before);
  });

  it('fails closed on the status check too: no table, no create', async () => {
    const { limiter } = fakeClockLimiter({ tableName: 'no-such-table' });
    const call = vi.fn(async () => 'reached Qualtrics');
    await expect(limitedCall(limiter.gate(), 'createCustomerDataRequest', call)).rejects.toBeInstanceOf(
      LimiterUnavailableError,
    );
    expect(call).not.toHaveBeenCalled();
  });

  it('admits `burst` calls back to back from an idle bucket', async () => {
    const { limiter } = fakeClockLimiter({ burst: 3, maxReservationMs: 0 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.acquire('createErasureRequest'));
    expect(results.map((r) => r.admitted)).toEqual([true, true, true, false]);
    expect(results[3]).toMatchObject({ waitMs: 4000 });
  });

  it('lets an unused reservation lapse after the grace period, and then takes a new slot', async () => {
    const { limiter, clock } = fakeClockLimiter({ burst: 1, reservationGraceMs: 500 });
    await limiter.acquire('createErasureRequest');
    const denied = await limiter.acquire('createErasureRequest');
    if (denied.admitted) throw new Error('expected a denial');
    expect(denied.waitMs).toBe(4000);
    clock.t = T0 + 4000 + 501; // too late for the slot at T0 + 4000
    expect(await limiter.acquire('createErasureRequest', denied.reservations)).toMatchObject({
      admitted: false,
      waitMs: 4000 - 501,
    });
  });

  it('admits endpoints without a bucket (the token endpoint) without touching DynamoDB', async () => {
    const { limiter } = fakeClockLimiter();
    expect(await limiter.acquire('token')).toMatchObject({ admitted: true });
    expect(limiter.stats()).toMatchObject({ writes: 0, reads: 0 });
  });
});

describe('late DynamoDB answers (fake clock: every answer arrives 10 s after its request)', () => {
  it('judges each slot against the time its call is sent: calls granted one interval apart leave one interval apart', async () => {
    const clock = { t: T0 };
    const lateMs = 10_000;
    // The doc answers as the real one does, but the clock has moved on by lateMs when it does.
    const late = {
      send: async (command: unknown) => {
        const sentAt = clock.t;
        try {
          return await (db.doc.send as (c: unknown) => Promise<unknown>)(command);
        } finally {
          clock.t = Math.max(clock.t, sentAt + lateMs);
        }
      },
    } as unknown as DynamoDBDocumentClient;
    const limiter = new RateLimiter({
      doc: late,
      tableName: TABLE,
      tenant: `iad1#${randomUUID()}`,
      targetUtilization: 0.75,
      burst: 1,
      now: () => clock.t,
    });
    // createErasureRequest: T = 4000 ms, burst 1. Five callers at once, as five Lambdas would be.
    const results = await Promise.all(
      Array.from({ length: 5 }, () => limiter.acquire('createErasureRequest')),
    );
    // When each call leaves: now if admitted, else at the instant it was told to come back (its slot).
    const leaves = results.map((r) => (r.admitted ? r.at : r.retryAt)).sort((a, b) => a - b);
    const gaps = leaves.slice(1).map((t, i) => t - (leaves[i] as number));
    expect(results.filter((r) => r.admitted).length).toBeGreaterThanOrEqual(1);
    for (const gap of gaps)
      expect(gap, `leaves at ${leaves.map((t) => t - T0)}`).toBeGreaterThanOrEqual(4000);
  });
});

describe('two buckets and two tenants', () => {
  it('denies an endpoint with room when the brand bucket is exhausted', async () => {
    // Brand: 3000/min × 0.75 → T = 27 ms; with burst 1 one call empties it for 27 ms.
    const { limiter, clock } = fakeClockLimiter({ burst: 1 });
    expect(await limiter.acquire('whoami')).toMatchObject({ admitted: true });
    const denied = await limiter.acquire('listDirectories'); // its own bucket is untouched
    if (denied.admitted) throw new Error('expected a denial');
    expect(denied).toMatchObject({ bucket: 'brand', waitMs: 27 });
    // The listDirectories slot taken now is held, with the brand slot, through the wait.
    expect(denied.reservations.map((r) => r.key).sort()).toEqual(
      [limiter.keyOf('brand'), limiter.keyOf('listDirectories')].sort(),
    );
    clock.t += 27;
    const writes = limiter.stats().writes;
    expect(await limiter.acquire('listDirectories', denied.reservations)).toMatchObject({ admitted: true });
    expect(limiter.stats().writes).toBe(writes);
  });

  it("names the bucket that denied: the endpoint's own, or the brand", async () => {
    const { limiter } = fakeClockLimiter({ burst: 1, maxReservationMs: 0 });
    expect(await limiter.acquire('getErasureRequest')).toMatchObject({ admitted: true });
    expect(await limiter.acquire('getErasureRequest')).toMatchObject({
      admitted: false,
      bucket: 'getErasureRequest',
    });
    expect(await limiter.acquire('createErasureRequest')).toMatchObject({ admitted: false, bucket: 'brand' });
  });

  it('keeps tenants apart: one tenant exhausting a bucket does not slow another', async () => {
    const a = fakeClockLimiter({ burst: 1, maxReservationMs: 0 });
    const b = fakeClockLimiter({ burst: 1, maxReservationMs: 0 });
    expect(await a.limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true });
    expect(await a.limiter.acquire('createErasureRequest')).toMatchObject({ admitted: false });
    expect(await b.limiter.acquire('createErasureRequest')).toMatchObject({ admitted: true });
    expect(a.limiter.keyOf('brand')).not.toBe(b.limiter.keyOf('brand'));
  });
});

describe('429 feedback', () => {
  it('pushes the endpoint and brand buckets forward for every worker of the tenant', async () => {
    const tenant = `iad1#${randomUUID()}`;
    const worker1 = fakeClockLimiter({ tenant, burst: 1 });
    const worker2 = fakeClockLimiter({ tenant, burst: 1 });
    await worker1.limiter.penalize('searchDirectoryContacts', 5);
    // Another worker (its own limiter instance, as another Lambda) is pushed back by the same 5 s.
    expect(await worker2.limiter.acquire('searchDirectoryContacts')).toMatchObject({
      admitted: false,
      waitMs: 5000,
      bucket: 'searchDirectoryContacts',
    });
    // The brand bucket too: an endpoint sharing only the brand bucket waits as well.
    expect(await worker2.limiter.acquire('whoami')).toMatchObject({ admitted: false, bucket: 'brand' });
  });

  it('uses a tenth of the period without Retry-After, and never pulls a bucket back', async () => {
    const tenant = `iad1#${randomUUID()}`;
    const w1 = fakeClockLimiter({ tenant, burst: 1, maxReservationMs: 0 });
    const w2 = fakeClockLimiter({ tenant, burst: 1, maxReservationMs: 0 });
    await w1.limiter.penalize('getDirectoryContact', 30);
    await w1.limiter.penalize('getDirectoryContact'); // 6 s < 30 s: no effect
    expect(await w2.limiter.acquire('getDirectoryContact')).toMatchObject({
      admitted: false,
      waitMs: 30_000,
    });

    const w3 = fakeClockLimiter({ burst: 1, maxReservationMs: 0 });
    await w3.limiter.penalize('getDirectoryContact');
    expect(await w3.limiter.acquire('getDirectoryContact')).toMatchObject({ admitted: false, waitMs: 6000 });
  });

  it('is triggered by a 429 reported through the gate', async () => {
    const tenant = `iad1#${randomUUID()}`;
    const w1 = fakeClockLimiter({ tenant, burst: 1 });
    const w2 = fakeClockLimiter({ tenant, burst: 1 });
    const rateLimited = new QualtricsError(ErrorNames.RateLimited, 'Qualtrics answered 429', {
      httpStatus: 429,
      endpoint: 'whoami',
      retryAfterSeconds: 3,
    });
    await expect(
      limitedCall(w1.limiter.gate(), 'whoami', async () => {
        throw rateLimited;
      }),
    ).rejects.toBe(rateLimited);
    expect(await w2.limiter.acquire('whoami')).toMatchObject({ admitted: false, waitMs: 3000 });
  });
});

describe('gate and limitedCall', () => {
  it('makes the call when admitted, and throws ThrottledError without calling when denied', async () => {
    const { limiter } = fakeClockLimiter({ burst: 1 });
    const gate = limiter.gate();
    const call = vi.fn(async () => 'ok');
    expect(await limitedCall(gate, 'createErasureRequest', call)).toBe('ok');
    const denial = limitedCall(gate, 'createErasureRequest', call);
    await expect(denial).rejects.toBeInstanceOf(ThrottledError);
    await expect(denial).rejects.toMatchObject({
      name: ErrorNames.Throttled,
      waitMs: 4000,
      waitSeconds: 4,
      bucket: 'createErasureRequest',
      retryable: true,
    });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('carries reservations across a Step Functions Wait (a new gate from the serialized reservations)', async () => {
    const { limiter, clock } = fakeClockLimiter({ burst: 1 });
    const first = limiter.gate();
    await first.before('createErasureRequest');
    await expect(first.before('createErasureRequest')).rejects.toBeInstanceOf(ThrottledError);
    const state = JSON.parse(JSON.stringify({ limiterReservations: first.reservations() })) as {
      limiterReservations: Reservation[];
    };
    clock.t += 4000;
    const next = limiter.gate({ reservations: state.limiterReservations });
    await expect(next.before('createErasureRequest')).resolves.toBeUndefined();
    expect(next.reservations()).toEqual([]);
  });
});

describe('DynamoDB unavailable: fail closed', () => {
  it('throws a retryable LimiterUnavailable and never makes the guarded call when DynamoDB is down', async () => {
    const down = await startDynalite();
    await createLimiterTable(down.client, TABLE);
    const endpoint = down.endpoint;
    await down.close();
    const client = localDynamoClient(endpoint, 1);
    const limiter = new RateLimiter({
      doc: DynamoDBDocumentClient.from(client),
      tableName: TABLE,
      tenant: 'iad1#down',
      targetUtilization: 0.75,
    });
    const call = vi.fn(async () => 'reached Qualtrics');
    const attempt = limitedCall(limiter.gate(), 'searchDirectoryContacts', call);
    await expect(attempt).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(attempt).rejects.toMatchObject({ name: ErrorNames.LimiterUnavailable, retryable: true });
    expect(call).not.toHaveBeenCalled();
    // The token endpoint has no bucket: it never needs DynamoDB.
    await expect(limiter.acquire('token')).resolves.toMatchObject({ admitted: true });
    // 429 feedback fails too, but through the gate it must not hide the 429 the caller reports.
    await expect(limiter.penalize('whoami')).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(limiter.gate().after('whoami', { httpStatus: 429 })).resolves.toBeUndefined();
    client.destroy();
  });

  it('reports a missing table as LimiterUnavailable, naming the AWS error only', async () => {
    const { limiter } = fakeClockLimiter({ tableName: 'no-such-table' });
    const call = vi.fn(async () => 'reached Qualtrics');
    const attempt = limitedCall(limiter.gate(), 'whoami', call);
    await expect(attempt).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(attempt).rejects.toThrow(/ResourceNotFoundException/);
    expect(call).not.toHaveBeenCalled();
  });
});

describe('target utilization', () => {
  it('rejects values outside (0, 1] with a ConfigError naming QDSR_TARGET_UTILIZATION', () => {
    for (const u of [0, -0.5, 1.01, 2, Number.NaN]) {
      expect(() => fakeClockLimiter({ targetUtilization: u })).toThrow(ConfigError);
    }
    try {
      fakeClockLimiter({ targetUtilization: 0 });
    } catch (e) {
      expect((e as ConfigError).setting).toBe('QDSR_TARGET_UTILIZATION');
    }
    expect(() => fakeClockLimiter({ targetUtilization: 1 })).not.toThrow();
  });

  it('reads QDSR_TARGET_UTILIZATION by default and scales the rate with it', () => {
    const env = { QDSR_TARGET_UTILIZATION: '0.5', QDSR_LIMITER_TABLE: TABLE };
    const limiter = RateLimiter.fromEnv({ doc: db.doc, tenant: 'iad1#env', env });
    expect(limiter.targetUtilization).toBe(0.5);
    expect(limiter.plan('createErasureRequest', 20).emissionMs).toBe(6000);
    expect(() =>
      RateLimiter.fromEnv({ doc: db.doc, tenant: 'iad1#env', env: { QDSR_TARGET_UTILIZATION: '1.5' } }),
    ).toThrow(ConfigError);
  });
});

describe('concurrent workers (real clock, compressed period)', () => {
  it('8 workers never exceed rate × window + burst (+ grace) in any window, and use ≥ 95 % of the rate', async () => {
    // createErasureRequest: 20 per 750 ms × 0.75 → T = 50 ms; burst 2; default grace 25 ms.
    // (A modest rate, so a loaded CI machine still runs every worker on time.)
    const periodMs = 750;
    const endpoint: EndpointName = 'createErasureRequest';
    const tenant = `iad1#${randomUUID()}`;
    const workers = Array.from(
      { length: 8 },
      () =>
        new RateLimiter({
          doc: db.doc,
          tableName: TABLE,
          tenant,
          targetUtilization: 0.75,
          periodMs,
          burst: 2,
        }),
    );
    const plan = workers[0]!.plan('createErasureRequest', 20);
    const wanted = 60; // admissions in total: the run ends on a count, not on a clock
    const admittedAt: number[] = [];
    await Promise.all(
      workers.map(async (limiter) => {
        let held: Reservation[] = [];
        // A worker holding a reservation uses it before it stops (as a waiting workflow would).
        while (admittedAt.length < wanted || held.length > 0) {
          const r = await limiter.acquire(endpoint, held);
          held = r.reservations;
          if (r.admitted) admittedAt.push(r.at);
          else await new Promise((resolve) => setTimeout(resolve, r.waitMs));
        }
      }),
    );
    admittedAt.sort((x, y) => x - y);
    const n = admittedAt.length;

    // Never more than the GCRA bound in any window of one period.
    const bound = Math.floor((periodMs + workers[0]!.reservationGraceMs) / plan.emissionMs) + plan.burst;
    let most = 0;
    for (let i = 0, j = 0; i < n; i++) {
      while (j < n && admittedAt[j]! <= admittedAt[i]! + periodMs) j++;
      most = Math.max(most, j - i);
    }
    expect(most).toBeLessThanOrEqual(bound);
    // Between consecutive admissions on average at least T (minus the initial burst).
    const span = admittedAt[n - 1]! - admittedAt[0]!;
    expect(n - 1 - plan.burst).toBeLessThanOrEqual(span / plan.emissionMs + 1);

    // ≥ 95 % of the target rate (T = 50 ms ⇒ 20/s) over the run, from the recorded admissions.
    const achieved = (n - 1) / span;
    expect(achieved * plan.emissionMs).toBeGreaterThanOrEqual(0.95);

    // Cost: about one write per bucket per admitted call (reservations end the race for slots).
    const writes = workers.reduce((s, w) => s + w.stats().writes, 0);
    const admitted = workers.reduce((s, w) => s + w.stats().admitted, 0);
    expect(admitted).toBe(n);
    expect(writes / admitted).toBeLessThanOrEqual(2.5);
  });
});
