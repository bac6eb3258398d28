import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors';
import { startLocalAws } from '../../local/aws';
import { unusableDirError } from '../../local/cli/local-faults';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { runCli } from './run-cli';

/**
 * README: exit 3 for configuration — with a message that names the fix and never a stack trace —
 * when the machine is the problem: an unusable data dir or --out, a port in use, a data dir held
 * by another process. A bundle that could not be copied after COMPLETED is copied with `export`.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-exit3-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectConfigExit(r: { code: number | null; stderr: string }, fix: RegExp): void {
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(fix);
  expect(r.stderr).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('exit 3 with the fix named', () => {
  it('a data dir that is a file', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await runCli(['access', SEEDED_SUBJECT, '--data-dir', file]);
    expectConfigExit(r, /cannot be used \(E(NOTDIR|EXIST)[^)]*\).*--data-dir/);
  });

  it('a read-only or full data dir (as the file system reports it)', () => {
    for (const code of ['EROFS', 'ENOSPC', 'EACCES', 'EDQUOT']) {
      const mapped = unusableDirError(
        Object.assign(new Error(`${code}: at mkdir`), { code }),
        '/data/qdsr',
        '--data-dir',
      );
      expect(mapped, code).toBeInstanceOf(ConfigError);
      expect((mapped as ConfigError).setting).toBe('--data-dir');
      expect((mapped as Error).message).toContain(`/data/qdsr cannot be used (${code}`);
    }
    const other = new Error('something else');
    expect(unusableDirError(other, '/d', '--data-dir')).toBe(other);
  });

  it('a data dir another process holds without serving its API (no owner.json)', async () => {
    const dir = join(root, 'held');
    const holder = await startLocalAws({ dataDir: dir });
    try {
      const r = await runCli(['status', '6f1c3a9e-2b7d-4c1e-9a5f-0d8b7e6c5a41', '--data-dir', dir]);
      expectConfigExit(
        r,
        /in use by another qualtrics-dsr process that serves no local API .*: wait for it to finish, stop it, or choose another --data-dir/,
      );
    } finally {
      await holder.close();
    }
  });

  it('a simulator port in use', async () => {
    const { port, server } = await takenPort();
    try {
      const r = await runCli(['simulator', '--port', String(port)]);
      expectConfigExit(r, new RegExp(`port ${port} on 127.0.0.1 is in use.*--port`));
    } finally {
      server.close();
    }
  });
});

describe('a bundle not copied after COMPLETED', () => {
  const dataDir = join(root, 'data');

  it('exits 3 with the summary on stdout and the export command on stderr; export copies it', async () => {
    const blocked = join(root, 'out-is-a-file');
    writeFileSync(blocked, 'x');
    const r = await runCli(['access', SEEDED_SUBJECT, '--json', '--out', blocked, '--data-dir', dataDir]);
    expectConfigExit(
      r,
      /is COMPLETED, but its bundle was not copied: .*--out.*qualtrics-dsr export [0-9a-f-]{36} --out DIR/,
    );
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'COMPLETED', export: { localDir: null } });

    const out = join(root, 'out');
    mkdirSync(out);
    const copied = await runCli(['export', summary.requestId, '--out', out, '--json', '--data-dir', dataDir]);
    expect(copied.code, copied.stderr).toBe(0);
    const result = JSON.parse(copied.stdout);
    expect(result).toMatchObject({
      requestId: summary.requestId,
      status: 'COMPLETED',
      export: { prefix: `exports/${summary.requestId}/`, localDir: join(out, summary.requestId) },
    });
    const dir = join(out, summary.requestId);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files.length).toBe(summary.counts.files);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.key.slice(`exports/${summary.requestId}/`.length)));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }

    // An unknown id is bad input (exit 2), and so is a request that has no bundle.
    const unknown = await runCli(['export', '6f1c3a9e-2b7d-4c1e-9a5f-0d8b7e6c5a41', '--data-dir', dataDir]);
    expect(unknown.code, unknown.stderr).toBe(2);
  });
});
