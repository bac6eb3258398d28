import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { type Simulator, startSimulator } from '../../local/simulator';
import { cleanEnv } from '../cli/run-cli';
import { CANARY_CLIENT, CANARY_CLIENT_ENV, canaryEmail, canarySeed } from '../support/canaries';
import { assertNoLeaks, type Proc, spawnCli, startServe, until } from './processes';

/**
 * README "Stopping and crash recovery", with the real engine in real processes: a `serve` or a
 * CLI run killed (-9) or stopped (Ctrl-C) while its requests wait on Qualtrics leaves them
 * unfinished; the next `serve`, `retry` or `sweep` completes each with the Qualtrics job it had
 * (one create per subject, counted by the simulator, which lives in this process). A full disk
 * under a bundle write fails the request (retryable), never the process.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-crash-'));
const tags = ['crasha1', 'crasha2', 'crashd1', 'crashd2', 'clikill', 'cliint', 'fulldisk'] as const;
const subject = Object.fromEntries(tags.map((t) => [t, canaryEmail(t)])) as Record<
  (typeof tags)[number],
  string
>;
let sim: Simulator;
const procs: Proc[] = [];
beforeAll(async () => {
  // A customer-data job lasts 2 s, an erasure 3 s: long enough to kill a process while it waits.
  sim = await startSimulator({
    timeScale: 0.1,
    seed: canarySeed(Object.values(subject)),
    clients: [CANARY_CLIENT],
  });
});
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});

const env = () => cleanEnv({ QUALTRICS_BASE_URL: sim.url, ...CANARY_CLIENT_ENV });
const WAIT = ['--wait-scale', '0.1'];
const track = <P extends Proc>(p: P): P => {
  procs.push(p);
  return p;
};

interface Doc {
  requestId: string;
  type: string;
  status: string;
  qualtrics: { customerDataRequestId?: string; erasureRequestId?: string; fileIds?: string[] };
  timeline: Array<{ step: string }>;
  error: { code: string; message: string } | null;
}

async function getDoc(url: string, requestId: string): Promise<Doc> {
  return (await (await fetch(`${url}/requests/${requestId}`)).json()) as Doc;
}

async function submit(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { requestId: string }).requestId;
}

/** Waiting on its Qualtrics job, whose id is recorded. */
const waitingWithJob = (d: Doc) =>
  d.status === 'WAITING_ON_QUALTRICS' &&
  Boolean(d.qualtrics.customerDataRequestId ?? d.qualtrics.erasureRequestId);
const ended = (d: Doc) => d.status === 'COMPLETED' || d.status === 'FAILED';

