import { resolve } from 'node:path';
import { ConfigError } from '../../../lambdas/core/errors';
import { DataDirLockedError } from '../../aws/dynamo';
import { startOwner } from '../../owner/owner';
import { sweepLocally } from '../../owner/sweep';
import { liveOwner } from '../backend/open';
import { SHUTDOWN_GRACE_MS, STEP_GRACE_MS } from '../backend/owner-backend';
import { ExitCode } from '../exit-codes';
import { stopSignals } from '../signals';

/**
 * `qualtrics-dsr serve`: the HTTP API of BRIEF §4 on 127.0.0.1, routed to the same handler API
 * Gateway calls. `POST /requests` answers 202 at once and the workflow runs in the background in
 * this process (the embedded engine, the same ASL and step handlers as AWS). `serve` owns the data
 * dir: commands run meanwhile are handed to it (README "Several processes, one data dir").
 *
 * At start it resumes every request a process that stopped or crashed left unfinished. Stopping
 * (Ctrl-C / SIGTERM): running workflows get SHUTDOWN_GRACE_MS to end, the rest stop at their next
 * state and stay resumable (README "Stopping and crash recovery"). A second signal skips the waiting.
 */
export async function serve(o: { dataDir: string; waitScale?: number; port: number }): Promise<number> {
  let owner: Awaited<ReturnType<typeof startOwner>>;
  try {
    owner = await startOwner({ dataDir: o.dataDir, waitScale: o.waitScale, port: o.port });
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    const holder = await liveOwner(resolve(o.dataDir));
    if (!holder) throw err;
    throw new ConfigError(
      '--data-dir',
      `the data dir ${resolve(o.dataDir)} is held by another qualtrics-dsr process (pid ${holder.pid}, its API at ${holder.apiUrl}): wait for it to finish, stop it, or choose another --data-dir`,
    );
  }
  const signals = stopSignals();
  const url = owner.apiUrl;
  process.stderr.write(
    [
      owner.runtime.describe(),
      `Local API listening on ${url} (127.0.0.1 only, no authentication)`,
      `  POST ${url}/requests              {"type":"access"|"deletion","email", "dryRun"?, "idempotencyKey"?}`,
      `  GET  ${url}/requests/{id}         status document`,
      `  GET  ${url}/requests/{id}/export  presigned links to the bundle`,
      `  POST ${url}/requests/{id}/retry   resume a FAILED or interrupted request`,
      `  GET  ${url}/health                connection check`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  // What a process that stopped or crashed left unfinished runs again, here.
  const swept = await sweepLocally({ handle: owner.handle, workflows: owner.workflows }).catch(
    () => undefined,
  );
  if (swept && swept.resumed.length > 0) {
    process.stderr.write(`resumed ${swept.resumed.length} interrupted request(s)\n`);
  }

  await signals.first;
  const running = owner.workflows.running();
  if (running.length > 0) {
    process.stderr.write(
      `stopping: waiting up to ${SHUTDOWN_GRACE_MS / 1000}s for ${running.length} running request(s) (Ctrl-C again to stop now)\n`,
    );
  }
  const { interrupted } = await owner.stop({
    graceMs: SHUTDOWN_GRACE_MS,
    stepGraceMs: STEP_GRACE_MS,
    hurry: signals.second,
  });
  for (const id of interrupted) {
    process.stderr.write(
      `interrupted: request ${id} did not finish; it resumes when the data dir is next served, or with: qualtrics-dsr retry ${id}\n`,
    );
  }
  await owner.close();
  signals.dispose();
  if (interrupted.length > 0) {
    // A stopped workflow's engine timer may hold the event loop open; everything is written.
    process.exit(ExitCode.Ok);
  }
  return ExitCode.Ok;
}
