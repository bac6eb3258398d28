import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestStore } from '../../lambdas/core/request-store';
import { runCli, withDataDirStore } from './run-cli';

/**
 * Bulk on the CLI as a user runs it (README "Bulk"): `import FILE.csv` (RFC 4180 with a BOM and
 * CRLF, every row checked first, idempotent), `retry --failed` with filters, and `--email-file` on
 * access, delete and find. One data dir, the built-in simulator.
 */

const DAY = 86_400_000;
const root = mkdtempSync(join(tmpdir(), 'qdsr-bulk-cli-'));
const dataDir = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);
const file = (name: string, text: string) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};

const withStore = <T>(use: (store: RequestStore) => Promise<T>): Promise<T> => withDataDirStore(dataDir, use);

const recorded = () => withStore(async (store) => (await store.list({ limit: 500 })).requests);

interface ImportJson {
  results: Array<{
    line: number;
    requestId?: string;
    status?: string;
    error?: { code: string; message: string };
  }>;
}

describe('qualtrics-dsr import', () => {
  const receivedAt = new Date(Date.now() - 3 * DAY).toISOString();
  const csv = file(
    'requests.csv',
    `\ufefftype,email,jurisdiction,receivedAt,channel,dryRun,idempotencyKey\r\n` +
      `access,import.one@example.com,ccpa,${receivedAt},web-form,,\r\n` +
      `"deletion","import.two@example.com",,,"email",true,\r\n` +
      `access,import.three@example.com,,,,,"crm:case-7"\r\n`,
  );
  let first: ImportJson;

  it('submits every row (source import) and runs each to COMPLETED', async () => {
    const r = await cli('import', csv, '--json');
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout) as ImportJson;
    expect(first.results.map((x) => [x.line, x.status])).toEqual([
      [2, 'COMPLETED'],
      [3, 'COMPLETED'],
      [4, 'COMPLETED'],
    ]);
    const requests = await recorded();
    const one = requests.find((x) => x.requestId === first.results[0]!.requestId)!;
    expect(one).toMatchObject({ source: 'import', jurisdiction: 'ccpa', channel: 'web-form', receivedAt });
    const two = requests.find((x) => x.requestId === first.results[1]!.requestId)!;
    expect(two).toMatchObject({ type: 'deletion', dryRun: true, channel: 'email', source: 'import' });
  });

  it('creates nothing new when the same file is imported again', async () => {
    const before = (await recorded()).length;
    const r = await cli('import', csv, '--json');
    expect(r.code, r.stderr).toBe(0);
    const again = JSON.parse(r.stdout) as ImportJson;
    expect(again.results.map((x) => x.requestId)).toEqual(first.results.map((x) => x.requestId));
    expect((await recorded()).length).toBe(before);
  });

  it('refuses a file with bad rows whole (exit 2, lines named, no email), unless --skip-invalid', async () => {
    const bad = file(
      'bad.csv',
      'type,email\n' +
        'access,import.four@example.com\n' +
        'access,not an email\n' +
        'erase,import.five@example.com\n' +
        'deletion,"multi\nline@example.com"\n' +
        'access,import.six@example.com,extra\n',
    );
    const before = (await recorded()).length;
    const refused = await cli('import', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 3: .*email/);
    expect(refused.stderr).toMatch(/line 4: type must be "access" or "deletion"/);
    expect(refused.stderr).toMatch(/line 5: /);
    expect(refused.stderr).toMatch(/line 7: the row has more fields than the header/);
    expect(refused.stderr).toMatch(/nothing was submitted: 4 of 5 row\(s\) are invalid/);
    expect(refused.stderr).not.toMatch(/import\.five|not an email|multi|import\.six/);
    expect((await recorded()).length).toBe(before);

    const skipped = await cli('import', bad, '--skip-invalid', '--json');
    expect(skipped.code, skipped.stderr).toBe(0);
    const doc = JSON.parse(skipped.stdout) as ImportJson;
    expect(doc.results.map((x) => [x.line, x.status ?? x.error?.code])).toEqual([
      [2, 'COMPLETED'],
      [3, 'INVALID_ROW'],
      [4, 'INVALID_ROW'],
      [5, 'INVALID_ROW'],
      [7, 'INVALID_ROW'],
    ]);
    expect(skipped.stdout).not.toMatch(/import\.five|not an email|multi/);
    expect((await recorded()).length).toBe(before + 1);
  });

  it('refuses a header it does not know without repeating it, and a file that is not CSV', async () => {
    const noHeader = await cli('import', file('no-header.csv', 'access,header.like@example.com\n'));
    expect(noHeader.code).toBe(2);
    expect(noHeader.stderr).toMatch(/columns 1, 2 are none of them/);
    expect(noHeader.stderr).not.toContain('header.like');
    const broken = await cli('import', file('broken.csv', 'type,email\naccess,"unclosed@example.com\n'));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid CSV at line \d+ \(CSV_QUOTE_NOT_CLOSED\)/);
    expect(broken.stderr).not.toContain('unclosed');
  });
});

