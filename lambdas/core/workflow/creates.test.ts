import { describe, expect, it, vi } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import { ErrorNames } from '../errors';
import type { ExportWriter } from '../export-writer';
import type { QualtricsJobKind, RequestStore } from '../request-store';
import { AmbiguousCreateError, type CreateOnceSpec, createOnce } from './creates';
import { fakeQualtrics, memoryDurations, qualtricsFailure, RESERVED, testEnv, throttled } from './testing';

/**
 * The create protocol both Qualtrics jobs share, over a real request store (dynalite): claim,
 * create, release when nothing was created, record. The one difference between the kinds is
 * `adopt`: an erasure an earlier attempt may have created is looked for, a customer-data job is not.
 */

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

const TYPE_OF: Record<QualtricsJobKind, 'access' | 'deletion'> = {
  customerData: 'access',
  erasure: 'deletion',
};

async function newRequest(kind: QualtricsJobKind) {
  const { record } = await store.create({
    source: 'api',
    type: TYPE_OF[kind],
    email: 'jane.doe@example.com',
  });
  await store.transition(record.requestId, 'RUNNING', 'STARTED');
  return (await store.get(record.requestId))!;
}

const claimOf = async (requestId: string, kind: QualtricsJobKind) => {
  const q = (await store.get(requestId))?.qualtrics;
  return kind === 'erasure' ? q?.erasureCreateClaimedAt : q?.customerDataCreateClaimedAt;
};

function spec(kind: QualtricsJobKind, create: CreateOnceSpec['create'], adopt?: CreateOnceSpec['adopt']) {
  return { kind, durations: kind, create, ...(adopt ? { adopt } : {}) } satisfies CreateOnceSpec;
}

