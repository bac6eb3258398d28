import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { emailSha256 } from '../../lambdas/core/privacy';
import { startLocalAws } from '../../local/aws';
import { SEEDED_SUBJECT, SIMULATOR_CLIENT, type Simulator, startSimulator } from '../../local/simulator';
import { CANARY_CLIENT, CANARY_EMAIL, CANARY_SECRET, canarySeed } from '../support/canaries';
import { BIN, cleanEnv, leakForms, runCli } from './run-cli';

/**
 * The CLI contract (README "The CLI"), exercised as a user runs it (a child process per command):
 * JSON summaries, the bundle on disk, exit codes, and no raw email on stdout or stderr.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-cli-'));
const dataDir = join(root, 'data');
const outDir = join(root, 'out');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectNoEmail(text: string, email = SEEDED_SUBJECT): void {
  for (const form of leakForms(email)) expect(text).not.toContain(form);
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function recordedRequests(dir: string): Promise<number> {
  const aws = await startLocalAws({ dataDir: dir });
  aws.applyEnv();
  try {
    const out = await dynamoDocumentClient().send(
      new ScanCommand({ TableName: aws.names.requestsTable, Select: 'COUNT' }),
    );
    return out.Count ?? 0;
  } finally {
    await aws.close();
  }
}

describe('qualtrics-dsr against the built-in simulator', () => {
  let accessId: string;

  it('access --json --out: one COMPLETED summary, and a bundle on disk that verifies against its manifest', async () => {
    const r = await runCli([
      'access',
      SEEDED_SUBJECT.toUpperCase(),
      '--json',
      '--out',
      outDir,
      '--data-dir',
      dataDir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      type: 'access',
      status: 'COMPLETED',
      counts: { directoriesSearched: 4, contactsFound: 4, files: 6 },
      export: { bucket: 'qdsr-exports', prefix: `exports/${summary.requestId}/` },
    });
    expect(summary.qualtrics.customerDataRequestId).toMatch(/\S/);
    expect(summary.qualtrics.fileIds.length).toBeGreaterThan(0);
    // Which Qualtrics it ran against: the summary and the manifest say so.
    expect(summary.qualtrics.target).toBe('simulator');
    accessId = summary.requestId;
    const dir = join(outDir, accessId);
    expect(summary.export.localDir).toBe(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.subject.emailSha256).toBe(emailSha256(SEEDED_SUBJECT));
    expect(manifest.qualtrics.target).toBe('simulator');
    expect(manifest.files).toHaveLength(summary.counts.files);
    for (const f of manifest.files) {
      const local = join(dir, f.key.slice(`exports/${accessId}/`.length));
      expect(sha256File(local), f.key).toBe(f.sha256);
      expect(readFileSync(local).length).toBe(f.bytes);
    }
    // The first progress line names the Qualtrics it talks to.
    expect(r.stderr.split('\n')[0]).toMatch(/Qualtrics: the built-in simulator at http:\/\/127\.0\.0\.1:\d+/);
    expectNoEmail(r.stdout + r.stderr);
  });

  it('status <id> --json prints the status document of an earlier run (persisted under the data dir)', async () => {
    const r = await runCli(['status', accessId, '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      requestId: accessId,
      type: 'access',
      status: 'COMPLETED',
      maskedEmail: 's***@example.com',
      qualtrics: { target: 'simulator' },
    });
    expect(doc.timeline.map((t: { step: string }) => t.step)).toContain('STARTED');
    expectNoEmail(r.stdout + r.stderr);
  });

  it('delete --dry-run reports the subject found and leaves every contact in place', async () => {
    const r = await runCli(['delete', SEEDED_SUBJECT, '--dry-run', '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      type: 'deletion',
      status: 'COMPLETED',
      dryRun: true,
      subjectFound: true,
      verification: { contactsRemaining: 4 },
    });
    expect(summary.qualtrics.erasureRequestId).toMatch(/^OP-/);
    expect(summary.qualtrics.target).toBe('simulator');
    expect(JSON.stringify(summary)).not.toContain('emailsNotFound');
    expectNoEmail(r.stdout + r.stderr);
  });

  it('delete --dry-run without --json says what would be erased, not what remains', async () => {
    const r = await runCli(['delete', SEEDED_SUBJECT, '--dry-run', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('would be erased: 4 contact(s) (dry run: nothing was erased)');
    expect(r.stdout).not.toContain('contacts remaining');
    // Progress named the erasure it waited on (stderr is not a TTY here: one line per poll).
    expect(r.stderr).toMatch(/waiting on Qualtrics: erasure \(dry run\) OP-[\w-]+: .*waited \d+s/);
    expectNoEmail(r.stdout + r.stderr);
  });

  it('delete completes only once Qualtrics confirms the erasure, and no contact remains', async () => {
    const r = await runCli(['delete', SEEDED_SUBJECT, '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'COMPLETED',
      dryRun: false,
      subjectFound: true,
      qualtrics: { status: 'Completed' },
      verification: { contactsRemaining: 0 },
    });
    expectNoEmail(r.stdout + r.stderr);
  });

  it('health --json: brand, user and scope check', async () => {
    const r = await runCli(['health', '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      status: 'ok',
      target: 'simulator',
      qualtrics: { brandId: expect.any(String) },
    });
    expect(doc.scopes.missing).toEqual([]);
  });

  it.each([
    [['access', 'not-an-email'], /invalid request: email is not/],
    [['access', 'a b@example.com', '--json'], /invalid request: email contains whitespace/],
    [['delete', `${'x'.repeat(250)}@example.com`], /invalid request: email is longer/],
    [['status', '../../etc/passwd'], /unknown request id/],
    [['status', '00000000-0000-4000-8000-000000000000'], /unknown request id/],
    [['bogus'], /unknown command/],
    [['access', SEEDED_SUBJECT, '--no-such-flag'], /unknown option/],
    [['access'], /give the subject's email, or --email-file FILE/],
    [['access', SEEDED_SUBJECT, '--wait-scale', '-1'], /--wait-scale must be a positive number/],
    [['serve', '--port', '99999'], /port number/],
  ])('bad input %j → exit 2 with a one-line reason, nothing recorded', async (args, reason) => {
    const before = await recordedRequests(dataDir);
    const r = await runCli([...args, '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stdout).toBe('');
    expect(await recordedRequests(dataDir)).toBe(before);
  });
});

describe('qualtrics-dsr against another Qualtrics server (QUALTRICS_BASE_URL)', () => {
  let sim: Simulator;
  const dir = join(root, 'tenant-data');
  // The canary subject (seeded in two directories), in mixed case; the canary client secret.
  const subject = 'ZqCanary.Subject@Example.ORG';

  beforeAll(async () => {
    // Pages every list, expires tokens within seconds, and answers 429/503 now and then.
    sim = await startSimulator({
      timeScale: 0.01,
      pageSizeCap: 1,
      tokenTtlSeconds: 200,
      randomSeed: 7,
      seed: canarySeed(),
      clients: [CANARY_CLIENT],
    });
    sim.faults.set('*', { status: 503, probability: 0.1 });
    sim.faults.set('listDirectories', { status: 429, probability: 0.2 });
  });
  afterAll(() => sim.close());

  const env = (secret: string = CANARY_SECRET) =>
    cleanEnv({
      QUALTRICS_BASE_URL: sim.url,
      QUALTRICS_CLIENT_ID: CANARY_CLIENT.clientId,
      QUALTRICS_CLIENT_SECRET: secret,
      // Inherited from somewhere: only the runtime's own simulator is called "simulator".
      QDSR_SIMULATOR_ORIGIN: new URL(sim.url).origin,
    });

  it('access and delete work unchanged, with exactly one customer-data job and one erasure per request', async () => {
    const access = await runCli(
      [
        'access',
        subject,
        '--json',
        '--out',
        join(root, 'tenant-out'),
        '--data-dir',
        dir,
        '--wait-scale',
        '0.01',
      ],
      env(),
    );
    expect(access.code, access.stderr).toBe(0);
    // Which Qualtrics it ran against: the origin, not "simulator" (this one is not the runtime's).
    expect(JSON.parse(access.stdout)).toMatchObject({
      status: 'COMPLETED',
      counts: { contactsFound: 2 },
      qualtrics: { target: new URL(sim.url).origin },
    });
    expect(subject.toLowerCase()).toBe(CANARY_EMAIL);
    expect(access.stderr.split('\n')[0]).toContain(`Qualtrics: ${sim.url} (from QUALTRICS_BASE_URL)`);
    const del = await runCli(['delete', subject, '--json', '--data-dir', dir, '--wait-scale', '0.01'], env());
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({
      status: 'COMPLETED',
      verification: { contactsRemaining: 0 },
      qualtrics: { target: new URL(sim.url).origin },
    });
    const counts = sim.counters();
    expect(counts.bySubject[emailSha256(subject)]).toMatchObject({
      customerDataCreates: 1,
      erasureCreates: 1,
    });
    expect(counts.tokensIssued).toBeGreaterThan(1);
    const faults = Object.values(counts.byEndpoint).reduce((n, e) => n + e.status5xx + e.status429, 0);
    expect(faults).toBeGreaterThan(0);
    expectNoEmail(access.stdout + access.stderr + del.stdout + del.stderr, subject);
  });

  it('wrong credentials → exit 3 naming the setting, without the secret or a token', async () => {
    const secret = 'wrong-secret-9f3c1a';
    for (const cmd of [['health'], ['access', subject]]) {
      const r = await runCli([...cmd, '--data-dir', dir], env(secret));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/QUALTRICS_CLIENT_SECRET/);
      expect(r.stderr + r.stdout).not.toContain(secret);
      expect(r.stderr).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    }
  });

  it('an unreachable Qualtrics → exit 3 naming QUALTRICS_BASE_URL', async () => {
    const r = await runCli(
      ['health', '--data-dir', dir],
      cleanEnv({
        QUALTRICS_BASE_URL: 'http://127.0.0.1:9',
        QUALTRICS_CLIENT_ID: 'x',
        QUALTRICS_CLIENT_SECRET: 'y',
      }),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/QUALTRICS_BASE_URL/);
  });

  it('a bad QDSR_LOCAL_CONCURRENCY → exit 3 naming it, before any request is recorded', async () => {
    const r = await runCli(['access', subject, '--data-dir', join(root, 'bad-concurrency')], {
      ...env(),
      QDSR_LOCAL_CONCURRENCY: '0',
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/QDSR_LOCAL_CONCURRENCY/);
    expect(r.stderr).not.toMatch(/request [0-9a-f]{8}-/);
  });

  it('a missing setting → exit 3 naming it', async () => {
    const r = await runCli(['health', '--data-dir', dir], cleanEnv({ QUALTRICS_BASE_URL: sim.url }));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/QUALTRICS_CLIENT_ID/);
  });
});

describe('never a silent simulator', () => {
  const dir = join(root, 'no-target');
  const requestId = '6f1c3a9e-2b7d-4c1e-9a5f-0d8b7e6c5a41';

  it('OAuth credentials but neither QUALTRICS_BASE_URL nor QUALTRICS_DATACENTER: every command exits 3 naming both', async () => {
    // A misspelled datacenter (QUALTRICS_DC) would otherwise run against the built-in simulator.
    const env = cleanEnv({
      QUALTRICS_DC: 'iad1',
      QUALTRICS_CLIENT_ID: 'id',
      QUALTRICS_CLIENT_SECRET: 'not-a-secret-7c',
    });
    const commands = [
      ['access', SEEDED_SUBJECT],
      ['delete', SEEDED_SUBJECT, '--dry-run'],
      ['status', requestId],
      ['retry', requestId],
      ['health'],
      ['serve', '--port', '0'],
      ['simulator', '--port', '0'],
    ];
    const runs = await Promise.all(
      commands.map((args) => runCli([...args, ...(args[0] === 'simulator' ? [] : ['--data-dir', dir])], env)),
    );
    for (const [i, r] of runs.entries()) {
      const label = commands[i]?.[0];
      expect(r.code, `${label}: ${r.stderr}`).toBe(3);
      expect(r.stderr, label).toMatch(/QUALTRICS_BASE_URL/);
      expect(r.stderr, label).toMatch(/QUALTRICS_DATACENTER/);
      // The typo is named, with the setting it most likely meant.
      expect(r.stderr, label).toContain('QUALTRICS_DC is not a qualtrics-dsr setting');
      expect(r.stderr, label).toContain('did you mean QUALTRICS_DATACENTER?');
      expect(r.stderr, label).not.toMatch(/\bat .+\.(ts|js):\d+/);
      expect(r.stdout, label).toBe('');
    }
    expect(await recordedRequests(dir)).toBe(0);
  });
});

describe('qualtrics-dsr simulator', () => {
  it('serves the Qualtrics API on its own until SIGINT; health --json against it exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'simulator', '--port', '0'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => {
        err += String(d);
        const m = /QUALTRICS_BASE_URL=(http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`simulator exited (${code}):\n${err}`)));
    });
    try {
      const r = await runCli(
        ['health', '--json', '--data-dir', join(root, 'sim-data')],
        cleanEnv({
          QUALTRICS_BASE_URL: url,
          QUALTRICS_CLIENT_ID: SIMULATOR_CLIENT.clientId,
          QUALTRICS_CLIENT_SECRET: SIMULATOR_CLIENT.clientSecret,
        }),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        status: 'ok',
        target: 'tenant',
        qualtrics: { origin: url },
      });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