describe('qualtrics-dsr retry --failed', () => {
  it('retries the FAILED requests the filters match, runs them to COMPLETED, and leaves the others', async () => {
    const ids = await withStore(async (store) => {
      const failed = async (email: string, code: string, type: 'access' | 'deletion' = 'access') => {
        const { record } = await store.create({ source: 'cli', type, email });
        await store.fail(record.requestId, { code, message: 'stopped' });
        return record.requestId;
      };
      return {
        a: await failed('retry.a@example.com', 'INTERRUPTED'),
        b: await failed('retry.b@example.com', 'INTERRUPTED', 'deletion'),
        other: await failed('retry.c@example.com', 'QUALTRICS_AUTH'),
      };
    });
    const r = await cli('retry', '--failed', '--error-code', 'INTERRUPTED', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { retried: string[]; skipped: unknown[] };
    expect(Object.keys(doc)).toEqual(['retried', 'skipped']);
    expect(doc.retried.sort()).toEqual([ids.a, ids.b].sort());
    const after = await recorded();
    expect(after.find((x) => x.requestId === ids.a)?.status).toBe('COMPLETED');
    expect(after.find((x) => x.requestId === ids.b)?.status).toBe('COMPLETED');
    expect(after.find((x) => x.requestId === ids.other)?.status).toBe('FAILED');
  });

  it('wants an id or --failed, not both, and filters only with --failed', async () => {
    expect((await cli('retry')).code).toBe(2);
    expect((await cli('retry', '3f2504e0-4f89-41d3-9a0c-0305e82c3301', '--failed')).code).toBe(2);
    expect((await cli('retry', '3f2504e0-4f89-41d3-9a0c-0305e82c3301', '--type', 'access')).code).toBe(2);
    const bad = await cli('retry', '--failed', '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/since must be an ISO-8601 instant/);
  });
});

describe('--email-file', () => {
  const subject = 'from.file@example.com';
  const emailFile = file('email.txt', `${subject}\n`);

  it('gives access, delete and find the email without it being on the command line', async () => {
    const access = await cli('access', '--email-file', emailFile, '--json', '--out', join(root, 'exports'));
    expect(access.code, access.stderr).toBe(0);
    expect(JSON.parse(access.stdout)).toMatchObject({ type: 'access', status: 'COMPLETED' });
    const deletion = await cli('delete', '--email-file', emailFile, '--dry-run', '--json');
    expect(deletion.code, deletion.stderr).toBe(0);
    const found = await cli('find', '--email-file', emailFile, '--json');
    expect(found.code, found.stderr).toBe(0);
    const { requests } = JSON.parse(found.stdout) as { requests: Array<{ type: string }> };
    expect(requests.map((x) => x.type).sort()).toEqual(['access', 'deletion']);
    for (const out of [access, deletion, found]) expect(out.stdout + out.stderr).not.toContain(subject);
  });

  it('is refused alongside an email argument, or when the file is missing or holds more than one line', async () => {
    expect((await cli('access', subject, '--email-file', emailFile)).code).toBe(2);
    const missing = await cli('delete', '--email-file', join(root, 'nope.txt'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the email from .*nope\.txt \(ENOENT\)/);
    const two = await cli('find', '--email-file', file('two.txt', 'a@example.com\nb@example.com\n'));
    expect(two.code).toBe(2);
    expect(two.stderr).not.toContain('a@example.com');
    expect((await cli('access')).code).toBe(2);
  });
});
