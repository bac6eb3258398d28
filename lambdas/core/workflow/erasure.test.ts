import { describe, expect, it, vi } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import { ErrorNames } from '../errors';
import type { ErasureEvidence } from '../evidence';
import type { ExportWriter } from '../export-writer';
import { emailSha256 } from '../privacy';
import type { ErasureRequest } from '../qualtrics/types';
import type { RequestStore } from '../request-store';
import { AmbiguousCreateError } from './creates';
import { createErasure, getErasure, LIST_CHECK_AFTER_SECONDS, listCheckDue } from './erasure';
import type { StartedErasureState } from './inputs';
import { fakeQualtrics, memoryDurations, qualtricsFailure, RESERVED, testEnv, throttled } from './testing';

const EMAIL = 'jane.doe@example.com';

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

async function newRequest(dryRun = false): Promise<string> {
  const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL, dryRun });
  await store.transition(record.requestId, 'RUNNING', 'STARTED');
  return record.requestId;
}

const listed = (e: Partial<ErasureRequest> & { erasureRequestId: string }): ErasureRequest => ({
  status: 'inProgress',
  ...e,
});

describe('createErasure', () => {
  it('creates the erasure once for the subject, with searchOnly for a dry run', async () => {
    const requestId = await newRequest(true);
    const create = vi.fn().mockResolvedValue({ erasureRequestId: 'OP-1' });
    const env = testEnv({ store, writer, api: fakeQualtrics({ createErasureRequest: create }) });

    const erasure = await createErasure(env, { requestId, erasure: { started: false } });
    expect(create).toHaveBeenCalledWith([EMAIL], true);
    expect(erasure).toEqual({
      started: true,
      erasureRequestId: 'OP-1',
      dryRun: true,
      status: 'inProgress',
      createdAt: new Date(env.now()).toISOString(),
      polls: 0,
      // The first poll: the shortest interval for an erasure (a fifth of its 20-a-minute endpoint).
      waitUntil: new Date(env.now() + 15_000).toISOString(),
    });
    const record = await store.get(requestId);
    expect(record?.status).toBe('WAITING_ON_QUALTRICS');
    expect(record?.evidence).toMatchObject({
      erasureRequestId: 'OP-1',
      searchOnly: true,
      statuses: [{ status: 'submitted' }],
    });

    await createErasure(env, { requestId, erasure: { started: false } });
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('is done once submitted when QDSR_DELETION_DONE=submitted', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      deletionDone: 'submitted',
      api: fakeQualtrics({ createErasureRequest: vi.fn().mockResolvedValue({ erasureRequestId: 'OP-2' }) }),
    });
    const erasure = await createErasure(env, { requestId, erasure: { started: false } });
    expect(erasure).toMatchObject({ started: true, status: 'submitted' });
    expect('waitUntil' in erasure).toBe(false);
  });

  it('adopts the erasure an earlier attempt created (found in the list) instead of creating another', async () => {
    const requestId = await newRequest();
    const create = vi.fn().mockRejectedValueOnce(qualtricsFailure(504, 'createErasureRequest'));
    const since = new Date(Date.now() - 1000).toISOString();
    const list = vi.fn().mockResolvedValue([
      listed({
        erasureRequestId: 'OP-OLD',
        emailList: [EMAIL],
        created: '2020-01-01T00:00:00Z',
        searchOnly: false,
      }),
      listed({
        erasureRequestId: 'OP-OTHER',
        emailList: ['x@example.org'],
        created: since,
        searchOnly: false,
      }),
      listed({
        erasureRequestId: 'OP-MINE',
        emailList: [EMAIL.toUpperCase()],
        created: since,
        searchOnly: false,
      }),
    ]);
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ createErasureRequest: create, listErasureRequests: list }),
    });

    await expect(createErasure(env, { requestId, erasure: { started: false } })).rejects.toMatchObject({
      name: ErrorNames.Transient,
    });
    const erasure = await createErasure(env, { requestId, erasure: { started: false } });
    expect(erasure).toMatchObject({ started: true, erasureRequestId: 'OP-MINE' });
    expect(create).toHaveBeenCalledTimes(1);
    expect((await store.get(requestId))?.qualtrics.erasureRequestId).toBe('OP-MINE');
  });

  it('creates after an unknown outcome when the list shows no erasure of ours, and refuses to guess between two', async () => {
    const requestId = await newRequest();
    const create = vi
      .fn()
      .mockRejectedValueOnce(qualtricsFailure(500, 'createErasureRequest'))
      .mockResolvedValue({ erasureRequestId: 'OP-NEW' });
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        createErasureRequest: create,
        listErasureRequests: vi.fn().mockResolvedValue([]),
      }),
    });
    await expect(createErasure(env, { requestId, erasure: { started: false } })).rejects.toThrow();
    await expect(createErasure(env, { requestId, erasure: { started: false } })).resolves.toMatchObject({
      erasureRequestId: 'OP-NEW',
    });

    const other = await newRequest();
    const now = new Date().toISOString();
    const two = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        createErasureRequest: vi.fn().mockRejectedValue(qualtricsFailure(502, 'createErasureRequest')),
        // Without emailList, two single-email erasures since the claim cannot be told apart.
        listErasureRequests: vi
          .fn()
          .mockResolvedValue([
            listed({ erasureRequestId: 'OP-A', numEmailsRequested: 1, created: now }),
            listed({ erasureRequestId: 'OP-B', numEmailsRequested: 1, created: now }),
          ]),
      }),
    });
    await expect(createErasure(two, { requestId: other, erasure: { started: false } })).rejects.toThrow();
    await expect(
      createErasure(two, { requestId: other, erasure: { started: false } }),
    ).rejects.toBeInstanceOf(AmbiguousCreateError);
  });

  it('returns the limiter wait with its reservations when throttled', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ createErasureRequest: vi.fn().mockRejectedValue(throttled(3000)) }),
    });
    await expect(createErasure(env, { requestId, erasure: { started: false } })).resolves.toEqual({
      started: false,
      waitUntil: new Date(env.now() + 3000).toISOString(),
      reservations: RESERVED,
    });
  });
});

