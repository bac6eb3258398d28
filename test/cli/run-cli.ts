import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs `qualtrics-dsr` as a user does: a child process, with a clean Qualtrics/AWS environment. */

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

export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Async spawn: an in-process simulator in the test keeps serving while the CLI runs.
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Every form in which an email could leak: raw, lower/upper case, URL-encoded. */
export function leakForms(secret: string): string[] {
  return [...new Set([secret, secret.toLowerCase(), secret.toUpperCase(), encodeURIComponent(secret)])];
}
