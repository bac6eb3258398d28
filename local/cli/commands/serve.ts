import { resolve } from 'node:path';
import { ConfigError } from '../../../lambdas/core/errors';
import { DataDirLockedError } from '../../aws/dynamo';
import { startOwner } from '../../owner/owner';
import { scheduleSweeps } from '../../sweep';
import { liveOwner } from '../backend/open';
import { stopOwnerWorkflows } from '../backend/owner-backend';
import { ExitCode } from '../exit-codes';
import { stopSignals } from '../signals';

/**
 * `qualtrics-dsr serve`: the HTTP API (README "HTTP API") on 127.0.0.1, routed to the same handler
 * API Gateway calls, and the operator page. `POST /requests` answers 202 at once and the workflow
 * runs in the background in this process (the embedded engine, the same ASL and step handlers as
 * AWS). `serve` owns the data dir: commands run meanwhile are handed to it (README "Several
 * processes, one data dir").
 *
 * It sweeps at start (resuming what a process that stopped or crashed left unfinished) and every
 * 10 minutes (README "The sweep"). Stopping (Ctrl-C / SIGTERM): running workflows get
 * SHUTDOWN_GRACE_MS to end, the rest stop at their next state and stay resumable (README
 * "Stopping and crash recovery"). A second signal skips the waiting.
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
      `Operator page: ${url}/ (open it in a browser on this machine)`,
      `  POST ${url}/requests              {"type":"access"|"deletion","email", "dryRun"?, "idempotencyKey"?}`,
      `  GET  ${url}/requests/{id}         status document`,
      `  GET  ${url}/requests/{id}/export  presigned links to the bundle`,
      `  POST ${url}/requests/{id}/retry   resume a FAILED or interrupted request`,
      `  GET  ${url}/health                connection check`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  // Requests a stopped process left open are resumed now; deadlines are watched from here on.
  const sweeps = scheduleSweeps(
    { workflows: owner.workflows, waitScale: owner.runtime.waitScale, ownedSince: owner.ownedSince },
    (line) => process.stderr.write(`${line}\n`),
  );

  await signals.first;
  await sweeps.stop();
  const interrupted = await stopOwnerWorkflows(owner, signals);
  await owner.close();
  signals.dispose();
  if (interrupted.length > 0) {
    // A stopped workflow's engine timer may hold the event loop open; everything is written.
    process.exit(ExitCode.Ok);
  }
  return ExitCode.Ok;
}
