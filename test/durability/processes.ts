import { type ChildProcess, spawn } from 'node:child_process';
import { BIN } from '../cli/run-cli';
import { LeakScanner } from '../support/canaries';

/**
 * `qualtrics-dsr` commands as separate processes a test can wait on, signal and kill (-9), their
 * output collected and, at the end, scanned for leaks like every CLI run (test/cli/run-cli.ts).
 */

export interface Proc {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in stderr (or rejects when the process ends first). */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid as number,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(err);
          if (m) {
            waiters.delete(check);
            resolve(m);
          }
        };
        waiters.add(check);
        check();
        void exited.then((code) => {
          if (waiters.delete(check)) reject(new Error(`exited (${code}) before ${pattern}:\n${err}`));
        });
      });
    },
  };
}

/** `serve --port 0` on the data dir; resolves once it listens, with its URL. */
export async function startServe(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
): Promise<Proc & { url: string }> {
  const p = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, ...extra], env);
  const [, url] = await p.waitForStderr(/Local API listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { ...p, url: url as string };
}

/** Fails when any of these processes' output carries a canary or one of `emails`. */
export function assertNoLeaks(procs: readonly Proc[], emails: readonly string[]): void {
  const leaks = new LeakScanner({ watch: [...emails] });
  for (const p of procs) {
    leaks.scan('stdout', p.stdout());
    leaks.scan('stderr', p.stderr());
  }
  leaks.assertClean('leak canaries in the output of qualtrics-dsr');
}

/** Polls `read` until `done` holds (bounded by attempts, not by a timed assertion). */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  attempts = 400,
): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not reached; last: ${JSON.stringify(last)}`);
}
