import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import { DsrError, ErrorNames, QualtricsError } from '../errors';
import type { ExportWriter } from '../export-writer';
import type { RequestStore } from '../request-store';
import { customerDataFileKey } from '../tables';
import { AmbiguousCreateError, definitelyNotCreated } from './creates';
import {
  downloadCustomerDataFiles,
  extensionFor,
  getCustomerDataJob,
  startCustomerDataJob,
} from './customer-data';
import type { StartedJobState } from './inputs';
import { EARLIER_AFTER_DONE_AT_FIRST_POLL } from './job-durations';
import { fakeQualtrics, memoryDurations, qualtricsFailure, RESERVED, testEnv, throttled } from './testing';

const EMAIL = 'jane.doe@example.com';

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

async function newRequest(): Promise<string> {
  const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
  await store.transition(record.requestId, 'RUNNING', 'STARTED');
  return record.requestId;
}

describe('startCustomerDataJob', () => {
  it('creates the job once, records its id and schedules the first poll', async () => {
    const requestId = await newRequest();
    const create = vi.fn().mockResolvedValue({ customerDataRequestId: 'CDR_1' });
    const env = testEnv({ store, writer, api: fakeQualtrics({ createCustomerDataRequest: create }) });

    const job = await startCustomerDataJob(env, { requestId, job: { started: false } });

    expect(create).toHaveBeenCalledWith(EMAIL);
    expect(job).toEqual({
      started: true,
      customerDataRequestId: 'CDR_1',
      createdAt: expect.any(String),
      polls: 0,
      status: 'inProgress',
      fileIds: [],
      waitUntil: new Date(env.now() + 5000).toISOString(),
    });
    const record = await store.get(requestId);
    expect(record?.qualtrics.customerDataRequestId).toBe('CDR_1');
    expect(record?.status).toBe('WAITING_ON_QUALTRICS');

    // A retried step finds the id in the record: no second create.
    const again = await startCustomerDataJob(env, { requestId, job: { started: false } });
    expect(again).toMatchObject({ started: true, customerDataRequestId: 'CDR_1' });
    expect(create).toHaveBeenCalledTimes(1);
  });

  it("schedules the first poll once this tenant's typical job duration has passed", async () => {
    const requestId = await newRequest();
    const create = vi.fn().mockResolvedValue({ customerDataRequestId: 'CDR_T' });
    const { durations } = memoryDurations({ customerData: 20 });
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ createCustomerDataRequest: create }),
      durations,
    });
    const job = await startCustomerDataJob(env, { requestId, job: { started: false } });
    expect(job).toMatchObject({ started: true, waitUntil: new Date(env.now() + 21_000).toISOString() });
  });

  it('returns the limiter wait with its reservations and gives the claim back when throttled', async () => {
    const requestId = await newRequest();
    const create = vi
      .fn()
      .mockRejectedValueOnce(throttled(1500))
      .mockResolvedValue({ customerDataRequestId: 'CDR_2' });
    const env = testEnv({ store, writer, api: fakeQualtrics({ createCustomerDataRequest: create }) });

    const waiting = await startCustomerDataJob(env, { requestId, job: { started: false } });
    expect(waiting).toEqual({
      started: false,
      waitUntil: new Date(env.now() + 2000).toISOString(),
      reservations: RESERVED,
    });
    expect((await store.get(requestId))?.qualtrics.customerDataCreateClaimedAt).toBeUndefined();

    // The next attempt presents the reservations and creates.
    const job = await startCustomerDataJob(env, { requestId, job: waiting });
    expect(env.heldSeen.at(-1)).toEqual(RESERVED);
    expect(job).toMatchObject({ started: true, customerDataRequestId: 'CDR_2' });
  });

  it('gives the claim back after a definite non-creation (503) so the retry creates', async () => {
    const requestId = await newRequest();
    const create = vi
      .fn()
      .mockRejectedValueOnce(qualtricsFailure(503))
      .mockResolvedValue({ customerDataRequestId: 'CDR_3' });
    const env = testEnv({ store, writer, api: fakeQualtrics({ createCustomerDataRequest: create }) });

    await expect(startCustomerDataJob(env, { requestId, job: { started: false } })).rejects.toMatchObject({
      name: ErrorNames.Transient,
    });
    const job = await startCustomerDataJob(env, { requestId, job: { started: false } });
    expect(job).toMatchObject({ started: true, customerDataRequestId: 'CDR_3' });
    expect(create).toHaveBeenCalledTimes(2);
  });

  it('keeps the claim after an unknown outcome (500): the retry fails instead of creating again', async () => {
    const requestId = await newRequest();
    const create = vi.fn().mockRejectedValue(qualtricsFailure(500));
    const env = testEnv({ store, writer, api: fakeQualtrics({ createCustomerDataRequest: create }) });

    await expect(startCustomerDataJob(env, { requestId, job: { started: false } })).rejects.toMatchObject({
      name: ErrorNames.Transient,
    });
    const retry = startCustomerDataJob(env, { requestId, job: { started: false } });
    await expect(retry).rejects.toBeInstanceOf(AmbiguousCreateError);
    await expect(retry).rejects.toMatchObject({ name: 'Qualtrics.AmbiguousCreate', retryable: false });
    expect(create).toHaveBeenCalledTimes(1);
    // The error names no one.
    await retry.catch((e: Error) => expect(e.message).not.toContain(EMAIL));
  });

  it('passes a started job through unchanged (a re-delivered step)', async () => {
    const env = testEnv({ store, writer, api: fakeQualtrics() });
    const job: StartedJobState = {
      started: true,
      customerDataRequestId: 'CDR_X',
      createdAt: '2030-01-01T00:00:00.000Z',
      polls: 3,
      status: 'inProgress',
      fileIds: [],
    };
    await expect(
      startCustomerDataJob(env, { requestId: '00000000-0000-4000-8000-000000000000', job }),
    ).resolves.toBe(job);
  });
});

