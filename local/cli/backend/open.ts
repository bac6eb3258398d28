import { connect } from 'node:net';
import { resolve } from 'node:path';
import { ConfigError } from '../../../lambdas/core/errors';
import { type OwnerInfo, processAlive, readOwnerFile } from '../../owner/owner-file';
import { CliError, ExitCode } from '../exit-codes';
import { unusableDirError } from '../local-faults';
import type { Backend } from './backend';
import { handedOffBackend } from './handed-off-backend';

/**
 * Which backend a command uses: with `--api`, that API; else, on the data dir (README "Several
 * processes, one data dir"), the owner's local API when `owner.json` names a live one, or this
 * process opens the data dir and becomes its owner. A data dir held by a process that serves no API (yet) is waited for a moment
 * (an owner writes owner.json once its API listens), then refused with exit 3.
 *
 * Only the owner runs the data dir's services and workflows, and only `--api` signs: each backend
 * is loaded when it is chosen, so a command handed to the owner, or sent to an API, loads neither
 * dynalite, s3rver nor the engine.
 */

/** How long a command waits for the process that holds the data dir to advertise its API. */
export const OWNER_WAIT_MS = 10_000;
const OWNER_POLL_MS = 200;

export interface BackendOptions {
  dataDir: string;
  waitScale?: number;
  /** How long to wait for a process that holds the data dir to serve its API; default OWNER_WAIT_MS. */
  waitMs?: number;
  /** `--api URL`: a deployment's API or a `serve`, instead of the data dir (README "The CLI against a deployment"). */
  api?: string;
  /** `--api-region`. */
  apiRegion?: string;
}

export async function openBackend(o: BackendOptions): Promise<Backend> {
  if (o.apiRegion !== undefined && o.api === undefined) {
    throw new CliError(ExitCode.BadInput, '--api-region goes with --api');
  }
  if (o.api !== undefined) {
    const { apiBackend } = await import('./api-backend.js');
    return apiBackend({ api: o.api, ...(o.apiRegion === undefined ? {} : { apiRegion: o.apiRegion }) });
  }
  const dataDir = resolve(o.dataDir);
  const deadline = Date.now() + (o.waitMs ?? OWNER_WAIT_MS);
  for (;;) {
    const owner = await liveOwner(dataDir);
    if (owner) return handedOffBackend(dataDir, owner);
    const [{ ownerBackend }, { DataDirLockedError }] = await Promise.all([
      import('./owner-backend.js'),
      import('../../aws/dynamo.js'),
    ]);
    try {
      return await ownerBackend({ dataDir, waitScale: o.waitScale });
    } catch (err) {
      if (!(err instanceof DataDirLockedError)) throw unusableDirError(err, dataDir, '--data-dir');
    }
    if (Date.now() >= deadline) throw heldWithoutApi(dataDir);
    await new Promise((r) => setTimeout(r, OWNER_POLL_MS));
  }
}

/** The owner owner.json names, if that process runs and its API accepts connections. */
export async function liveOwner(dataDir: string): Promise<OwnerInfo | undefined> {
  const owner = readOwnerFile(dataDir);
  if (!owner || owner.pid === process.pid || !processAlive(owner.pid)) return undefined;
  return (await accepts(owner.apiUrl)) ? owner : undefined;
}

/** Whether something listens at the URL's loopback port (a stale file's port is usually closed). */
function accepts(apiUrl: string): Promise<boolean> {
  const { hostname, port } = new URL(apiUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function heldWithoutApi(dataDir: string): ConfigError {
  return new ConfigError(
    '--data-dir',
    `the data dir ${dataDir} is in use by another qualtrics-dsr process that serves no local API (an older version, or one still starting): wait for it to finish, stop it, or choose another --data-dir`,
  );
}
