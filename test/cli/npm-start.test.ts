import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/paths';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { cleanEnv, leakForms, runCollecting } from './run-cli';

/**
 * The README's command as a script runs it: `npm start -- access <email> --json`, through npm
 * itself (its lifecycle banner included), and stdout parsed as exactly one JSON document.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-npm-start-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A user's shell: none of the npm_* variables of the `npm test` this suite may run under. */
function shellEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv();
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  return env;
}

describe('npm start -- access … --json', () => {
  it('prints exactly one JSON document on stdout, and not the email', async () => {
    const args = [
      'start',
      '--',
      'access',
      SEEDED_SUBJECT,
      '--json',
      '--data-dir',
      join(root, 'data'),
      '--out',
      join(root, 'out'),
    ];
    const r = await runCollecting('npm', args, { env: shellEnv(), cwd: REPO_ROOT });
    expect(r.code, r.stderr).toBe(0);
    // The whole of stdout is one JSON value (JSON.parse rejects anything before or after it).
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ type: 'access', status: 'COMPLETED' });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    for (const form of leakForms(SEEDED_SUBJECT)) expect(r.stdout).not.toContain(form);
  });
});
