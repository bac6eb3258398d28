import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCollecting } from './run-cli';

/**
 * A command's module is loaded when that command runs (local/cli/main.ts): `--help`, a mistyped
 * command and a ledger command's refused flag answer without loading the local AWS services, the
 * workflow engine or the AWS SDK, which every command that does its work needs.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'qdsr-lazy-commands-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const HEAVY = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-s3',
  'dynalite',
  's3rver',
  'aws-local-stepfunctions',
];

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

  it('a command that does its work loads them', async () => {
    const loaded = await packagesLoadedBy(['list', '--data-dir', dataDir]);
    expect(loaded.code).toBe(0);
    expect(loaded.packages).toEqual(expect.arrayContaining(HEAVY));
  });
});