describe('definitelyNotCreated', () => {
  it('tells a create that never happened from one whose outcome is unknown', () => {
    expect(definitelyNotCreated(throttled())).toBe(true);
    expect(definitelyNotCreated(new DsrError(ErrorNames.LimiterUnavailable, 'x', true))).toBe(true);
    for (const status of [400, 401, 403, 429, 503])
      expect(definitelyNotCreated(qualtricsFailure(status))).toBe(true);
    // A failing token request happens before the create.
    expect(definitelyNotCreated(qualtricsFailure(500, 'token'))).toBe(true);
    for (const status of [0, 500, 502, 504])
      expect(definitelyNotCreated(qualtricsFailure(status))).toBe(false);
    expect(definitelyNotCreated(new Error('socket hang up'))).toBe(false);
    // No answer (status 0): created nothing only when the request provably never left.
    const refused = new QualtricsError(ErrorNames.Transient, 'could not connect', {
      httpStatus: 0,
      endpoint: 'createCustomerDataRequest',
      notSent: true,
    });
    expect(definitelyNotCreated(refused)).toBe(true);
  });
});

function startedJob(overrides: Partial<StartedJobState> = {}): StartedJobState {
  return {
    started: true,
    customerDataRequestId: 'CDR_P',
    createdAt: '2030-01-01T00:00:00.000Z',
    polls: 0,
    status: 'inProgress',
    fileIds: [],
    ...overrides,
  };
}

