import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { startLocalAws } from '../../local/aws';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { EXPECTED_METRICS, METRICS_YEAR, seedMetricsLedger } from '../support/metrics-ledger';
import { leakForms, runCli } from './run-cli';

/**
 * `metrics` and `evidence` as a user runs them (a child process each), on a data dir: the metrics
 * of a seeded ledger as JSON, a table and Markdown; a deletion's evidence on stdout or in a file;
 * refusals with exit 2; never an email in the output.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-reports-cli-'));
const dataDir = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const aws = await startLocalAws({ dataDir });
  aws.applyEnv();
  try {
    await seedMetricsLedger(aws.names.requestsTable);
  } finally {
    await aws.close();
  }
});

function expectNoEmail(text: string): void {
  for (const form of leakForms(SEEDED_SUBJECT)) expect(text).not.toContain(form);
  expect(text).not.toMatch(/metrics-\d+@/);
}

describe('qualtrics-dsr metrics', () => {
  it('--json: the document GET /reports/metrics answers, for the year asked', async () => {
    for (const [year, expected] of [
      [METRICS_YEAR, EXPECTED_METRICS.last],
      [METRICS_YEAR + 1, EXPECTED_METRICS.this],
    ] as const) {
      const r = await runCli(['metrics', '--year', String(year), '--json', '--data-dir', dataDir]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expected);
      expectNoEmail(r.stdout + r.stderr);
    }
  });

  it('a table by default, and --md a Markdown table to paste into a published report', async () => {
    const table = await runCli(['metrics', '--year', String(METRICS_YEAR), '--data-dir', dataDir]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^Requests received in ${METRICS_YEAR} +Received +Completed +Failed +Open`),
    );
    expect(lines[1]).toMatch(/^Requests to know \(access\) +7 +4 +1 +2 +8\.0 +12\.1$/);
    expect(lines[2]).toMatch(/^Requests to delete \(deletion\) +3 +3 +0 +0 +1\.0 +1\.7$/);

    const md = await runCli(['metrics', '--year', String(METRICS_YEAR), '--md', '--data-dir', dataDir]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout.split('\n').slice(0, 4)).toEqual([
      `| Privacy requests received in ${METRICS_YEAR} | Received | Completed | Failed | Open | Median days to respond | Mean days to respond |`,
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| Requests to know (access) | 7 | 4 | 1 | 2 | 8.0 | 12.1 |',
      '| Requests to delete (deletion) | 3 | 3 | 0 | 0 | 1.0 | 1.7 |',
    ]);
    const none = await runCli(['metrics', '--year', '2001', '--md', '--data-dir', dataDir]);
    expect(none.stdout).toContain('| Requests to delete (deletion) | 0 | 0 | 0 | 0 | – | – |');
  });

  it.each([
    [[]],
    [['--year', '26']],
    [['--year', '1999']],
    [['--year', 'next']],
    [['--year', '2025', '--md', '--json']],
  ])('refuses %j with exit 2', async (args) => {
    const r = await runCli(['metrics', ...args, '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('qualtrics-dsr evidence', () => {
  let deletionId: string;

  it('prints the evidence of a deletion, without the email', async () => {
    const del = await runCli(['delete', SEEDED_SUBJECT, '--dry-run', '--json', '--data-dir', dataDir]);
    expect(del.code, del.stderr).toBe(0);
    deletionId = JSON.parse(del.stdout).requestId;
    const r = await runCli(['evidence', deletionId, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      requestId: deletionId,
      type: 'deletion',
      subject: { emailSha256: emailSha256(SEEDED_SUBJECT) },
      qualtrics: { target: 'simulator' },
      subjectFound: true,
      searchOnly: true,
    });
    expectNoEmail(r.stdout + r.stderr);
  });

  it('--out FILE writes it owner-only', async () => {
    const file = join(root, 'evidence.json');
    const r = await runCli(['evidence', deletionId.toUpperCase(), '--out', file, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8')).requestId).toBe(deletionId);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('exit 2 for an access request, an unknown id and a malformed one', async () => {
    const access = await runCli([
      'access',
      SEEDED_SUBJECT,
      '--json',
      '--out',
      join(root, 'out'),
      '--data-dir',
      dataDir,
    ]);
    expect(access.code, access.stderr).toBe(0);
    const accessId = JSON.parse(access.stdout).requestId;
    for (const [id, reason] of [
      [accessId, /NO_EVIDENCE/],
      ['00000000-0000-4000-8000-000000000000', /unknown request id/],
      ['../../etc/passwd', /unknown request id/],
    ] as const) {
      const r = await runCli(['evidence', id, '--data-dir', dataDir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(reason);
      expect(r.stdout).toBe('');
    }
  });
});
