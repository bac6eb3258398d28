import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { type Simulator, startSimulator } from '../../local/simulator';
import { type ApiWorld, isTerminal, pollStatus, startApiWorld } from '../api/harness';
import { cleanEnv, runCli } from '../cli/run-cli';
import { CANARY_CLIENT, CANARY_CLIENT_ENV, canaryEmail, canarySeed, LeakScanner } from '../support/canaries';

// Every logger at DEBUG: the canary scan has every line there is (the API's logger is made at import).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

/**
 * Redrive (docs/threat-model.md#done-twice-done-wrong-or-never-done-a3-a4-a5-across-b4-b5): a
 * request FAILED because Qualtrics kept failing beyond the Retry budget is resumed once the fault
 * clears — through `POST /requests/{id}/retry` and `qualtrics-dsr retry` — and ends COMPLETED,
 * reusing the Qualtrics job or erasure it had created: the simulator saw exactly one. (The fault
 * matrix redrives every FAILED request of its cases the same way, after DynamoDB and S3 outages
 * too.) Canary subjects and the canary client secret throughout.
 */

/** The CLI's waits and the simulator's clock run 500× faster (as the API world's and the workflow tests'). */
const SCALE = 0.002;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The fields of status documents, summaries and API answers these tests read. */
interface Doc {
  requestId: string;
  type?: string;
  status?: string;
  level?: string;
  error?: { code: string };
  qualtrics: { customerDataRequestId?: string; erasureRequestId?: string };
  export: { localDir: string };
  manifestUrl: string;
  files: Array<{ key: string; url: string }>;
  [field: string]: unknown;
}

