import { setWorkflowStarter } from '../../../lambdas/core/workflow-starter';
import { type BackgroundWorkflows, createBackgroundWorkflows } from '../../api/background-workflows';
import { type ApiServer, startApiServer } from '../../api/server';
import { startRuntime } from '../../runtime';
import { scheduleSweeps } from '../../sweep';
import { ExitCode } from '../exit-codes';
import { portInUseError } from '../local-faults';

/**
 * `qualtrics-dsr serve`: the HTTP API of BRIEF §4 on 127.0.0.1, routed to the same `api` handler
 * API Gateway calls. `POST /requests` answers 202 at once and the workflow runs in the background
 * in this process (the embedded engine, the same ASL and step handlers as AWS).
 *
 * Stopping (Ctrl-C / SIGTERM): the server stops accepting requests, running workflows get
 * SHUTDOWN_GRACE_MS to finish, and those still running are marked FAILED (`INTERRUPTED`) — a
 * local execution cannot outlive the process, and a FAILED request can be resumed with `retry`
 * (its steps reuse the Qualtrics jobs already created). A second signal skips the grace period.
 */

/** Against the simulator a request takes seconds; against a tenant, waiting hours on Ctrl-C is no option. */
export const SHUTDOWN_GRACE_MS = 30_000;

export async function serve(o: { dataDir: string; waitScale?: number; port: number }): Promise<number> {
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const workflows = createBackgroundWorkflows({ waitScale: runtime.waitScale });
  setWorkflowStarter(workflows);
  let server: ApiServer;
  try {
    server = await startApiServer({ port: o.port, host: '127.0.0.1' });
  } catch (err) {
    setWorkflowStarter(undefined);
    await runtime.close();
    throw portInUseError(err, o.port);
  }

  // Requests a stopped process left open are resumed now; deadlines are watched from here on.
  const sweeps = scheduleSweeps(workflows, runtime.waitScale, (line) => process.stderr.write(`${line}\n`));

  process.stderr.write(
    [
      runtime.describe(),
      `Local API listening on ${server.url} (127.0.0.1 only, no authentication)`,
      `Operator page: ${server.url}/ (open it in a browser on this machine)`,
      `  POST ${server.url}/requests              {"type":"access"|"deletion","email", "dryRun"?, "idempotencyKey"?}`,
      `  GET  ${server.url}/requests/{id}         status document`,
      `  GET  ${server.url}/requests/{id}/export  presigned links to the bundle`,
      `  POST ${server.url}/requests/{id}/retry   resume a FAILED request`,
      `  GET  ${server.url}/health                connection check`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await server.close();
  await sweeps.stop();
  const interrupted = await stopWorkflows(workflows);
  setWorkflowStarter(undefined);
  await runtime.close();
  if (interrupted.length > 0) {
    // An interrupted workflow may sit in a Wait state for hours, holding the process open; its
    // request is already FAILED, so end the process rather than wait for it.
    process.exit(ExitCode.Ok);
  }
  return ExitCode.Ok;
}

/** Waits up to the grace period (or until a second signal) and marks what still runs INTERRUPTED. */
async function stopWorkflows(workflows: BackgroundWorkflows): Promise<string[]> {
  const running = workflows.running();
  if (running.length === 0) return [];
  process.stderr.write(
    `stopping: waiting up to ${SHUTDOWN_GRACE_MS / 1000}s for ${running.length} running request(s) (Ctrl-C again to stop now)\n`,
  );
  let skip: () => void = () => undefined;
  const skipped = new Promise<void>((resolve) => {
    skip = resolve;
  });
  process.once('SIGINT', skip);
  process.once('SIGTERM', skip);
  const { interrupted } = await Promise.race([
    workflows.shutdown(SHUTDOWN_GRACE_MS),
    skipped.then(() => workflows.shutdown(0)),
  ]);
  process.removeListener('SIGINT', skip);
  process.removeListener('SIGTERM', skip);
  for (const id of interrupted) {
    process.stderr.write(
      `interrupted: request ${id} is FAILED (INTERRUPTED); resume it with: qualtrics-dsr retry ${id}\n`,
    );
  }
  return interrupted;
}
