import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOwnerFile } from '../../local/owner/owner-file';
import { BIN, cleanEnv, runCollecting } from './run-cli';

/**
 * A command's module is loaded when that command runs (local/cli/main.ts): `--help`, a mistyped
 * command and a ledger command's refused flag answer without loading the local AWS services, the
 * workflow engine or the AWS SDK, which a command that opens the data dir needs (the engine only
 * once it runs a workflow); a command handed to the data dir's owner, or sent to an API with
 * `--api`, does not load them either.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-lazy-commands-'));
const dataDir = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const UNKNOWN_ID = '6f1c3a9e-2b7d-4c1e-9a5f-0d8b7e6c5a41';

/** What a process that owns the data dir runs: dynalite, s3rver and the SDK clients over them. */
const DATA_DIR_SERVICES = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-s3', 'dynalite', 's3rver'];
const ENGINE = 'aws-local-stepfunctions';
const HEAVY = [...DATA_DIR_SERVICES, ENGINE];

/** Runs the CLI's main() with `args` in a fresh process; its exit code and the packages it loaded. */
async function packagesLoadedBy(args: string[]): Promise<{ code: number; packages: string[] }> {
  const script = `
    require(${JSON.stringify(join(BIN, '..', 'load-typescript.js'))});
    require(${JSON.stringify(join(BIN, '..', '..', 'local', 'cli', 'main.ts'))})
      .main(['node', 'qualtrics-dsr', ...${JSON.stringify(args)}])
      .then((code) => {
        const packages = new Set();
        for (const file of Object.keys(require.cache)) {
          const m = /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(file);
          if (m) packages.add(m[1]);
        }
        process.stdout.write(JSON.stringify({ code, packages: [...packages] }));
      });`;
  const r = await runCollecting(process.execPath, ['-e', script], { env: cleanEnv() });
  expect(r.code, r.stderr).toBe(0);
  // --help prints before the summary.
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{"code"')));
}

describe('the CLI loads a command when it runs', () => {
  it.each([
    ['--help', ['--help'], 0],
    ['a mistyped command', ['acess'], 2],
    ['a refused ledger flag', ['list', '--status', 'NOPE'], 2],
  ])('%s: no AWS SDK, local services or engine', async (_name, args, code) => {
    const loaded = await packagesLoadedBy(args);
    expect(loaded.code).toBe(code);
    expect(loaded.packages).toContain('commander');
    expect(loaded.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('a command handed to the owner of the data dir, or sent to an API, loads none of them', async () => {
    // An owner as owner.json names it: a live process (this one) whose API knows no such request.
    const api = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'REQUEST_NOT_FOUND', message: 'no request with that id' } }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const handedDir = join(root, 'handed');
    mkdirSync(handedDir);
    writeOwnerFile(handedDir, { pid: process.pid, apiUrl, startedAt: new Date().toISOString() });
    try {
      for (const args of [
        ['status', UNKNOWN_ID, '--data-dir', handedDir],
        ['status', UNKNOWN_ID, '--api', apiUrl],
      ]) {
        const loaded = await packagesLoadedBy(args);
        expect(loaded.code, args.join(' ')).toBe(2);
        expect(loaded.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
      }
    } finally {
      api.close();
    }
  });

  it('a command that opens the data dir loads its services, and the engine only to run a workflow', async () => {
    const loaded = await packagesLoadedBy(['list', '--data-dir', dataDir]);
    expect(loaded.code).toBe(0);
    expect(loaded.packages).toEqual(expect.arrayContaining(DATA_DIR_SERVICES));
    expect(loaded.packages).not.toContain(ENGINE);
  });
});