describe('POST /requests/{id}/retry', () => {
  const accessSubject = canaryEmail('httpaccess');
  const deletionSubject = canaryEmail('httpdeletion');
  let w: ApiWorld;
  const leaks = new LeakScanner();
  let stopOutput: () => void = () => undefined;
  let stopEvents: () => void = () => undefined;

  beforeAll(async () => {
    w = await startApiWorld({
      simulator: { seed: canarySeed([accessSubject, deletionSubject]), clients: [CANARY_CLIENT] },
    });
    w.setEnv(CANARY_CLIENT_ENV);
    stopOutput = leaks.captureOutput();
    stopEvents = leaks.subscribeEvents();
  });
  afterAll(async () => {
    stopEvents();
    stopOutput();
    await w?.close();
  });

  async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
    const res = await fetch(`${w.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    leaks.scan('http response', text);
    return { status: res.status, body: JSON.parse(text) as Doc };
  }

  async function terminal(requestId: string) {
    const { doc, seen } = await pollStatus(w.url, requestId, isTerminal);
    leaks.scan('http response', seen);
    return doc as unknown as Doc;
  }

  it('an access request FAILED on 5xx beyond the Retry budget completes when redriven, with its one job', async () => {
    w.sim.faults.set('getCustomerDataRequest', { status: 500 });
    const created = await call('POST', '/requests', { type: 'access', email: accessSubject });
    expect(created.status).toBe(202);
    const requestId = String(created.body.requestId);
    const failed = await terminal(requestId);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'QUALTRICS_TRANSIENT' } });
    const jobId = failed.qualtrics.customerDataRequestId;
    expect(jobId).toMatch(/\S/);
    expect((await call('GET', `/requests/${requestId}/export`)).status).toBe(409);

    w.sim.faults.clear();
    const retry = await call('POST', `/requests/${requestId}/retry`, {});
    expect(retry.status).toBe(202);
    const done = await terminal(requestId);
    expect(done).toMatchObject({ status: 'COMPLETED', counts: { contactsFound: 2 } });
    expect(done.qualtrics.customerDataRequestId).toBe(jobId);
    expect(w.sim.counters().bySubject[emailSha256(accessSubject)]?.customerDataCreates).toBe(1);

    // The bundle, as a user fetches it: every file the manifest lists, with its size and hash.
    const exp = await call('GET', `/requests/${requestId}/export`);
    expect(exp.status).toBe(200);
    const manifest = (await (await fetch(exp.body.manifestUrl)).json()) as {
      files: Array<{ key: string; bytes: number; sha256: string }>;
    };
    expect(manifest.files.length).toBeGreaterThan(2);
    const urls = new Map<string, string>(exp.body.files.map((f) => [f.key, f.url]));
    for (const f of manifest.files) {
      const bytes = Buffer.from(await (await fetch(urls.get(f.key)!)).arrayBuffer());
      expect(bytes.length, f.key).toBe(f.bytes);
      expect(sha256(bytes), f.key).toBe(f.sha256);
    }
  });

  it('a deletion FAILED on 5xx while polling its erasure completes when redriven, with its one erasure', async () => {
    w.sim.faults.set('getErasureRequest', { status: 503 });
    const created = await call('POST', '/requests', { type: 'deletion', email: deletionSubject });
    const requestId = String(created.body.requestId);
    const failed = await terminal(requestId);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'QUALTRICS_TRANSIENT' } });
    const erasureId = failed.qualtrics.erasureRequestId;
    expect(erasureId).toMatch(/^OP-/);

    w.sim.faults.clear();
    expect((await call('POST', `/requests/${requestId}/retry`, {})).status).toBe(202);
    const done = await terminal(requestId);
    expect(done).toMatchObject({ status: 'COMPLETED', counts: { contactsRemaining: 0 } });
    expect(done.qualtrics.erasureRequestId).toBe(erasureId);
    expect(w.sim.counters().bySubject[emailSha256(deletionSubject)]?.erasureCreates).toBe(1);
    expect(w.sim.contactsWithEmail(deletionSubject)).toEqual([]);
  });

  it('leaked no canary into a log line, an event or a response', () => {
    expect(leaks.scanned.log).toBeGreaterThan(20);
    expect(leaks.scanned.event).toBeGreaterThan(0);
    expect(leaks.hits).toEqual([]);
  });
});

describe('qualtrics-dsr retry', () => {
  const subject = canaryEmail('cliaccess');
  const root = mkdtempSync(join(tmpdir(), 'qdsr-redrive-'));
  let sim: Simulator;
  afterAll(async () => {
    await sim?.close();
    rmSync(root, { recursive: true, force: true });
  });
  beforeAll(async () => {
    sim = await startSimulator({ timeScale: SCALE, seed: canarySeed([subject]), clients: [CANARY_CLIENT] });
  });

  // Against "another Qualtrics" (the simulator by URL), with the canary client and every log line on stdout.
  const env = () =>
    cleanEnv({ QUALTRICS_BASE_URL: sim.url, ...CANARY_CLIENT_ENV, POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  const common = ['--data-dir', join(root, 'data'), '--wait-scale', String(SCALE), '--json'];
  /** The summary among the log lines (runCli has scanned all of stdout and stderr for the canaries). */
  const summaryOf = (stdout: string) =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Doc)
      .find((doc) => doc.requestId && doc.type && doc.level === undefined);

  it('resumes a FAILED access request: same job, COMPLETED, the bundle on disk verifies', async () => {
    sim.faults.set('getCustomerDataRequest', { status: 500 });
    const first = await runCli(['access', subject, '--out', join(root, 'out'), ...common], env());
    expect(first.code, first.stderr).toBe(1);
    const failed = summaryOf(first.stdout)!;
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'QUALTRICS_TRANSIENT' } });
    const jobId = failed.qualtrics.customerDataRequestId;
    expect(jobId).toMatch(/\S/);
    expect(first.stdout).toContain('"service":"qualtrics-dsr"'); // the step logs were there to scan

    sim.faults.clear();
    const again = await runCli(['retry', failed.requestId, '--out', join(root, 'out'), ...common], env());
    expect(again.code, again.stderr).toBe(0);
    const done = summaryOf(again.stdout)!;
    expect(done).toMatchObject({
      requestId: failed.requestId,
      status: 'COMPLETED',
      counts: { contactsFound: 2 },
    });
    expect(done.qualtrics.customerDataRequestId).toBe(jobId);
    expect(sim.counters().bySubject[emailSha256(subject)]?.customerDataCreates).toBe(1);
    const dir = done.export.localDir;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: Array<{ key: string; bytes: number; sha256: string }>;
    };
    for (const f of manifest.files) {
      const local = join(dir, f.key.slice(`exports/${failed.requestId}/`.length));
      expect(existsSync(local), f.key).toBe(true);
      expect(sha256(readFileSync(local)), f.key).toBe(f.sha256);
    }

    // A COMPLETED request is not retried: bad input, nothing changes.
    const twice = await runCli(['retry', failed.requestId, ...common], env());
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/NOT_RETRYABLE: .*only a FAILED request, or an interrupted one/);
  });
});
