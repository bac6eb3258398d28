import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { runCli } from './run-cli';

/**
 * Bundles and the data dir are personal data on disk (README "Files on disk"): what the CLI writes
 * under --out, --data-dir and an --out FILE is its owner's only, files 0600 and folders 0700.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file and folder under `dir` (itself included) with its permission bits. */
function modesUnder(dir: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) out.push(...modesUnder(path));
    else out.push({ path, dir: false, mode: statSync(path).mode & 0o777 });
  }
  return out;
}

function expectOwnerOnly(entries: ReturnType<typeof modesUnder>): void {
  const wrong = entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600));
  expect(wrong.map((e) => `${e.mode.toString(8)} ${e.path}`)).toEqual([]);
}

describe('files on disk', () => {
  it('access: the bundle under --out and everything under --data-dir are 0600 files in 0700 folders', async () => {
    const dataDir = join(root, 'data');
    const out = join(root, 'exports');
    const r = await runCli(['access', SEEDED_SUBJECT, '--json', '--out', out, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const bundle = modesUnder(join(out, JSON.parse(r.stdout).requestId));
    expect(bundle.filter((e) => !e.dir).map((e) => e.path.split('/').pop())).toEqual(
      expect.arrayContaining(['manifest.json', 'report.html']),
    );
    expectOwnerOnly(bundle);
    expectOwnerOnly(modesUnder(out));
    const data = modesUnder(dataDir);
    expect(data.filter((e) => !e.dir).length).toBeGreaterThan(5);
    expectOwnerOnly(data);
  });

  it('a data dir an earlier version left readable to others is closed; records --out is owner-only', async () => {
    const dataDir = join(root, 'old-data');
    for (const sub of ['s3', 'dynamodb']) {
      mkdirSync(join(dataDir, sub), { recursive: true });
      chmodSync(join(dataDir, sub), 0o755);
    }
    const file = join(root, 'records.csv');
    const r = await runCli(['records', '--out', file, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const sub of ['s3', 'dynamodb']) expect(statSync(join(dataDir, sub)).mode & 0o777).toBe(0o700);
  });
});
