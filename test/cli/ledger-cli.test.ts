import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { RECORDS_CSV_HEADER } from '../../lambdas/core/ledger';
import { RequestStore } from '../../lambdas/core/request-store';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { runCli, withDataDirStore } from './run-cli';

/**
 * The ledger through the CLI as a user runs it (a child process per command, one data dir):
 * `access`/`delete` with the ledger flags, `list` (table, --json, --csv, filters), `find`,
 * `records`, `extend`, and bad input refused with exit 2 and nothing recorded. run-cli.ts fails a
 * run whose output carries an email given as an argument, in any form.
 */

const DAY = 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'qdsr-ledger-cli-'));
const dataDir = join(root, 'data');
const OTHER = 'ledger.open@example.com';
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);
const iso = (ms: number) => new Date(ms).toISOString();

interface Summary {
  requestId: string;
  type: string;
  status: string;
  jurisdiction: string;
  receivedAt: string;
  channel: string;
  source: string;
  dueAt: string;
  extendedDueAt: string | null;
  overdue: boolean;
  maskedEmail: string;
}

/** Opens the data dir in this process (no CLI may run meanwhile). */
const withStore = <T>(use: (store: RequestStore, table: string) => Promise<T>): Promise<T> =>
  withDataDirStore(dataDir, use);

const recordedItems = () =>
  withStore(async (_, table) => {
    const out = await dynamoDocumentClient().send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
    return out.Count ?? 0;
  });

async function listJson(...flags: string[]): Promise<Summary[]> {
  const r = await cli('list', '--json', ...flags);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { requests: Summary[] };
  expect(Object.keys(doc)).toEqual(['requests']);
  return doc.requests;
}

const ids = {} as Record<'access' | 'dryRun' | 'open' | 'late', string>;
const started = Date.now();
const accessReceived = iso(started - 10 * DAY);
/** The latest 31 January 10:00 UTC that has passed. */
const januaryYear =
  new Date(started).getUTCFullYear() -
  (Date.UTC(new Date(started).getUTCFullYear(), 0, 31, 10) > started ? 1 : 0);

beforeAll(async () => {
  // Two open requests, as another entry point would have recorded them.
  await withStore(async (store) => {
    const open = await store.create({
      type: 'deletion',
      email: OTHER,
      dryRun: true,
      jurisdiction: 'ccpa',
      receivedAt: iso(started - 5 * DAY),
      source: 'api',
    });
    const late = await store.create({
      type: 'deletion',
      email: OTHER,
      dryRun: true,
      jurisdiction: 'gdpr',
      receivedAt: iso(started - 40 * DAY),
      source: 'api',
    });
    ids.open = open.record.requestId;
    ids.late = late.record.requestId;
  });
});

