import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCollecting } from './run-cli';

/**
 * bin/load-typescript.js, which runs the CLI from its TypeScript: a module changed since its last
 * start is compiled again (never a stale copy from the cache), and `import('./x.js')` finds ./x.ts.
 */

const LOADER = join(BIN, '..', 'load-typescript.js');
const dir = mkdtempSync(join(tmpdir(), 'qdsr-load-typescript-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `node -r load-typescript.js entry.ts` and returns what it printed. */
async function run(entry: string): Promise<string> {
  const r = await runCollecting(process.execPath, ['-r', LOADER, join(dir, entry)], { env: cleanEnv() });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('bin/load-typescript.js', () => {
  it('runs TypeScript, and a changed file as it is now', async () => {
    const file = (value: string) =>
      writeFileSync(
        join(dir, 'value.ts'),
        `const value: string = '${value}';\nprocess.stdout.write(value satisfies string);\n`,
      );
    file('first');
    expect(await run('value.ts')).toBe('first');
    expect(await run('value.ts')).toBe('first');
    file('second');
    expect(await run('value.ts')).toBe('second');
  });

  it("loads ./x.ts for import('./x.js'), as TypeScript writes it", async () => {
    writeFileSync(join(dir, 'later.ts'), `export const answer: number = 42;\n`);
    writeFileSync(
      join(dir, 'entry.ts'),
      `async function main(): Promise<void> {\n  const { answer } = await import('./later.js');\n  process.stdout.write(String(answer));\n}\nvoid main();\n`,
    );
    expect(await run('entry.ts')).toBe('42');
  });
});
