import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { RequestStore } from '../../lambdas/core/request-store';
import { startLocalAws } from '../../local/aws';
import { SIMULATOR_CLIENT } from '../../local/simulator';
import { LeakScanner } from '../support/canaries';

/**
 * Runs `qualtrics-dsr` as a user does: a child process, with a clean Qualtrics/AWS environment.
 * Its stdout and stderr are scanned for leaks (test/support/canaries.ts): the canaries, every
 * email given as an argument and the client secret in use; a hit rejects the run.
 */

export const BIN = join(__dirname, '..', '..', 'bin', 'qualtrics-dsr.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (
      k.startsWith('QUALTRICS_') ||
      k.startsWith('QDSR_') ||
      k.startsWith('AWS_') ||
      k === 'POWERTOOLS_LOG_LEVEL'
    ) {
      delete env[k];
    }
  }
  return { ...env, ...extra };
}

/** Runs a command to its end, collecting stdout and stderr (async: in-process servers keep serving). */
export function runCollecting(
  command: string,
  args: string[],
  o: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: o.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  o: { cwd?: string } = {},
): Promise<CliResult> {
  const result = await runCollecting(process.execPath, [BIN, ...args], { env, cwd: o.cwd });
  const leaks = new LeakScanner({
    watch: [
      ...args.filter((a) => a.includes('@')),
      env.QUALTRICS_CLIENT_SECRET ?? '',
      SIMULATOR_CLIENT.clientSecret,
    ],
  });
  leaks.scan('cli stdout', result.stdout);
  leaks.scan('cli stderr', result.stderr);
  leaks.assertClean(`leak canaries in the output of qualtrics-dsr ${args[0] ?? ''}`);
  return result;
}

/** Every form in which an email could leak: raw, lower/upper case, URL-encoded. */
export function leakForms(secret: string): string[] {
  return [...new Set([secret, secret.toLowerCase(), secret.toUpperCase(), encodeURIComponent(secret)])];
}

/**
 * Opens a data dir in this process, with a request store on it (no CLI may run on it meanwhile):
 * to set up or inspect what the CLI runs see.
 */
export async function withDataDirStore<T>(
  dataDir: string,
  use: (store: RequestStore, table: string) => Promise<T>,
): Promise<T> {
  const aws = await startLocalAws({ dataDir });
  aws.applyEnv();
  try {
    const table = aws.names.requestsTable;
    return await use(new RequestStore({ doc: dynamoDocumentClient(), tableName: table }), table);
  } finally {
    await aws.close();
  }
}