describe('createOnce', () => {
  it.each(['customerData', 'erasure'] as const)(
    '%s: creates, records the id, and hints the first poll with the typical duration',
    async (kind) => {
      const record = await newRequest(kind);
      const { durations } = memoryDurations({ [kind]: 42 });
      const env = testEnv({ store, writer, api: fakeQualtrics(), durations });
      const create = vi.fn().mockResolvedValue('JOB-1');

      const outcome = await createOnce(env, record, spec(kind, create));

      expect(outcome).toEqual({
        outcome: 'created',
        id: 'JOB-1',
        createdAt: new Date(env.now()).toISOString(),
        typicalSeconds: 42,
      });
      const stored = await store.get(record.requestId);
      expect(
        kind === 'erasure' ? stored?.qualtrics.erasureRequestId : stored?.qualtrics.customerDataRequestId,
      ).toBe('JOB-1');
    },
  );

  it('reuses the id the record holds without asking Qualtrics (a re-run of the request)', async () => {
    const first = await newRequest('customerData');
    const env = testEnv({ store, writer, api: fakeQualtrics() });
    await createOnce(
      env,
      first,
      spec('customerData', async () => 'JOB-R'),
    );
    const heldBefore = env.heldSeen.length;
    const create = vi.fn();

    const rerun = await createOnce(env, (await store.get(first.requestId))!, spec('customerData', create));

    expect(rerun).toMatchObject({ outcome: 'exists', id: 'JOB-R', createdAt: expect.any(String) });
    expect(create).not.toHaveBeenCalled();
    expect(env.heldSeen).toHaveLength(heldBefore);
    const record = await store.get(first.requestId);
    expect(record?.status).toBe('WAITING_ON_QUALTRICS');
    expect(record?.timeline.at(-1)?.detail).toBe('customer-data job JOB-R reused');
  });

  it('takes the id a concurrent attempt recorded after this one read the record', async () => {
    const record = await newRequest('erasure');
    const claim = await store.claimQualtricsCreate(record.requestId, 'erasure');
    await store.recordQualtricsId(record.requestId, 'erasure', 'JOB-C');
    const env = testEnv({ store, writer, api: fakeQualtrics() });
    const create = vi.fn();
    const adopt = vi.fn();

    const outcome = await createOnce(env, record, spec('erasure', create, adopt));

    expect(outcome).toEqual({
      outcome: 'exists',
      id: 'JOB-C',
      createdAt: claim.claimed ? claim.claimedAt : undefined,
    });
    expect(create).not.toHaveBeenCalled();
    expect(adopt).not.toHaveBeenCalled();
  });

  it('gives the claim back and returns the limiter wait when the create is throttled', async () => {
    const record = await newRequest('customerData');
    const env = testEnv({ store, writer, api: fakeQualtrics() });

    const outcome = await createOnce(env, record, {
      ...spec('customerData', () => Promise.reject(throttled(1500))),
      reservations: RESERVED,
    });

    expect(outcome).toEqual({
      outcome: 'wait',
      wait: { waitUntil: new Date(env.now() + 2000).toISOString(), reservations: RESERVED },
    });
    expect(env.heldSeen.at(-1)).toEqual(RESERVED);
    expect(await claimOf(record.requestId, 'customerData')).toBeUndefined();
  });

  it('gives the claim back when Qualtrics certainly created nothing, keeps it when the outcome is unknown', async () => {
    const refused = await newRequest('customerData');
    const env = testEnv({ store, writer, api: fakeQualtrics() });
    await expect(
      createOnce(
        env,
        refused,
        spec('customerData', () => Promise.reject(qualtricsFailure(400))),
      ),
    ).rejects.toMatchObject({ name: ErrorNames.Validation });
    expect(await claimOf(refused.requestId, 'customerData')).toBeUndefined();

    const unknown = await newRequest('customerData');
    await expect(
      createOnce(
        env,
        unknown,
        spec('customerData', () => Promise.reject(qualtricsFailure(500))),
      ),
    ).rejects.toMatchObject({ name: ErrorNames.Transient });
    expect(await claimOf(unknown.requestId, 'customerData')).toEqual(expect.any(String));
  });

  describe('after an earlier attempt ended without a known outcome (a claim without an id)', () => {
    async function ambiguous(kind: QualtricsJobKind) {
      const record = await newRequest(kind);
      const env = testEnv({ store, writer, api: fakeQualtrics() });
      await expect(
        createOnce(
          env,
          record,
          spec(kind, () => Promise.reject(qualtricsFailure(504))),
        ),
      ).rejects.toThrow();
      const claimedAt = await claimOf(record.requestId, kind);
      expect(claimedAt).toEqual(expect.any(String));
      return { record, env, claimedAt: claimedAt as string };
    }

    it('without `adopt` (customer-data jobs) stops the request instead of creating a second job', async () => {
      const { record, env } = await ambiguous('customerData');
      const create = vi.fn();
      await expect(createOnce(env, record, spec('customerData', create))).rejects.toBeInstanceOf(
        AmbiguousCreateError,
      );
      expect(create).not.toHaveBeenCalled();
    });

    it('with `adopt` (erasures) records the job the earlier attempt created, dated by Qualtrics', async () => {
      const { record, env, claimedAt } = await ambiguous('erasure');
      const create = vi.fn();
      const adopt = vi.fn().mockResolvedValue({ id: 'JOB-OLD', createdAt: '2030-01-01T00:00:00.500Z' });

      const outcome = await createOnce(env, record, spec('erasure', create, adopt));

      expect(adopt).toHaveBeenCalledWith(expect.anything(), claimedAt);
      expect(create).not.toHaveBeenCalled();
      expect(outcome).toEqual({ outcome: 'created', id: 'JOB-OLD', createdAt: '2030-01-01T00:00:00.500Z' });
      expect((await store.get(record.requestId))?.qualtrics.erasureRequestId).toBe('JOB-OLD');
    });

    it('with `adopt` finding nothing, creates, and never releases the earlier attempt’s claim', async () => {
      const { record, env, claimedAt } = await ambiguous('erasure');
      const adopt = vi.fn().mockResolvedValue(undefined);

      await expect(
        createOnce(
          env,
          record,
          spec('erasure', () => Promise.reject(qualtricsFailure(400)), adopt),
        ),
      ).rejects.toMatchObject({ name: ErrorNames.Validation });
      expect(await claimOf(record.requestId, 'erasure')).toBe(claimedAt);

      const outcome = await createOnce(
        env,
        record,
        spec('erasure', async () => 'JOB-NEW', adopt),
      );
      expect(outcome).toMatchObject({ outcome: 'created', id: 'JOB-NEW' });
    });

    it('with `adopt` throttled, returns the limiter wait and keeps the claim', async () => {
      const { record, env, claimedAt } = await ambiguous('erasure');
      const create = vi.fn();
      const outcome = await createOnce(
        env,
        record,
        spec('erasure', create, () => Promise.reject(throttled(500))),
      );
      expect(outcome).toMatchObject({ outcome: 'wait', wait: { reservations: RESERVED } });
      expect(create).not.toHaveBeenCalled();
      expect(await claimOf(record.requestId, 'erasure')).toBe(claimedAt);
    });
  });
});
