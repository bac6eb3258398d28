import { describe, expect, it } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import { ErrorNames } from '../errors';
import type { DsrEvent } from '../events';
import type { ExportWriter } from '../export-writer';
import type { RequestStore } from '../request-store';
import {
  causeMessage,
  errorCode,
  executionEnded,
  recordCompleted,
  recordFailed,
  recordStarted,
} from './record';
import { fakeQualtrics, testEnv } from './testing';

const EMAIL = 'Jane.Doe+dsr@Example.com';

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

function env() {
  const e = testEnv({ store, writer, api: fakeQualtrics() });
  const published: DsrEvent[] = [];
  e.events.subscribe((x) => published.push(x));
  return Object.assign(e, { published });
}

describe('recordStarted', () => {
  it('moves a received request to RUNNING, and accepts a re-run', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await expect(recordStarted(env(), { requestId: record.requestId, type: 'access' })).resolves.toEqual({
      requestId: record.requestId,
    });
    await recordStarted(env(), { requestId: record.requestId, type: 'access' });
    const after = await store.get(record.requestId);
    expect(after?.status).toBe('RUNNING');
    expect(after?.timeline.filter((t) => t.step === 'STARTED')).toHaveLength(2);
  });

  it('refuses the wrong workflow, an unknown request and a finished one', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    await expect(recordStarted(env(), { requestId: record.requestId, type: 'access' })).rejects.toMatchObject(
      {
        name: ErrorNames.Input,
      },
    );
    await expect(
      recordStarted(env(), { requestId: '00000000-0000-4000-8000-000000000000', type: 'access' }),
    ).rejects.toMatchObject({ name: ErrorNames.RequestNotFound });
    await store.fail(record.requestId, { code: 'X', message: 'x' });
    await expect(
      recordStarted(env(), { requestId: record.requestId, type: 'deletion' }),
    ).rejects.toMatchObject({
      name: ErrorNames.RequestConflict,
    });
  });
});

describe('recordFailed', () => {
  it('stores a PII-free reason whatever the Cause quotes, and emits Privacy Request Failed', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    const e = env();
    const quoted = [EMAIL, EMAIL.toLowerCase(), EMAIL.toUpperCase(), encodeURIComponent(EMAIL)].join(' | ');
    const cause = JSON.stringify({
      errorType: 'Oops',
      errorMessage: `could not process ${quoted}`,
      trace: ['at x'],
    });

    const result = await recordFailed(e, {
      requestId: record.requestId,
      type: 'access',
      error: { Error: 'Qualtrics.JobFailed', Cause: cause },
    });

    expect(result).toEqual({
      requestId: record.requestId,
      status: 'FAILED',
      error: { code: 'QUALTRICS_JOB_FAILED' },
    });
    const stored = await store.get(record.requestId);
    expect(stored?.status).toBe('FAILED');
    expect(stored?.error?.code).toBe('QUALTRICS_JOB_FAILED');
    expect(stored?.error?.message).toMatch(/^could not process /);
    const text = JSON.stringify({ error: stored?.error, timeline: stored?.timeline, events: e.published });
    for (const form of [EMAIL, EMAIL.toLowerCase(), EMAIL.toUpperCase(), encodeURIComponent(EMAIL)]) {
      expect(text).not.toContain(form);
    }
    expect(e.published).toEqual([
      {
        detailType: 'Privacy Request Failed',
        detail: {
          requestId: record.requestId,
          type: 'access',
          status: 'FAILED',
          maskedEmail: 'j***@example.com',
          errorCode: 'QUALTRICS_JOB_FAILED',
        },
      },
    ]);
  });

  it('keeps the first reason when a failed request is failed again', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await recordFailed(env(), {
      requestId: record.requestId,
      type: 'access',
      error: { Error: 'A.First', Cause: 'one' },
    });
    await recordFailed(env(), {
      requestId: record.requestId,
      type: 'access',
      error: { Error: 'B.Second', Cause: 'two' },
    });
    expect((await store.get(record.requestId))?.error).toEqual({ code: 'A_FIRST', message: 'one' });
  });

  it('derives codes and messages from Step Functions errors', () => {
    expect(errorCode('Qualtrics.RateLimited')).toBe('QUALTRICS_RATE_LIMITED');
    expect(errorCode('States.TaskFailed')).toBe('STATES_TASK_FAILED');
    expect(errorCode('Internal.Error')).toBe('INTERNAL_ERROR');
    expect(errorCode('')).toBe('UNKNOWN');
    expect(causeMessage('{"errorMessage":"boom","errorType":"X"}')).toBe('boom');
    expect(causeMessage('plain words')).toBe('plain words');
    expect(causeMessage({ errorMessage: 'obj' })).toBe('obj');
    expect(causeMessage(undefined)).toBe('');
  });
});