describe('qualtrics-dsr and the ledger', () => {
  it('access and delete record --jurisdiction, --received-at and --channel, with source cli', async () => {
    const access = await cli(
      'access',
      SEEDED_SUBJECT,
      '--jurisdiction',
      'ccpa',
      '--channel',
      'email',
      '--received-at',
      accessReceived,
      '--json',
      '--out',
      join(root, 'out'),
    );
    expect(access.code, access.stderr).toBe(0);
    ids.access = JSON.parse(access.stdout).requestId;
    const del = await cli(
      'delete',
      SEEDED_SUBJECT.toUpperCase(),
      '--dry-run',
      '--jurisdiction',
      'uk-gdpr',
      '--received-at',
      `${januaryYear}-01-31T11:00:00+01:00`,
      '--json',
    );
    expect(del.code, del.stderr).toBe(0);
    ids.dryRun = JSON.parse(del.stdout).requestId;

    const all = await listJson();
    const leap = new Date(Date.UTC(januaryYear, 1, 29)).getUTCMonth() === 1;
    expect(all.find((r) => r.requestId === ids.access)).toMatchObject({
      status: 'COMPLETED',
      jurisdiction: 'ccpa',
      channel: 'email',
      source: 'cli',
      receivedAt: accessReceived,
      dueAt: iso(Date.parse(accessReceived) + 45 * DAY),
      outcome: 'data-provided',
    });
    expect(all.find((r) => r.requestId === ids.dryRun)).toMatchObject({
      status: 'COMPLETED',
      jurisdiction: 'uk-gdpr',
      channel: 'unspecified',
      source: 'cli',
      receivedAt: `${januaryYear}-01-31T10:00:00.000Z`,
      dueAt: `${januaryYear}-02-${leap ? 29 : 28}T10:00:00.000Z`,
      outcome: 'dry-run',
    });
    // Every page in one document, newest receipt first.
    expect(all.map((r) => r.requestId)).toEqual([ids.open, ids.access, ids.late, ids.dryRun]);
  });

  it('list prints a table: due date, days left or OVERDUE, masked email', async () => {
    const r = await cli('list');
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^id\s+type\s+status\s+jurisdiction\s+received \(UTC\)\s+due \(UTC\)\s+days left\s+email$/,
    );
    expect(rows).toHaveLength(4);
    const row = (id: string) => rows.find((line) => line.startsWith(id)) ?? '';
    expect(row(ids.late)).toMatch(/deletion\s+RECEIVED\s+gdpr\s+.*\s+OVERDUE\s+l\*\*\*@example\.com$/);
    expect(row(ids.open)).toMatch(/deletion\s+RECEIVED\s+ccpa\s+.*\s+40\s+l\*\*\*@example\.com$/);
    expect(row(ids.access)).toMatch(/access\s+COMPLETED\s+ccpa\s+.*\s+done\s+s\*\*\*@example\.com$/);
  });

  it('list filters by status, type, jurisdiction, overdue, since/until, and stops at --limit', async () => {
    const idsOf = (rs: Summary[]) => rs.map((r) => r.requestId);
    expect(idsOf(await listJson('--overdue'))).toEqual([ids.late]);
    expect(idsOf(await listJson('--status', 'COMPLETED', '--type', 'access'))).toEqual([ids.access]);
    // Both ccpa requests are in the range (since inclusive); --limit 1 keeps the newest.
    const until = iso(started);
    expect(
      idsOf(
        await listJson('--jurisdiction', 'ccpa', '--since', accessReceived, '--until', until, '--limit', '1'),
      ),
    ).toEqual([ids.open]);
  });

  it('list --csv and records print the records CSV; records --out writes it to a file', async () => {
    const csv = await cli('list', '--csv', '--status', 'COMPLETED');
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(RECORDS_CSV_HEADER);
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual([ids.access, ids.dryRun]);

    const file = join(root, 'records.csv');
    // A range from the day of the earliest receipt (a date: 00:00 UTC) to now: every request.
    const out = await cli(
      'records',
      '--since',
      `${januaryYear}-01-31`,
      '--until',
      iso(Date.now()),
      '--out',
      file,
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/4 request record\(s\) written to/);
    const written = readFileSync(file, 'utf8');
    expect(written.split('\r\n')[0]).toBe(
      'requestId,receivedAt,type,channel,source,jurisdiction,dueAt,extendedDueAt,respondedAt,status,outcome,errorCode,daysToRespond',
    );
    // Oldest receipt first; no email, not even masked.
    const rows = written.split('\r\n').slice(1, -1);
    expect(rows.map((l) => l.split(',')[0])).toEqual([ids.dryRun, ids.late, ids.access, ids.open]);
    expect(rows[2]).toMatch(new RegExp(`^${ids.access},${accessReceived},access,email,cli,ccpa,`));
    expect(written).not.toContain('@');
  });

  it('find <email> lists the subject’s requests in any case, showing only the masked email', async () => {
    const json = await cli('find', SEEDED_SUBJECT.toUpperCase(), '--json');
    expect(json.code, json.stderr).toBe(0);
    const found = JSON.parse(json.stdout).requests as Summary[];
    expect(found.map((r) => r.requestId)).toEqual([ids.access, ids.dryRun]);
    expect(found.every((r) => r.maskedEmail === 's***@example.com')).toBe(true);
  });

  it('extend <id> --reason: once, within the first period, never for a COMPLETED request', async () => {
    const ok = await cli('extend', ids.open.toUpperCase(), '--reason', 'Complex request', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.extendedDueAt).toBe(iso(Date.parse(doc.receivedAt) + 90 * DAY));
    expect(ok.stdout).not.toContain('Complex request');
    for (const [id, code] of [
      [ids.open, 'ALREADY_EXTENDED'],
      [ids.late, 'OVERDUE'],
      [ids.access, 'ALREADY_COMPLETED'],
    ] as const) {
      const refused = await cli('extend', id, '--reason', 'again');
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(code);
      expect(refused.stdout).toBe('');
    }
  });

  it('retry and export of a request whose email was erased (minimization) are refused: exit 2, EMAIL_FORGOTTEN', async () => {
    // The store 31 days from now: past the completed requests' forget date (30 days).
    const forgotten = await withStore((_, table) =>
      new RequestStore({
        doc: dynamoDocumentClient(),
        tableName: table,
        now: () => new Date(Date.now() + 31 * DAY),
      }).forgetEmails(),
    );
    expect(forgotten).toBe(2);
    for (const command of ['retry', 'export']) {
      const r = await cli(command, ids.access);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/EMAIL_FORGOTTEN/);
    }
    const found = await cli('find', SEEDED_SUBJECT, '--json');
    expect(JSON.parse(found.stdout).requests.map((s: Summary) => s.requestId)).toEqual([
      ids.access,
      ids.dryRun,
    ]);
  });

  it('refuses a receipt time out of bounds with exit 2 before anything starts, recording nothing', async () => {
    // The other bad flags and arguments (with canary values): test/faults/bad-input.test.ts.
    const before = await recordedItems();
    const cases: Array<[string[], RegExp]> = [
      [['access', SEEDED_SUBJECT, '--received-at', iso(Date.now() + 10 * 60_000)], /5 minutes in the future/],
      [['delete', SEEDED_SUBJECT, '--received-at', iso(Date.now() - 401 * DAY)], /400 days in the past/],
    ];
    // Neither reaches the store (nor Qualtrics): they may run side by side.
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => {
      const [args, reason] = cases[i]!;
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      // One line: the reason, not even the line naming the Qualtrics a run would talk to.
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(reason);
    });
    expect(await recordedItems()).toBe(before);
  });
});
