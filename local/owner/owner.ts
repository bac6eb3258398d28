import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  type ApiDeps,
  type ApiRequest,
  type ApiResponse,
  createApi,
  jsonResponse,
  type LocalApiDeps,
  matchRoute,
  type RouteName,
} from '../../lambdas/core/api';
import { sweepReport } from '../../lambdas/core/sweep';
import { setWorkflowStarter } from '../../lambdas/core/workflow-starter';
import { apiDeps, apiRequestFromEvent } from '../../lambdas/handlers/api';
import {
  type BackgroundWorkflows,
  createBackgroundWorkflows,
  type ShutdownOptions,
} from '../api/background-workflows';
import { type ApiServer, startApiServer } from '../api/server';
import { portInUseError } from '../cli/local-faults';
import { type Runtime, startRuntime } from '../runtime';
import { runLocalSweep } from '../sweep';
import { OWNER_STOPPING, removeOwnerFile, writeOwnerFile } from './owner-file';

/**
 * The process that owns a data dir (README "Several processes, one data dir"): `serve`, or a CLI
 * command that found the data dir free. It holds the data dir's storage, runs every workflow of
 * it, and serves the local HTTP API on 127.0.0.1 (`serve` on its --port, a CLI command on a port
 * the OS chooses), advertised in `<data-dir>/owner.json` for the commands that come later.
 */

export interface OwnerOptions {
  dataDir: string;
  waitScale?: number;
  /** 0: a port the OS chooses. */
  port: number;
}

export interface DataDirOwner {
  runtime: Runtime;
  workflows: BackgroundWorkflows;
  /** When this process took the data dir. */
  ownedSince: Date;
  /** `http://127.0.0.1:<port>`. */
  apiUrl: string;
  /** The same API the server serves, called in-process. */
  handle(req: ApiRequest): Promise<ApiResponse>;
  /** Stops the workflows (see BackgroundWorkflows.shutdown); their requests stay resumable. */
  stop(o: ShutdownOptions): Promise<{ interrupted: string[] }>;
  /** Stops serving, removes owner.json and releases the data dir. */
  close(): Promise<void>;
}

const WORK_ROUTES: ReadonlySet<RouteName> = new Set([
  'createRequest',
  'submitBatch',
  'retryRequest',
  'retryFailed',
  'sweep',
]);

function startsWork(req: ApiRequest): boolean {
  try {
    return WORK_ROUTES.has(matchRoute(req.method, req.path, { local: true }).name);
  } catch {
    return false;
  }
}

export async function startOwner(o: OwnerOptions): Promise<DataDirOwner> {
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const ownedSince = new Date();
  const workflows = createBackgroundWorkflows({ waitScale: runtime.waitScale });
  setWorkflowStarter(workflows);
  // The Lambda's dependencies (read lazily, through its getters), plus the local server's own.
  const local: LocalApiDeps = {
    sweep: async () =>
      sweepReport(await runLocalSweep({ workflows, waitScale: runtime.waitScale, ownedSince })),
  };
  const deps: ApiDeps = Object.create(apiDeps, { local: { value: local, enumerable: true } });
  const api = createApi(deps);
  let stopping = false;
  // While stopping, nothing new starts: refused before anything is recorded, so the command that
  // asked opens the data dir again once this process has let go of it.
  const handle = async (req: ApiRequest): Promise<ApiResponse> =>
    stopping && startsWork(req)
      ? jsonResponse(
          503,
          {
            error: {
              code: OWNER_STOPPING,
              message: 'the process that holds the data dir is stopping; try again once it has stopped',
            },
          },
          { 'retry-after': '5' },
        )
      : api(req);
  let server: ApiServer;
  try {
    server = await startApiServer({
      port: o.port,
      host: '127.0.0.1',
      handler: async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => ({
        ...(await handle(apiRequestFromEvent(event))),
        isBase64Encoded: false,
      }),
    });
  } catch (err) {
    setWorkflowStarter(undefined);
    await runtime.close();
    throw portInUseError(err, o.port);
  }
  writeOwnerFile(runtime.dataDir, {
    pid: process.pid,
    apiUrl: server.url,
    startedAt: ownedSince.toISOString(),
  });
  let closing: Promise<void> | undefined;
  return {
    runtime,
    workflows,
    ownedSince,
    apiUrl: server.url,
    handle,
    stop: (options) => {
      stopping = true;
      return workflows.shutdown(options);
    },
    close: () => {
      closing ??= (async () => {
        // First the file: a command starting now opens the data dir itself once it is free.
        removeOwnerFile(runtime.dataDir);
        await server.close();
        setWorkflowStarter(undefined);
        await runtime.close();
      })();
      return closing;
    },
  };
}