describe('recordCompleted', () => {
  it('completes an access request with its counts and emits ids and counts only', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    const e = env();
    const result = {
      counts: { directoriesSearched: 3, contactsFound: 2, files: 4 },
      manifestKey: `exports/${record.requestId}/manifest.json`,
      qualtrics: { customerDataRequestId: 'CDR_1', fileIds: ['F1'] },
    };
    const summary = await recordCompleted(e, { requestId: record.requestId, type: 'access', result });

    expect(summary).toMatchObject({
      requestId: record.requestId,
      type: 'access',
      status: 'COMPLETED',
      counts: result.counts,
      qualtrics: result.qualtrics,
      export: { bucket: writer.bucket, prefix: `exports/${record.requestId}/` },
      finishedAt: expect.any(String),
    });
    const stored = await store.get(record.requestId);
    expect(stored?.status).toBe('COMPLETED');
    expect(stored?.counts).toEqual(result.counts);
    expect(stored?.qualtrics.customerDataRequestId).toBe('CDR_1');
    expect(stored).toMatchObject({ respondedAt: stored?.finishedAt, outcome: 'data-provided' });
    expect(e.published[0]?.detail).toEqual({
      requestId: record.requestId,
      type: 'access',
      status: 'COMPLETED',
      maskedEmail: 'j***@example.com',
      counts: result.counts,
      qualtrics: result.qualtrics,
    });
  });

  it('completes a deletion with what Qualtrics reported and emits ids and counts only', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL, dryRun: true });
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    const e = env();
    const result = {
      dryRun: true,
      subjectFound: true,
      qualtrics: { erasureRequestId: 'OP-9', status: 'COMPLETED' },
      verification: { contactsRemaining: 1 },
    };
    const summary = await recordCompleted(e, { requestId: record.requestId, type: 'deletion', result });

    expect(summary).toEqual({
      requestId: record.requestId,
      type: 'deletion',
      status: 'COMPLETED',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      ...result,
    });
    const stored = await store.get(record.requestId);
    expect(stored?.status).toBe('COMPLETED');
    expect(stored?.counts).toEqual({ contactsRemaining: 1 });
    expect(stored?.qualtrics).toMatchObject({ erasureRequestId: 'OP-9', erasureStatus: 'COMPLETED' });
    expect(stored).toMatchObject({ respondedAt: stored?.finishedAt, outcome: 'dry-run' });
    expect(e.published[0]?.detail).toEqual({
      requestId: record.requestId,
      type: 'deletion',
      status: 'COMPLETED',
      maskedEmail: 'j***@example.com',
      dryRun: true,
      counts: { contactsRemaining: 1 },
      qualtrics: { erasureRequestId: 'OP-9', status: 'COMPLETED' },
    });
  });

  it("records a deletion's outcome: deleted, or no data found, from what Qualtrics reported", async () => {
    const cases = [
      { subjectFound: true, outcome: 'deleted' },
      { subjectFound: false, outcome: 'no-data-found' },
      // Done on submission: whether Qualtrics found the subject is not known yet; the erasure was made.
      { subjectFound: null, outcome: 'deleted' },
    ] as const;
    for (const { subjectFound, outcome } of cases) {
      const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
      await store.transition(record.requestId, 'RUNNING', 'STARTED');
      const result = {
        dryRun: false,
        subjectFound,
        qualtrics: { erasureRequestId: 'OP-10', status: 'COMPLETED' },
        verification: { skipped: true },
      };
      await recordCompleted(env(), { requestId: record.requestId, type: 'deletion', result });
      const doc = await store.getStatusDocument(record.requestId);
      expect(doc, String(subjectFound)).toMatchObject({ status: 'COMPLETED', outcome });
      expect(doc?.respondedAt).toEqual(expect.any(String));
    }
  });

  it('rejects a result of the wrong shape', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    await expect(
      recordCompleted(env(), { requestId: record.requestId, type: 'deletion', result: { counts: {} } }),
    ).rejects.toMatchObject({ name: ErrorNames.Input });
  });
});

describe('executionEnded', () => {
  const ended = (name: string, status: 'FAILED' | 'TIMED_OUT' | 'ABORTED', error?: string) => ({
    'detail-type': 'Step Functions Execution Status Change' as const,
    detail: { name, status, error },
  });

  it('closes a request whose current execution timed out, with a reason and a Failed event', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await store.recordExecution(record.requestId, { name: `${record.requestId}-1`, attempt: 1 });
    await store.transition(record.requestId, 'RUNNING', 'STARTED');
    const e = env();
    await expect(executionEnded(e, ended(`${record.requestId}-1`, 'TIMED_OUT'))).resolves.toEqual({
      requestId: record.requestId,
      changed: true,
    });
    const after = await store.get(record.requestId);
    expect(after?.status).toBe('FAILED');
    expect(after?.error).toMatchObject({ code: 'EXECUTION_TIMED_OUT' });
    expect(after?.error?.message).toMatch(/ended timed out/);
    expect(e.published.map((p) => p.detailType)).toEqual(['Privacy Request Failed']);
  });

  it('leaves finished requests, older attempts and foreign executions alone', async () => {
    const { record: done } = await store.create({ source: 'api', type: 'access', email: EMAIL });
    await store.complete(done.requestId, {});
    const { record: retried } = await store.create({ source: 'api', type: 'deletion', email: EMAIL });
    await store.recordExecution(retried.requestId, { name: `${retried.requestId}-2`, attempt: 2 });
    await store.transition(retried.requestId, 'RUNNING', 'STARTED');
    const e = env();
    expect((await executionEnded(e, ended(`${done.requestId}-1`, 'ABORTED'))).changed).toBe(false);
    expect(
      (await executionEnded(e, ended(`${retried.requestId}-1`, 'FAILED', 'States.Runtime'))).changed,
    ).toBe(false);
    expect((await executionEnded(e, ended('some-other-execution', 'FAILED'))).changed).toBe(false);
    expect((await store.get(done.requestId))?.status).toBe('COMPLETED');
    expect((await store.get(retried.requestId))?.status).toBe('RUNNING');
    expect(e.published).toEqual([]);
  });
});
