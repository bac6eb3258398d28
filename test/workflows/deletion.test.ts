import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lambdas/core/aws-clients';
import { emailSha256 } from '../../lambdas/core/privacy';
import { evidenceKey } from '../../lambdas/core/tables';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { CANARY_EMAIL } from '../support/canaries';
import { emailForms, serialized, startWorkflowWorld, statesEntered, type WorkflowWorld } from './harness';

/**
 * The deletion workflow (statemachines/deletion.asl.json) on the real handlers, dynalite, s3rver
 * and the simulator over HTTP; every wait 500× faster. Each test erases its own subject.
 */

const SCALE = 0.002;

let w: WorkflowWorld;
beforeAll(async () => {
  w = await startWorkflowWorld({ scale: SCALE });
});
afterAll(() => w?.close());
afterEach(() => {
  w.sim.faults.clear();
  w.sim.setOptions({ failErasures: false });
  w.setEnv({ QDSR_DELETION_DONE: undefined });
});

interface EvidenceFile {
  requestId: string;
  erasureRequestId: string;
  searchOnly: boolean;
  statuses: Array<{ at: string; status: string }>;
  subjectFound: boolean | null;
  subject: { emailSha256: string };
  emailsNotFound?: Array<{ maskedEmail: string; emailSha256: string }>;
  verification: {
    contactsRemaining?: number;
    skipped?: true;
    directories?: Array<{ contactsRemaining: number }>;
  };
}

async function evidenceOf(requestId: string): Promise<EvidenceFile> {
  const out = await s3Client().send(
    new GetObjectCommand({ Bucket: w.aws.names.exportBucket, Key: evidenceKey(requestId) }),
  );
  return JSON.parse(await out.Body!.transformToString('utf8')) as EvidenceFile;
}

function expectNoEmail(text: string, email: string): void {
  for (const form of emailForms(email)) expect(text).not.toContain(form);
}