/** The owner the data dir's owner.json names. */
function ownerOf(dataDir: string): { pid: number; apiUrl: string } | undefined {
  const file = join(dataDir, 'owner.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

const creates = (email: string) => {
  const c = sim.counters().bySubject[emailSha256(email)];
  return { customerData: c?.customerDataCreates ?? 0, erasure: c?.erasureCreates ?? 0 };
};

describe('kill -9 of serve', () => {
  const dataDir = join(root, 'serve');

  it('a restarted serve completes every request it left waiting on Qualtrics, each with its one job', async () => {
    const first = track(await startServe(dataDir, env(), WAIT));
    const ids = {
      a1: await submit(first.url, { type: 'access', email: subject.crasha1 }),
      a2: await submit(first.url, { type: 'access', email: subject.crasha2 }),
      d1: await submit(first.url, { type: 'deletion', email: subject.crashd1 }),
      d2: await submit(first.url, { type: 'deletion', email: subject.crashd2 }),
    };
    const before = new Map<string, Doc>();
    for (const id of Object.values(ids))
      before.set(id, await until(() => getDoc(first.url, id), waitingWithJob));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    // Its owner.json stays behind, naming a dead process: ignored from now on.
    expect(ownerOf(dataDir)?.pid).toBe(first.pid);

    const second = track(await startServe(dataDir, env(), WAIT));
    await second.waitForStderr(/sweep: resumed 4 stalled request\(s\)/);
    for (const [id, was] of before) {
      const doc = await until(() => getDoc(second.url, id), ended);
      expect(doc.status, JSON.stringify(doc.error)).toBe('COMPLETED');
      // The job it had before the kill, polled to its end: never a second one.
      expect(doc.qualtrics).toMatchObject(was.qualtrics);
      expect(doc.timeline.map((t) => t.step)).toContain('RESUMED');
    }
    for (const email of [subject.crasha1, subject.crasha2])
      expect(creates(email)).toEqual({ customerData: 1, erasure: 0 });
    for (const email of [subject.crashd1, subject.crashd2])
      expect(creates(email)).toEqual({ customerData: 0, erasure: 1 });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    assertNoLeaks(procs, Object.values(subject));
  });
});

describe('a CLI run', () => {
  const dataDir = join(root, 'cli');

  /** The CLI run's request, waiting on its job, seen through the run's own local API. */
  async function waitingRequest(run: Proc): Promise<Doc> {
    const [, requestId] = await run.waitForStderr(/request ([0-9a-f-]{36}): /);
    const owner = await until(
      async () => ownerOf(dataDir),
      (o) => o?.pid === run.pid,
    );
    return until(() => getDoc(owner!.apiUrl, requestId!), waitingWithJob);
  }

  it('killed (-9) while waiting on Qualtrics: retry completes it with its one job, and copies the bundle', async () => {
    const run = track(spawnCli(['access', subject.clikill, '--data-dir', dataDir, ...WAIT], env()));
    const was = await waitingRequest(run);
    run.child.kill('SIGKILL');
    expect(await run.exited).toBeNull();

    const out = join(root, 'cli-out');
    const retry = track(
      spawnCli(['retry', was.requestId, '--json', '--out', out, '--data-dir', dataDir, ...WAIT], env()),
    );
    expect(await retry.exited, retry.stderr()).toBe(0);
    const summary = JSON.parse(retry.stdout());
    expect(summary).toMatchObject({
      requestId: was.requestId,
      status: 'COMPLETED',
      counts: { contactsFound: 2 },
    });
    expect(summary.qualtrics.customerDataRequestId).toBe(was.qualtrics.customerDataRequestId);
    expect(existsSync(join(out, was.requestId, 'manifest.json'))).toBe(true);
    expect(creates(subject.clikill)).toEqual({ customerData: 1, erasure: 0 });
  });

  it('stopped with Ctrl-C: exits 130, the request left unfinished (not FAILED); sweep completes it', async () => {
    const run = track(spawnCli(['delete', subject.cliint, '--json', '--data-dir', dataDir, ...WAIT], env()));
    const was = await waitingRequest(run);
    run.child.kill('SIGINT');
    // The grace period would let the erasure finish: a second Ctrl-C stops at once.
    await run.waitForStderr(/stopping: waiting up to/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(JSON.parse(run.stdout())).toEqual({
      requestId: was.requestId,
      type: 'deletion',
      status: 'WAITING_ON_QUALTRICS',
      interrupted: true,
    });
    expect(run.stderr()).toContain(`qualtrics-dsr retry ${was.requestId}`);
    expect(ownerOf(dataDir)).toBeUndefined();

    const status = track(spawnCli(['status', was.requestId, '--json', '--data-dir', dataDir], env()));
    expect(await status.exited).toBe(0);
    const left = JSON.parse(status.stdout()) as Doc;
    expect(left).toMatchObject({ status: 'WAITING_ON_QUALTRICS', error: null });
    expect(left.timeline.map((t) => t.step)).toContain('INTERRUPTED');

    const sweep = track(spawnCli(['sweep', '--json', '--data-dir', dataDir, ...WAIT], env()));
    expect(await sweep.exited, sweep.stderr()).toBe(0);
    expect(JSON.parse(sweep.stdout())).toMatchObject({ resumed: [was.requestId], failed: [] });
    // The sweep's process ran the resumed request to its end before it let go of the data dir.
    const after = track(spawnCli(['status', was.requestId, '--json', '--data-dir', dataDir], env()));
    expect(await after.exited).toBe(0);
    expect(JSON.parse(after.stdout())).toMatchObject({ status: 'COMPLETED', qualtrics: was.qualtrics });
    expect(creates(subject.cliint)).toEqual({ customerData: 0, erasure: 1 });
    assertNoLeaks(procs, Object.values(subject));
  });
});

describe('a full disk under a bundle write', () => {
  const dataDir = join(root, 'full');

  it('fails the request with the reason, retryable; the process goes on', async () => {
    const serve = track(await startServe(dataDir, env(), ['--wait-scale', '0.01']));
    // The first download answers after 3 s: time to fill the disk under the files it will write.
    sim.faults.set('downloadCustomerDataFile', { delayMs: 3_000, times: 1 });
    const id = await submit(serve.url, { type: 'access', email: subject.fulldisk });
    const withFiles = await until(
      () => getDoc(serve.url, id),
      (d) => (d.qualtrics.fileIds?.length ?? 0) > 0 || ended(d),
    );
    // Each file's object is /dev/full, which answers every write with ENOSPC, as a full disk does
    // (written, never read, before the download step stores it).
    const files = join(dataDir, 's3', 'qdsr-exports', 'exports', id, 'qualtrics', 'customer-data');
    mkdirSync(files, { recursive: true });
    const full: string[] = [];
    for (const fileId of withFiles.qualtrics.fileIds ?? []) {
      for (const ext of ['json', 'csv', 'zip', 'bin']) {
        const path = join(files, `${encodeURIComponent(fileId)}.${ext}._S3rver_object`);
        symlinkSync('/dev/full', path);
        full.push(path);
      }
    }
    const failed = await until(() => getDoc(serve.url, id), ended);
    expect(failed.status).toBe('FAILED');
    expect(failed.error, JSON.stringify(failed.error)).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(failed.error?.message).toContain('InsufficientStorage');
    // The server is alive and serving.
    expect(serve.child.exitCode).toBeNull();
    expect((await fetch(`${serve.url}/requests/${id}`)).status).toBe(200);

    for (const path of full) rmSync(path);
    const retry = await fetch(`${serve.url}/requests/${id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect(await until(() => getDoc(serve.url, id), ended)).toMatchObject({ status: 'COMPLETED' });
    expect(creates(subject.fulldisk)).toEqual({ customerData: 1, erasure: 0 });
    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    assertNoLeaks(procs, Object.values(subject));
  });
});
