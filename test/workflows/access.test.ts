import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { s3Client } from '../../lambdas/core/aws-clients';
import type { Manifest } from '../../lambdas/core/export-writer';
import { emailSha256 } from '../../lambdas/core/privacy';
import { manifestKey } from '../../lambdas/core/tables';
import { pollSecondsAfterCreation } from '../../lambdas/core/workflow/wait';
import { stepLogger } from '../../lambdas/middleware';
import { SEEDED_SUBJECT } from '../../local/simulator';
import schema from '../../schemas/manifest.schema.json';
import { CANARY_EMAIL } from '../support/canaries';
import { emailForms, serialized, startWorkflowWorld, statesEntered, type WorkflowWorld } from './harness';

/**
 * The access workflow (statemachines/access.asl.json) on the real handlers, dynalite, s3rver and
 * the simulator over HTTP; every wait 500× faster.
 */

const SCALE = 0.002;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validManifest = ajv.compile(schema);

let w: WorkflowWorld;
beforeAll(async () => {
  w = await startWorkflowWorld({ scale: SCALE });
});
afterAll(() => w?.close());
afterEach(() => {
  w.sim.faults.clear();
  w.sim.setOptions({
    pageSizeCap: 100,
    failCustomerDataJobs: false,
    customerDataJobMs: 20_000,
    customerDataFiles: 2,
  });
  w.setEnv({ QDSR_TARGET_UTILIZATION: undefined });
});

async function objectBytes(key: string): Promise<Buffer> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: w.aws.names.exportBucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function bundleKeys(requestId: string): Promise<string[]> {
  const out = await s3Client().send(
    new ListObjectsV2Command({ Bucket: w.aws.names.exportBucket, Prefix: `exports/${requestId}/` }),
  );
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function manifestOf(requestId: string): Promise<Manifest> {
  return JSON.parse((await objectBytes(manifestKey(requestId))).toString('utf8')) as Manifest;
}

/** The simulator's truth: contact ids of the subject, by directory. */
function contactsByDirectory(email: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of w.sim.contactsWithEmail(email))
    out.set(c.directoryId, [...(out.get(c.directoryId) ?? []), c.contactId]);
  return out;
}