function started(overrides: Partial<StartedErasureState> = {}): StartedErasureState {
  return {
    started: true,
    erasureRequestId: 'OP-P',
    dryRun: false,
    status: 'inProgress',
    createdAt: '2030-01-01T00:00:00.000Z',
    polls: 0,
    ...overrides,
  };
}

/** The test clock's start (testEnv) and an erasure created 20 minutes before it. */
const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const TWENTY_MINUTES_AGO = new Date(NOW - 20 * 60_000).toISOString();

describe('listCheckDue', () => {
  const at = (minutes: number) => NOW + minutes * 60_000;
  const erasure = { createdAt: new Date(NOW).toISOString() };
  it('trusts a 404 while the erasure is young, then asks the list each time its age doubles', () => {
    expect(LIST_CHECK_AFTER_SECONDS).toBe(600);
    expect(listCheckDue(at(0), erasure, 1)).toBe(false);
    expect(listCheckDue(at(9.9), erasure, 1)).toBe(false);
    expect(listCheckDue(at(10), erasure, 1)).toBe(true);
    const listed = { ...erasure, listedAt: new Date(at(12)).toISOString() };
    expect(listCheckDue(at(23.9), listed, 1)).toBe(false);
    expect(listCheckDue(at(24), listed, 1)).toBe(true);
  });

  it('measures the age in scaled time', () => {
    // At scale 0.01 ten minutes last 6 real seconds.
    expect(listCheckDue(NOW + 5_999, erasure, 0.01)).toBe(false);
    expect(listCheckDue(NOW + 6_000, erasure, 0.01)).toBe(true);
  });
});