describe('getCustomerDataJob', () => {
  it('counts the poll and schedules the next one on the growing schedule while in progress', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getCustomerDataRequest: vi.fn().mockResolvedValue({ status: 'inProgress', fileIds: [] }),
      }),
    });
    env.tick(1_000_000); // the job is 1000 s old: next poll in 100 s
    const job = await getCustomerDataJob(env, {
      requestId,
      job: startedJob({ polls: 4, waitUntil: 'x' as never }),
    });
    expect(job).toEqual({
      ...startedJob({ polls: 5 }),
      waitUntil: new Date(env.now() + 100_000).toISOString(),
    });
  });

  it('polls next when the progress Qualtrics reports says the job should end, within bounds', async () => {
    const requestId = await newRequest();
    const progress = vi.fn();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ getCustomerDataRequest: progress }),
    });
    env.tick(1_000_000); // 1000 s old; the growing schedule alone says 100 s
    const pollAt = async (percentComplete: number) => {
      progress.mockResolvedValueOnce({ status: 'inProgress', percentComplete, fileIds: [] });
      const job = await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 1 }) });
      return (Date.parse(job.waitUntil as string) - env.now()) / 1000;
    };
    expect(await pollAt(80)).toBe(250); // 1000 s × 20 / 80
    expect(await pollAt(95)).toBe(100); // never sooner than the growing schedule
    expect(await pollAt(40)).toBe(400); // 1500 s estimated, but at most 4 growing intervals
  });

  it('learns the duration from the progress Qualtrics reports, and aims earlier after a job done at its first poll', async () => {
    const requestId = await newRequest();
    const progress = vi.fn();
    const { durations, lessons } = memoryDurations();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ getCustomerDataRequest: progress }),
      durations,
    });
    env.tick(5000);
    progress.mockResolvedValueOnce({ status: 'inProgress', percentComplete: 25, fileIds: [] });
    await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 0 }) });
    env.tick(16_000);
    progress.mockResolvedValueOnce({ status: 'complete', fileIds: ['F1'] });
    await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 1 }) });
    // Done at the first poll (aimed at 20 + 1 s, made at 21 s): perhaps much sooner.
    progress.mockResolvedValueOnce({ status: 'complete', fileIds: ['F1'] });
    await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 0 }) });
    // Done at a first poll the limiter held back until 60 s: the lesson is still about 21 s.
    env.tick(39_000);
    progress.mockResolvedValueOnce({ status: 'complete', fileIds: ['F1'] });
    await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 0 }) });
    const earlier = 21 * EARLIER_AFTER_DONE_AT_FIRST_POLL;
    expect(lessons).toEqual([
      { kind: 'customerData', seconds: 20 },
      { kind: 'customerData', seconds: earlier },
      { kind: 'customerData', seconds: (earlier + 1) * EARLIER_AFTER_DONE_AT_FIRST_POLL },
    ]);
  });

  it('learns a lower bound from "in progress" without a percentage, and holds back a first poll due before it', async () => {
    const requestId = await newRequest();
    const progress = vi.fn().mockResolvedValue({ status: 'inProgress', fileIds: [] });
    const { durations, lessons } = memoryDurations();
    const env = testEnv({
      store,
      writer,
      durations,
      api: fakeQualtrics({ getCustomerDataRequest: progress }),
    });
    env.tick(8_000);
    await getCustomerDataJob(env, { requestId, job: startedJob() });
    expect(lessons).toEqual([{ kind: 'customerData', seconds: 8, atLeast: true }]);
    const later = startedJob({ createdAt: new Date(env.now() - 5_000).toISOString() });
    const held = await getCustomerDataJob(env, { requestId, job: later });
    expect(held).toEqual({ ...later, waitUntil: new Date(env.now() + 4_000).toISOString() });
    expect(progress).toHaveBeenCalledTimes(1);
  });

  it('marks the job complete with its files, ready to download', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getCustomerDataRequest: vi
          .fn()
          .mockResolvedValue({ status: 'complete', percentComplete: 100, fileIds: ['F1', 'F2'] }),
      }),
    });
    const job = await getCustomerDataJob(env, { requestId, job: startedJob() });
    expect(job).toMatchObject({
      status: 'complete',
      fileIds: ['F1', 'F2'],
      downloaded: false,
      nextFileIndex: 0,
      polls: 1,
    });
    expect(job.waitUntil).toBeUndefined();
    const record = await store.get(requestId);
    expect(record?.qualtrics.fileIds).toEqual(['F1', 'F2']);
    expect(record?.timeline.map((t) => t.step)).toContain('CUSTOMER_DATA_JOB_COMPLETE');
  });

  it('records why a job failed without the email Qualtrics may quote', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getCustomerDataRequest: vi.fn().mockResolvedValue({
          status: 'failed',
          fileIds: [],
          rawStatus: 'Failed',
          failureReason: `no data for ${EMAIL.toUpperCase()}`,
        }),
      }),
    });
    const job = await getCustomerDataJob(env, { requestId, job: startedJob() });
    expect(job.status).toBe('failed');
    const entry = (await store.get(requestId))?.timeline.find((t) => t.step === 'CUSTOMER_DATA_JOB_FAILED');
    expect(entry?.detail).toMatch(/Failed: no data for/);
    expect(entry?.detail?.toLowerCase()).not.toContain(EMAIL);
  });

  it('waits for the limiter without counting a poll', async () => {
    const requestId = await newRequest();
    const env = testEnv({
      store,
      writer,
      api: fakeQualtrics({ getCustomerDataRequest: vi.fn().mockRejectedValue(throttled(250)) }),
    });
    const job = await getCustomerDataJob(env, { requestId, job: startedJob({ polls: 2 }) });
    expect(job).toEqual({
      ...startedJob({ polls: 2 }),
      waitUntil: new Date(env.now() + 1000).toISOString(),
      reservations: RESERVED,
    });
  });
});

