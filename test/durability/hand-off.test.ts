import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { type Simulator, startSimulator } from '../../local/simulator';
import { cleanEnv, withDataDirStore } from '../cli/run-cli';
import { CANARY_CLIENT, CANARY_CLIENT_ENV, canaryEmail, canarySeed } from '../support/canaries';
import { assertNoLeaks, type Proc, spawnCli, startServe, until } from './processes';

/**
 * README "Several processes, one data dir": the process that opens a data dir owns it and serves
 * its API; a command run meanwhile is handed to it — real processes on one data dir, against a
 * simulator in this process (so its counters outlive them).
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-handoff-'));
const subjects = {
  served: canaryEmail('handoffa'),
  held: canaryEmail('handoffb'),
  second: canaryEmail('handoffc'),
  importedA: canaryEmail('handoffd'),
  importedB: canaryEmail('handoffe'),
  failing: canaryEmail('handofff'),
};
let sim: Simulator;
const procs: Proc[] = [];
beforeAll(async () => {
  // Jobs last a couple of seconds, so a run holds its data dir long enough to hand work to it.
  sim = await startSimulator({
    timeScale: 0.1,
    seed: canarySeed(Object.values(subjects)),
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
const run = (args: string[]) => {
  const p = spawnCli(args, env());
  procs.push(p);
  return p;
};

function verifyBundle(dir: string, requestId: string): number {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    files: Array<{ key: string; sha256: string }>;
  };
  for (const f of manifest.files) {
    const bytes = readFileSync(join(dir, f.key.slice(`exports/${requestId}/`.length)));
    expect(createHash('sha256').update(bytes).digest('hex'), f.key).toBe(f.sha256);
  }
  return manifest.files.length;
}

describe('while serve owns the data dir', () => {
  const dataDir = join(root, 'served');
  let serve: Proc & { url: string };
  let failedId: string;
  beforeAll(async () => {
    failedId = await withDataDirStore(dataDir, async (store) => {
      const { record } = await store.create({ source: 'cli', type: 'deletion', email: subjects.failing });
      await store.fail(record.requestId, { code: 'INTERRUPTED', message: 'stopped' });
      return record.requestId;
    });
    serve = await startServe(dataDir, env(), WAIT);
    procs.push(serve);
  });

  it('advertises its API in owner.json (0600)', () => {
    const owner = JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8'));
    expect(owner).toEqual({ pid: serve.pid, apiUrl: serve.url, startedAt: expect.any(String) });
    expect(statSync(join(dataDir, 'owner.json')).mode & 0o777).toBe(0o600);
  });

  it('access from a second process is handed to serve: run there (source cli), bundle copied here', async () => {
    const out = join(root, 'served-out');
    const a = run(['access', subjects.served, '--json', '--out', out, '--data-dir', dataDir, ...WAIT]);
    expect(await a.exited, a.stderr()).toBe(0);
    expect(a.stderr().split('\n')[0]).toContain(
      `handed to the qualtrics-dsr process that holds ${dataDir} (pid ${serve.pid}`,
    );
    const summary = JSON.parse(a.stdout());
    expect(summary).toMatchObject({ type: 'access', status: 'COMPLETED', counts: { contactsFound: 2 } });
    expect(summary.export).toEqual({
      bucket: 'qdsr-exports',
      prefix: `exports/${summary.requestId}/`,
      localDir: join(out, summary.requestId),
    });
    expect(verifyBundle(summary.export.localDir, summary.requestId)).toBe(summary.counts.files);
    const doc = (await (await fetch(`${serve.url}/requests/${summary.requestId}`)).json()) as {
      source: string;
    };
    expect(doc.source).toBe('cli');
  });

  it('status, list, find and records from a second process answer while serve runs', async () => {
    const list = run(['list', '--json', '--data-dir', dataDir]);
    expect(await list.exited, list.stderr()).toBe(0);
    const [request] = JSON.parse(list.stdout()).requests as Array<{ requestId: string }>;
    expect(request).toBeDefined();
    const status = run(['status', request!.requestId, '--json', '--data-dir', dataDir]);
    const find = run(['find', subjects.served, '--json', '--data-dir', dataDir]);
    const records = run(['records', '--data-dir', dataDir]);
    expect([await status.exited, await find.exited, await records.exited]).toEqual([0, 0, 0]);
    expect(JSON.parse(status.stdout())).toMatchObject({ requestId: request!.requestId, status: 'COMPLETED' });
    expect(JSON.parse(find.stdout()).requests.map((r: { requestId: string }) => r.requestId)).toEqual([
      request!.requestId,
    ]);
    expect(records.stdout()).toContain(request!.requestId);
    // serve still owns the data dir: no command took it over.
    expect(JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8')).pid).toBe(serve.pid);
    expect(serve.child.exitCode).toBeNull();
  });

  it('import, retry --failed, metrics and evidence from a second process are handed to serve', async () => {
    const csv = join(root, 'import.csv');
    writeFileSync(csv, `type,email\naccess,${subjects.importedA}\ndeletion,${subjects.importedB}\n`);
    const imported = run(['import', csv, '--json', '--data-dir', dataDir, ...WAIT]);
    expect(await imported.exited, imported.stderr()).toBe(0);
    expect(imported.stderr().split('\n')[0]).toContain(`(pid ${serve.pid}`);
    expect(imported.stderr()).toMatch(/2\/2 row\(s\) submitted/);
    expect(imported.stderr()).toMatch(/2\/2 request\(s\) done/);
    const { results } = JSON.parse(imported.stdout()) as {
      results: Array<{ line: number; requestId: string; status: string }>;
    };
    expect(results.map((r) => [r.line, r.status])).toEqual([
      [2, 'COMPLETED'],
      [3, 'COMPLETED'],
    ]);
    for (const r of results) {
      const doc = (await (await fetch(`${serve.url}/requests/${r.requestId}`)).json()) as { source: string };
      expect(doc.source).toBe('import');
    }

    // The deletion left FAILED before serve started: retry --failed, handed over, completes it.
    const retried = run([
      'retry',
      '--failed',
      '--error-code',
      'INTERRUPTED',
      '--json',
      '--data-dir',
      dataDir,
      ...WAIT,
    ]);
    expect(await retried.exited, retried.stderr()).toBe(0);
    expect(JSON.parse(retried.stdout())).toEqual({ retried: [failedId], skipped: [] });
    expect(retried.stderr()).toMatch(/1\/1 retried request\(s\) done/);
    const after = (await (await fetch(`${serve.url}/requests/${failedId}`)).json()) as {
      status: string;
    };
    expect(after.status).toBe('COMPLETED');
    expect(sim.counters().bySubject[emailSha256(subjects.failing)]?.erasureCreates).toBe(1);

    const year = String(new Date().getUTCFullYear());
    const metrics = run(['metrics', '--year', year, '--json', '--data-dir', dataDir]);
    const evidence = run(['evidence', failedId, '--data-dir', dataDir]);
    expect([await metrics.exited, await evidence.exited]).toEqual([0, 0]);
    expect(JSON.parse(metrics.stdout())).toEqual(
      await (await fetch(`${serve.url}/reports/metrics?year=${year}`)).json(),
    );
    expect(JSON.parse(evidence.stdout())).toMatchObject({ requestId: failedId, type: 'deletion' });
    expect(JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8')).pid).toBe(serve.pid);
  });

  it('refuses a second serve on its data dir with exit 3 naming the holder', async () => {
    const second = run(['serve', '--port', '0', '--data-dir', dataDir]);
    expect(await second.exited).toBe(3);
    expect(second.stderr()).toContain(`held by another qualtrics-dsr process (pid ${serve.pid}`);
  });

  it('on SIGINT removes owner.json', async () => {
    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
    assertNoLeaks(procs, Object.values(subjects));
  });
});

describe('while a CLI run owns the data dir', () => {
  const dataDir = join(root, 'held');

  it('a new request from a second process is handed to the run, which stays until it is done', async () => {
    // The run's first poll takes 4 s: it holds the data dir while the second command starts.
    sim.faults.set('getCustomerDataRequest', { delayMs: 4_000, times: 1 });
    const first = run([
      'access',
      subjects.held,
      '--json',
      '--out',
      join(root, 'held-out'),
      '--data-dir',
      dataDir,
      ...WAIT,
    ]);
    // The run owns the data dir once it advertises its API.
    const owner = await until(
      async () =>
        existsSync(join(dataDir, 'owner.json'))
          ? JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8'))
          : undefined,
      (o) => o?.pid === first.pid,
    );
    expect(owner.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const second = run(['delete', subjects.second, '--json', '--data-dir', dataDir, ...WAIT]);
    const [firstCode, secondCode] = await Promise.all([first.exited, second.exited]);
    expect(secondCode, second.stderr()).toBe(0);
    expect(firstCode, first.stderr()).toBe(0);
    expect(second.stderr().split('\n')[0]).toContain(`(pid ${first.pid}`);
    expect(JSON.parse(second.stdout())).toMatchObject({
      type: 'deletion',
      status: 'COMPLETED',
      dryRun: false,
      subjectFound: true,
      verification: { contactsRemaining: 0 },
    });
    expect(JSON.parse(first.stdout())).toMatchObject({ type: 'access', status: 'COMPLETED' });
    const counts = sim.counters().bySubject;
    expect(counts[emailSha256(subjects.held)]?.customerDataCreates).toBe(1);
    expect(counts[emailSha256(subjects.second)]?.erasureCreates).toBe(1);
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
    assertNoLeaks(procs, Object.values(subjects));
  });

  it('an owner.json left by a process that died is ignored', async () => {
    writeFileSync(
      join(dataDir, 'owner.json'),
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        apiUrl: 'http://127.0.0.1:9',
        startedAt: new Date().toISOString(),
      }),
    );
    const list = run(['list', '--json', '--data-dir', dataDir]);
    expect(await list.exited, list.stderr()).toBe(0);
    expect(JSON.parse(list.stdout()).requests).toHaveLength(2);
    // It owned the data dir for its run and removed the file when it let go.
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
  });
});