describe('deletion workflow', () => {
  it('erases the subject: the contacts are gone from Qualtrics and the evidence says so', async () => {
    expect(w.sim.contactsWithEmail(SEEDED_SUBJECT)).toHaveLength(4);
    const requestId = await w.createRequest('deletion', SEEDED_SUBJECT);
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('SUCCEEDED');
    expect(w.sim.contactsWithEmail(SEEDED_SUBJECT)).toEqual([]);
    const erasureRequestId = (await w.record(requestId)).qualtrics.erasureRequestId;
    expect(run.output).toEqual({
      requestId,
      type: 'deletion',
      status: 'COMPLETED',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      dryRun: false,
      subjectFound: true,
      // Which Qualtrics it ran against: this world's simulator is a server of its own (no local runtime).
      qualtrics: { target: new URL(w.sim.url).origin, erasureRequestId, status: 'Completed' },
      verification: { contactsRemaining: 0 },
    });

    const evidence = await evidenceOf(requestId);
    expect(evidence).toMatchObject({
      schemaVersion: '2.0',
      requestId,
      erasureRequestId,
      searchOnly: false,
      subjectFound: true,
      subject: { emailSha256: emailSha256(SEEDED_SUBJECT) },
      qualtrics: { target: new URL(w.sim.url).origin },
      emailsNotFound: [],
    });
    expect(evidence.verification.contactsRemaining).toBe(0);
    expect(evidence.verification.directories).toHaveLength(4);
    expect(evidence.statuses.at(-1)?.status).toBe('Completed');
    expect(evidence.statuses.every((s) => !Number.isNaN(Date.parse(s.at)))).toBe(true);

    const record = await w.record(requestId);
    expect(record.status).toBe('COMPLETED');
    expect(record.counts.contactsRemaining).toBe(0);
    expect(record.evidence).toMatchObject({ erasureRequestId, searchOnly: false });
    expect(w.sim.counters().bySubject[emailSha256(SEEDED_SUBJECT)]?.erasureCreates).toBe(1);
    const published = w.published.filter((e) => e.detail.requestId === requestId);
    expect(published.map((e) => e.detailType)).toEqual(['Privacy Request Completed']);

    expectNoEmail(serialized(run), SEEDED_SUBJECT);
    expectNoEmail(JSON.stringify(published), SEEDED_SUBJECT);
  });

  it('changes nothing on a dry run (searchOnly seen by Qualtrics) and reports what it found', async () => {
    const subject = 'pat.doe@example.org';
    const before = w.sim.contactsWithEmail(subject);
    expect(before).toHaveLength(3);
    const requestId = await w.createRequest('deletion', subject, { dryRun: true });
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('SUCCEEDED');
    expect(w.sim.contactsWithEmail(subject)).toEqual(before);
    const erasureRequestId = (await w.record(requestId)).qualtrics.erasureRequestId;
    expect(w.sim.erasures().find((e) => e.id === erasureRequestId)?.searchOnly).toBe(true);
    expect(run.output).toMatchObject({
      dryRun: true,
      subjectFound: true,
      verification: { contactsRemaining: 3 },
    });
    expect((await evidenceOf(requestId)).searchOnly).toBe(true);
    // What a person reads (the timeline, on the operator page and in `status`) says nothing was erased.
    const verified = (await w.record(requestId)).timeline.find((t) => t.step === 'EVIDENCE_WRITTEN');
    expect(verified?.detail).toBe('3 contact(s) would be erased (dry run: nothing was erased)');
  });

  it('records emailsNotFound in the evidence, masked and hashed, only when Qualtrics does not know the subject', async () => {
    const subject = 'Nobody.Known@Example.com';
    const requestId = await w.createRequest('deletion', subject);
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ subjectFound: false, verification: { contactsRemaining: 0 } });
    const evidence = await evidenceOf(requestId);
    // Qualtrics named the subject; the evidence keeps it masked and hashed, never the address.
    expect(evidence.emailsNotFound).toEqual([
      { maskedEmail: 'n***@example.com', emailSha256: emailSha256(subject) },
    ]);
    expect(evidence.subjectFound).toBe(false);
    expectNoEmail(JSON.stringify(evidence), subject);
    expectNoEmail(JSON.stringify((await w.record(requestId)).evidence), subject);
    // The summary, the events and the record's public parts do not carry it.
    expectNoEmail(JSON.stringify(run.output), subject);
    expectNoEmail(serialized(run), subject);
    const { evidence: _evidence, email: _email, ...publicPart } = await w.record(requestId);
    expectNoEmail(JSON.stringify(publicPart), subject);
  });

  it('is done once Qualtrics accepted the erasure when QDSR_DELETION_DONE=submitted', async () => {
    w.setEnv({ QDSR_DELETION_DONE: 'submitted' });
    const requestId = await w.createRequest('deletion', 'alex.jones@example.org');
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('SUCCEEDED');
    const states = statesEntered(run.events);
    expect(states).not.toContain('Get erasure status');
    expect(states).not.toContain('Verify in every directory');
    expect(run.output).toMatchObject({ subjectFound: null, verification: { skipped: true } });
    expect((await evidenceOf(requestId)).verification.skipped).toBe(true);
  });

  it('ends FAILED with the reason when Qualtrics fails the erasure', async () => {
    w.sim.setOptions({ failErasures: true });
    const subject = 'maria.garcia@example.net';
    const requestId = await w.createRequest('deletion', subject);
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('FAILED');
    expect(statesEntered(run.events)).toEqual(
      expect.arrayContaining(['Erasure failed', 'Record request failed']),
    );
    const record = await w.record(requestId);
    expect(record.status).toBe('FAILED');
    expect(record.error?.code).toBe('QUALTRICS_JOB_FAILED');
    expect(record.timeline.map((t) => t.step)).toContain('ERASURE_FAILED');
    expect(record.evidence).toMatchObject({ failureReason: expect.any(String) });
    expect(w.sim.contactsWithEmail(subject)).toHaveLength(1);
    expectNoEmail(serialized(run), subject);
  });

  it('does not create a second erasure when a create answered 503 is retried', async () => {
    const subject = 'sam.lee@example.com';
    w.sim.faults.set('createErasureRequest', { status: 503, times: 1 });
    const requestId = await w.createRequest('deletion', subject);
    const run = await w.run('deletion', requestId);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toContain(
      'Create erasure request',
    );
    expect(w.sim.counters().bySubject[emailSha256(subject)]?.erasureCreates).toBe(1);
    expect(w.sim.contactsWithEmail(subject)).toEqual([]);
  });

  it('erases the canary subject without it reaching a log, event, error or status (every run is scanned)', async () => {
    expect(w.sim.contactsWithEmail(CANARY_EMAIL)).toHaveLength(2);
    const requestId = await w.createRequest('deletion', CANARY_EMAIL);
    const run = await w.run('deletion', requestId); // throws on a canary hit
    expect(run.status).toBe('SUCCEEDED');
    expect(w.sim.contactsWithEmail(CANARY_EMAIL)).toEqual([]);
    expect(w.leaks.scanned.log).toBeGreaterThan(10);
    expect(w.leaks.hits).toEqual([]);
  });

  it('used, in every step of the runs above, only the resources the catalog grants that step', () => {
    expect(w.audit.used().size).toBeGreaterThan(5);
    expect(w.audit.violations()).toEqual([]);
  });
});