describe('downloadCustomerDataFiles', () => {
  it('stops before its Lambda timeout, and the next invocation resumes at the next file, not at file 0', async () => {
    const requestId = await newRequest();
    const download = vi.fn(async (_job: string, fileId: string) => ({
      body: Readable.from([Buffer.from(`{"file":"${fileId}"}`)]),
      contentType: 'application/json',
    }));
    const env = testEnv({ store, writer, api: fakeQualtrics({ downloadCustomerDataFile: download }) });
    // 15 minutes at first; after the first file only 40 s are left, less than the stop margin.
    const remaining = [900_000, 40_000];
    const job = startedJob({
      status: 'complete',
      fileIds: ['F1', 'F2', 'F3'],
      downloaded: false,
      nextFileIndex: 0,
    });
    const first = await downloadCustomerDataFiles(
      { ...env, remainingTimeMs: () => remaining[Math.min(download.mock.calls.length, 1)] as number },
      { requestId, job },
    );
    expect(first).toMatchObject({
      downloaded: false,
      nextFileIndex: 1,
      waitUntil: new Date(env.now()).toISOString(),
    });
    expect(download.mock.calls.map((c) => c[1])).toEqual(['F1']);

    const second = await downloadCustomerDataFiles(
      { ...env, remainingTimeMs: () => 900_000 },
      { requestId, job: first },
    );
    expect(second).toMatchObject({ downloaded: true, nextFileIndex: 3 });
    expect(download.mock.calls.map((c) => c[1])).toEqual(['F1', 'F2', 'F3']);
    expect(await writer.readJson(customerDataFileKey(requestId, 'F3', 'json'))).toEqual({ file: 'F3' });
  });

  it('downloads at least one file per invocation, however little time is left', async () => {
    const requestId = await newRequest();
    const download = vi.fn(async () => ({
      body: Readable.from([Buffer.from('{}')]),
      contentType: 'application/json',
    }));
    const env = testEnv({ store, writer, api: fakeQualtrics({ downloadCustomerDataFile: download }) });
    const job = startedJob({
      status: 'complete',
      fileIds: ['F1', 'F2'],
      downloaded: false,
      nextFileIndex: 1,
    });
    const out = await downloadCustomerDataFiles({ ...env, remainingTimeMs: () => 1_000 }, { requestId, job });
    expect(out).toMatchObject({ downloaded: true, nextFileIndex: 2 });
    expect(download).toHaveBeenCalledTimes(1);
  });

  it('streams every file to the bundle byte for byte, resuming at the file the limiter stopped', async () => {
    const requestId = await newRequest();
    const bytes = { F1: Buffer.from('{"responses":[]}'), F2: Buffer.from([0x50, 0x4b, 3, 4, 0, 255]) };
    const types = { F1: 'application/json; charset=utf-8', F2: 'application/zip' };
    const download = vi.fn(async (_job: string, fileId: string) => ({
      body: Readable.from([bytes[fileId as 'F1' | 'F2']]),
      contentType: types[fileId as 'F1' | 'F2'],
    }));
    let calls = 0;
    const api = fakeQualtrics({
      downloadCustomerDataFile: (job, fileId) =>
        ++calls === 2 ? Promise.reject(throttled(10)) : download(job, fileId),
    });
    const env = testEnv({ store, writer, api });
    const job = startedJob({
      status: 'complete',
      fileIds: ['F1', 'F2'],
      downloaded: false,
      nextFileIndex: 0,
    });

    const paused = await downloadCustomerDataFiles(env, { requestId, job });
    expect(paused).toMatchObject({ downloaded: false, nextFileIndex: 1, reservations: RESERVED });
    const done = await downloadCustomerDataFiles(env, { requestId, job: paused });
    expect(done).toMatchObject({ downloaded: true, nextFileIndex: 2 });
    expect(done.waitUntil).toBeUndefined();
    expect(done.reservations).toBeUndefined();
    expect(download.mock.calls.map((c) => c[1])).toEqual(['F1', 'F2']);

    const read = async (key: string) => {
      const body = await writer.readJson(key).catch(() => undefined);
      return body;
    };
    expect(await read(customerDataFileKey(requestId, 'F1', 'json'))).toEqual({ responses: [] });
    const manifest = await writer.writeManifest({
      requestId,
      type: 'access',
      emailSha256: 'x'.repeat(64),
      createdAt: '2030-01-01T00:00:00.000Z',
      completedAt: '2030-01-01T00:00:01.000Z',
      qualtrics: { customerDataRequestId: 'CDR_P', fileIds: ['F1', 'F2'] },
      directoriesSearched: [],
    });
    expect(manifest.manifest.files.map((f) => [f.key, f.bytes])).toEqual([
      [customerDataFileKey(requestId, 'F1', 'json'), bytes.F1.length],
      [customerDataFileKey(requestId, 'F2', 'zip'), bytes.F2.length],
    ]);
  });

  it('names files by content type', () => {
    expect(extensionFor('application/json')).toBe('json');
    expect(extensionFor('application/vnd.api+json; charset=utf-8')).toBe('json');
    expect(extensionFor('application/zip')).toBe('zip');
    expect(extensionFor('text/csv')).toBe('csv');
    expect(extensionFor('application/octet-stream')).toBe('bin');
    expect(extensionFor('')).toBe('bin');
  });
});