function expectNoEmail(text: string, email: string): void {
  for (const form of emailForms(email)) expect(text).not.toContain(form);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('access workflow', () => {
  it('writes a bundle whose manifest lists every file with its sha256, the customer data byte for byte and the contacts of every directory the subject is in', async () => {
    const requestId = await w.createRequest('access', SEEDED_SUBJECT);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const manifest = await manifestOf(requestId);
    expect(validManifest(manifest), JSON.stringify(validManifest.errors)).toBe(true);
    expect(manifest.subject.emailSha256).toBe(emailSha256(SEEDED_SUBJECT));
    expect(manifest.qualtrics.target).toBe(new URL(w.sim.url).origin);

    // Every stored file is listed, with its real size and hash.
    const keys = (await bundleKeys(requestId)).filter((k) => k !== manifestKey(requestId));
    expect(manifest.files.map((f) => f.key)).toEqual(keys);
    for (const file of manifest.files) {
      const bytes = await objectBytes(file.key);
      expect(file.bytes).toBe(bytes.length);
      expect(file.sha256).toBe(sha256(bytes));
    }
    expect((await w.writer.verifyBundle(requestId)).ok).toBe(true);

    // The customer-data files are exactly what the simulator served.
    const jobId = manifest.qualtrics.customerDataRequestId!;
    expect(manifest.qualtrics.fileIds.length).toBeGreaterThan(0);
    for (const fileId of manifest.qualtrics.fileIds) {
      const file = manifest.files.find((f) => f.key.includes(`/qualtrics/customer-data/${fileId}.`));
      expect(file, fileId).toBeDefined();
      expect((await objectBytes(file!.key)).equals(w.sim.fileBytes(jobId, fileId))).toBe(true);
    }

    // The contacts of every directory the subject is in (three of four), full records.
    const truth = contactsByDirectory(SEEDED_SUBJECT);
    expect(truth.size).toBe(3);
    expect(manifest.directoriesSearched).toHaveLength(4);
    for (const d of manifest.directoriesSearched) {
      const expected = truth.get(d.directoryId) ?? [];
      expect(d.contactsFound, d.directoryId).toBe(expected.length);
      if (expected.length === 0) {
        expect(d.key).toBeUndefined();
        continue;
      }
      const file = JSON.parse((await objectBytes(d.key!)).toString('utf8')) as {
        directoryId: string;
        contacts: Array<{ contactId: string; email: string }>;
      };
      expect(file.directoryId).toBe(d.directoryId);
      expect(file.contacts.map((c) => c.contactId).sort()).toEqual([...expected].sort());
      for (const c of file.contacts) expect(c.email.toLowerCase()).toBe(SEEDED_SUBJECT);
    }
    expect(manifest.counts).toEqual({ directoriesSearched: 4, contactsFound: 4, files: keys.length });

    // The record and the summary agree with the manifest.
    const record = await w.record(requestId);
    expect(record.status).toBe('COMPLETED');
    expect(record.counts).toMatchObject(manifest.counts);
    expect(record.qualtrics.customerDataRequestId).toBe(jobId);
    expect(run.output).toMatchObject({
      requestId,
      type: 'access',
      status: 'COMPLETED',
      counts: manifest.counts,
      qualtrics: { customerDataRequestId: jobId, fileIds: manifest.qualtrics.fileIds },
      export: { prefix: `exports/${requestId}/` },
    });
    const published = w.published.filter((e) => e.detail.requestId === requestId);
    expect(published.map((e) => e.detailType)).toEqual(['Privacy Request Completed']);
    expect(published[0]?.detail).toMatchObject({
      status: 'COMPLETED',
      counts: manifest.counts,
      maskedEmail: 's***@example.com',
    });

    // Personal data stays in the bundle and the record: never in the execution's events.
    expectNoEmail(serialized(run), SEEDED_SUBJECT);
    expectNoEmail(JSON.stringify(published), SEEDED_SUBJECT);
    expectNoEmail(JSON.stringify(manifest), SEEDED_SUBJECT);
  });

  it('logs every step with the request id and never the email', async () => {
    const lines: string[] = [];
    // Powertools writes info and below to stdout, warn and up to stderr: keep its JSON lines.
    const spies = [process.stdout, process.stderr].map((stream) => {
      const write = stream.write.bind(stream);
      return vi
        .spyOn(stream, 'write')
        .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
          const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
          if (!text.includes('"service":"qualtrics-dsr"')) return write(chunk as string, ...(rest as []));
          lines.push(...text.split('\n').filter(Boolean));
          return true;
        });
    });
    stepLogger.setLogLevel('DEBUG');
    try {
      const requestId = await w.createRequest('access', 'alex.jones@example.org');
      const run = await w.run('access', requestId);
      expect(run.status).toBe('SUCCEEDED');
      expect(lines.length).toBeGreaterThan(20);
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(entry.requestId, line).toBe(requestId);
        expect(entry.step, line).toEqual(expect.any(String));
      }
      expectNoEmail(lines.join('\n'), 'alex.jones@example.org');
    } finally {
      stepLogger.setLogLevel('SILENT');
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('follows every page: the subject in three directories with a page size of 1', async () => {
    w.sim.setOptions({ pageSizeCap: 1 });
    w.sim.resetCounters();
    const requestId = await w.createRequest('access', SEEDED_SUBJECT);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const manifest = await manifestOf(requestId);
    const truth = contactsByDirectory(SEEDED_SUBJECT);
    expect(manifest.directoriesSearched).toHaveLength(4);
    const found = manifest.directoriesSearched.filter((d) => d.contactsFound > 0);
    expect(found.map((d) => d.directoryId).sort()).toEqual([...truth.keys()].sort());
    for (const d of found) expect(d.contactsFound).toBe(truth.get(d.directoryId)!.length);
    expect(manifest.counts.contactsFound).toBe(4);
    // One page per directory listed, and more search pages than directories.
    const counters = w.sim.counters();
    expect(counters.byEndpoint.listDirectories?.requests).toBeGreaterThanOrEqual(4);
    expect(counters.byEndpoint.searchDirectoryContacts?.requests).toBeGreaterThan(4);
  });

  it('completes with zero counts and still writes the manifest when the subject is found nowhere', async () => {
    const requestId = await w.createRequest('access', 'nobody.here@example.com');
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const manifest = await manifestOf(requestId);
    expect(validManifest(manifest)).toBe(true);
    expect(manifest.counts.contactsFound).toBe(0);
    expect(manifest.counts.directoriesSearched).toBe(4);
    expect(manifest.directoriesSearched.every((d) => d.contactsFound === 0 && d.key === undefined)).toBe(
      true,
    );
    expect(manifest.files.some((f) => f.key.includes('/qualtrics/directories/'))).toBe(false);
    expect((await w.record(requestId)).status).toBe('COMPLETED');
    expect(run.output).toMatchObject({ counts: { contactsFound: 0, directoriesSearched: 4 } });
  });

  it('polls a long job on the growing, capped schedule', async () => {
    // 10 simulated minutes: at the minimum interval (5 s) that would be 120 polls.
    w.sim.setOptions({ customerDataJobMs: 600_000 });
    const requestId = await w.createRequest('access', 'sam.lee@example.com');
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const polls = statesEntered(run.events).filter((s) => s === 'Get customer-data job progress').length;
    // Several polls (the job runs long past the first), and never more than the growing schedule
    // for a job of that length would make (a little slack for scheduling delays): the progress
    // Qualtrics reports lets later polls aim at the job's end instead.
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(polls).toBeLessThanOrEqual(pollSecondsAfterCreation(600).length + 2);
  });

  it('ends FAILED with the reason when the job fails', async () => {
    w.sim.setOptions({ failCustomerDataJobs: true });
    const requestId = await w.createRequest('access', SEEDED_SUBJECT);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('FAILED');
    expect(statesEntered(run.events)).toEqual(
      expect.arrayContaining(['Customer-data job failed', 'Record request failed', 'Request failed']),
    );
    const record = await w.record(requestId);
    expect(record.status).toBe('FAILED');
    expect(record.error?.code).toBe('QUALTRICS_JOB_FAILED');
    expect(record.error?.message).toMatch(/customer-data job/);
    expect(record.timeline.map((t) => t.step)).toContain('CUSTOMER_DATA_JOB_FAILED');
    const published = w.published.filter((e) => e.detail.requestId === requestId);
    expect(published.map((e) => [e.detailType, (e.detail as { errorCode?: string }).errorCode])).toEqual([
      ['Privacy Request Failed', 'QUALTRICS_JOB_FAILED'],
    ]);
    expectNoEmail(serialized(run), SEEDED_SUBJECT);
    expectNoEmail(JSON.stringify(record.error), SEEDED_SUBJECT);
  });

  it('waits in the Wait state for the exact time the limiter returns when it denies a call', async () => {
    // Half a percent of the published limits: the download bucket (100/min) then admits one file
    // per 240 ms here, so each of the job's files after the first must wait for its slot.
    w.setEnv({ QDSR_TARGET_UTILIZATION: '0.005' });
    w.sim.setOptions({ customerDataFiles: 6 });
    w.sim.resetCounters();
    const requestId = await w.createRequest('access', SEEDED_SUBJECT);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const waits = statesEntered(run.events).filter((s) => s.startsWith('Wait for the rate limiter'));
    expect(waits.length).toBeGreaterThan(0);
    expect(waits).toContain('Wait for the rate limiter (files)');
    // The waits kept every call under Qualtrics' limits.
    for (const [endpoint, c] of Object.entries(w.sim.counters().byEndpoint))
      expect(c.status429, endpoint).toBe(0);
    const manifest = await manifestOf(requestId);
    expect(manifest.counts.contactsFound).toBe(4);
    expect((await w.writer.verifyBundle(requestId)).ok).toBe(true);
  });

  it('retries 429 and 5xx answers with backoff (StateRetried) and completes', async () => {
    w.sim.faults.set('listDirectories', { status: 503, times: 1 });
    w.sim.faults.set('getCustomerDataRequest', { status: 429, times: 1 });
    w.sim.faults.set('getDirectoryContact', { status: 502, times: 1 });
    const requestId = await w.createRequest('access', SEEDED_SUBJECT);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const retried = run.events.filter((e) => e.type === 'StateRetried').map((e) => e.state);
    expect(retried).toEqual(
      expect.arrayContaining(['List directories', 'Get customer-data job progress', 'Fetch contact records']),
    );
    expect((await manifestOf(requestId)).counts.contactsFound).toBe(4);
  });

  it('does not create a second Qualtrics job when a create answered 503 is retried', async () => {
    const subject = 'pat.doe@example.org';
    w.sim.faults.set('createCustomerDataRequest', { status: 503, times: 1 });
    const requestId = await w.createRequest('access', subject);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toContain(
      'Start customer-data job',
    );
    expect(w.sim.counters().bySubject[emailSha256(subject)]?.customerDataCreates).toBe(1);
  });

  it('reuses the job of a failed run when the request is run again', async () => {
    const subject = 'maria.garcia@example.net';
    // Every progress poll fails: the retries run out and the request fails, after the create.
    w.sim.faults.set('getCustomerDataRequest', { status: 500 });
    const requestId = await w.createRequest('access', subject);
    const first = await w.run('access', requestId);
    expect(first.status).toBe('FAILED');
    const failed = await w.record(requestId);
    expect(failed.error?.code).toBe('QUALTRICS_TRANSIENT');
    const jobId = failed.qualtrics.customerDataRequestId;
    expect(jobId).toBeDefined();

    w.sim.faults.clear();
    await w.store.reopenForRetry(requestId);
    const second = await w.run('access', requestId);

    expect(second.status).toBe('SUCCEEDED');
    expect((await w.record(requestId)).qualtrics.customerDataRequestId).toBe(jobId);
    expect(w.sim.counters().bySubject[emailSha256(subject)]?.customerDataCreates).toBe(1);
  });

  it('does not repeat a create whose outcome is unknown (500): the request fails with the reason', async () => {
    const subject = 'someone.else@example.org';
    w.sim.faults.set('createCustomerDataRequest', { status: 500, times: 1 });
    const requestId = await w.createRequest('access', subject);
    const run = await w.run('access', requestId);

    expect(run.status).toBe('FAILED');
    const record = await w.record(requestId);
    expect(record.error?.code).toBe('QUALTRICS_AMBIGUOUS_CREATE');
    // What happened, what to check and what to do.
    expect(record.error?.message).toMatch(/not sent again/);
    expect(record.error?.message).toContain(requestId);
    expect(record.error?.message).toMatch(/customer-data-requests.*submit the request again/);
    expect(w.sim.counters().bySubject[emailSha256(subject)]?.customerDataCreates ?? 0).toBe(0);
    expectNoEmail(serialized(run), subject);
  });

  it('carries the canary subject into the record and the bundle, and nowhere else (every run is scanned)', async () => {
    const requestId = await w.createRequest('access', CANARY_EMAIL);
    const run = await w.run('access', requestId); // throws on a canary in a log, event, error or status
    expect(run.status).toBe('SUCCEEDED');
    expect((await w.record(requestId)).email).toBe(CANARY_EMAIL);
    const manifest = await manifestOf(requestId);
    expect(manifest.counts.contactsFound).toBe(2);
    const contents = await Promise.all(
      manifest.files.map(async (f) => (await objectBytes(f.key)).toString()),
    );
    expect(contents.some((text) => text.toLowerCase().includes(CANARY_EMAIL))).toBe(true);
    expect(w.leaks.scanned.log).toBeGreaterThan(10);
    expect(w.leaks.scanned['execution events']).toBeGreaterThan(0);
    expect(w.leaks.hits).toEqual([]);
  });

  it('used, in every step of the runs above, only the resources the catalog grants that step', () => {
    expect(w.audit.used().size).toBeGreaterThan(5);
    expect(w.audit.violations()).toEqual([]);
  });
});