describe('getErasure', () => {
  it('takes "not found" for a young erasure as still running, without reading the erasure list', async () => {
    const requestId = await newRequest();
    const list = vi.fn();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getErasureRequest: vi
          .fn()
          .mockResolvedValue({ erasureRequestId: 'OP-P', status: 'inProgress', found: false }),
        listErasureRequestsPage: list,
      }),
    });
    const erasure = await getErasure(env, { requestId, erasure: started({ polls: 1 }) });
    expect(erasure).toEqual({ ...started({ polls: 2 }), waitUntil: new Date(NOW + 15_000).toISOString() });
    expect(list).not.toHaveBeenCalled();
    expect((await store.get(requestId))?.evidence).toBeUndefined();
  });

  it('treats "not found" for an older erasure as still running only while the list shows it', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getErasureRequest: vi
          .fn()
          .mockResolvedValue({ erasureRequestId: 'OP-P', status: 'inProgress', found: false }),
        listErasureRequestsPage: vi
          .fn()
          .mockResolvedValueOnce({
            elements: [listed({ erasureRequestId: 'OP-X' })],
            next: { skipToken: '2' },
          })
          .mockResolvedValueOnce({ elements: [listed({ erasureRequestId: 'OP-P', rawStatus: 'Pending' })] }),
      }),
    });
    const erasure = await getErasure(env, {
      requestId,
      erasure: started({ polls: 1, createdAt: TWENTY_MINUTES_AGO }),
    });
    // 20 minutes old: the next poll in 10 % of that.
    expect(erasure).toEqual({
      ...started({ polls: 2, qualtricsStatus: 'Pending', createdAt: TWENTY_MINUTES_AGO }),
      listedAt: new Date(NOW).toISOString(),
      waitUntil: new Date(NOW + 120_000).toISOString(),
    });
    const evidence = (await store.get(requestId))?.evidence as unknown as ErasureEvidence;
    expect(evidence.statuses.map((s) => s.status)).toEqual(['Pending']);
  });

  it('fails with a reason when Qualtrics knows the erasure neither by id nor in its list', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getErasureRequest: vi
          .fn()
          .mockResolvedValue({ erasureRequestId: 'OP-P', status: 'inProgress', found: false }),
        listErasureRequestsPage: vi.fn().mockResolvedValue({ elements: [] }),
      }),
    });
    // Listed at 10 minutes of age, gone from the list at 20.
    const listedAt = new Date(NOW - 10 * 60_000).toISOString();
    const erasure = await getErasure(env, {
      requestId,
      erasure: started({ createdAt: TWENTY_MINUTES_AGO, listedAt }),
    });
    expect(erasure.status).toBe('failed');
    const record = await store.get(requestId);
    expect(record?.timeline.find((t) => t.step === 'ERASURE_FAILED')?.detail).toBe(
      'Qualtrics does not know erasure OP-P',
    );
  });

  it('completes with the statuses and emailsNotFound (masked and hashed) in the evidence, not in the state', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getErasureRequest: vi.fn().mockResolvedValue({
          erasureRequestId: 'OP-P',
          status: 'complete',
          rawStatus: 'Completed',
          emailsNotFound: [EMAIL.toUpperCase()],
          numEmailsRequested: 1,
          found: true,
        }),
      }),
    });
    const erasure = await getErasure(env, { requestId, erasure: started() });
    expect(erasure).toEqual(started({ polls: 1, status: 'complete', qualtricsStatus: 'Completed' }));
    expect(JSON.stringify(erasure)).not.toContain(EMAIL);
    const record = await store.get(requestId);
    expect(record?.evidence).toMatchObject({
      emailsNotFound: [{ maskedEmail: 'j***@example.com', emailSha256: emailSha256(EMAIL) }],
      statuses: [{ status: 'Completed' }],
    });
    expect(JSON.stringify(record?.evidence).toLowerCase()).not.toContain(EMAIL);
    expect(record?.qualtrics.erasureStatus).toBe('Completed');
  });

  it("learns how long this tenant's erasures take from Qualtrics' stamps, and polls the next one first after that", async () => {
    const requestId = await newRequest();
    const { durations, lessons } = memoryDurations();
    const env = testEnv({
      store,
      writer,
      durations,
      api: fakeQualtrics({
        getErasureRequest: vi.fn().mockResolvedValue({
          erasureRequestId: 'OP-P',
          status: 'complete',
          rawStatus: 'Completed',
          created: '2030-01-01T00:00:00Z',
          updated: '2030-01-01T00:00:30Z',
          found: true,
        }),
        createErasureRequest: vi.fn().mockResolvedValue({ erasureRequestId: 'OP-N' }),
      }),
    });
    await getErasure(env, { requestId, erasure: started() });
    expect(lessons).toEqual([{ kind: 'erasure', seconds: 30 }]);
    // A dry run only searches: its duration is learned apart, and says nothing of real erasures.
    await getErasure(env, { requestId: await newRequest(true), erasure: started({ dryRun: true }) });
    expect(lessons.at(-1)).toEqual({ kind: 'erasureSearchOnly', seconds: 30 });
    const next = await createErasure(env, { requestId: await newRequest(), erasure: { started: false } });
    expect(next).toMatchObject({ started: true, waitUntil: new Date(env.now() + 31_000).toISOString() });
  });

  it('learns from a "not yet" that erasures take at least that long, and holds back first polls due before it without asking Qualtrics', async () => {
    const { durations, lessons } = memoryDurations();
    const get = vi.fn().mockResolvedValue({ erasureRequestId: 'OP-P', status: 'inProgress', found: false });
    const env = testEnv({ store, writer, durations, api: fakeQualtrics({ getErasureRequest: get }) });
    env.tick(15_000);
    // The tenant's first erasure, not done at 15 s: its next poll stays on the growing schedule.
    const first = await getErasure(env, { requestId: await newRequest(), erasure: started() });
    expect(first).toMatchObject({ polls: 1, waitUntil: new Date(NOW + 30_000).toISOString() });
    expect(lessons).toEqual([{ kind: 'erasure', seconds: 15, atLeast: true }]);
    expect(get).toHaveBeenCalledTimes(1);

    // One created 5 s later was scheduled (before that lesson) for its age 15 s: it waits for
    // age 16 s instead, with no call, no poll counted, no lesson.
    env.tick(5_000);
    const later = started({ createdAt: new Date(NOW + 5_000).toISOString() });
    const held = await getErasure(env, { requestId: await newRequest(), erasure: later });
    expect(held).toEqual({ ...later, waitUntil: new Date(NOW + 21_000).toISOString() });
    expect(get).toHaveBeenCalledTimes(1);
    // Not when the poll holds a slot the limiter reserved for it: that slot would be lost.
    const reserved = await getErasure(env, {
      requestId: await newRequest(),
      erasure: { ...later, reservations: RESERVED },
    });
    expect(reserved).toMatchObject({ polls: 1 });
    expect(get).toHaveBeenCalledTimes(2);
    // That one was still running at 15 s too: no lower lesson. A later "not yet" raises it.
    expect(lessons).toHaveLength(1);
    env.tick(10_000);
    await getErasure(env, { requestId: await newRequest(), erasure: started({ polls: 1 }) });
    expect(lessons.at(-1)).toEqual({ kind: 'erasure', seconds: 30, atLeast: true });
    // A measured duration replaces it, and no "not yet" overrides a measured one.
    await durations.learn('erasure', 31);
    await getErasure(env, { requestId: await newRequest(), erasure: started({ polls: 2 }) });
    expect(lessons.at(-1)).toEqual({ kind: 'erasure', seconds: 31 });
  });

  it('waits for the limiter, keeping the poll count', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ getErasureRequest: vi.fn().mockRejectedValue(throttled(10)) }),
    });
    const erasure = await getErasure(env, { requestId, erasure: started({ polls: 3 }) });
    expect(erasure).toMatchObject({ polls: 3, status: 'inProgress', reservations: RESERVED });
  });
});
