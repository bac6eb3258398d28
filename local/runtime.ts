import { resolve } from 'node:path';
import { qualtricsConfigured, qualtricsSettingsFromEnv, SIMULATOR_ORIGIN_ENV } from '../lambdas/core/config';
import { ConfigError } from '../lambdas/core/errors';
import { requestStoreFromEnv } from '../lambdas/core/request-store';
import { startLocalAws } from './aws';
import { portInUseError, unusableDirError } from './cli/local-faults';
import { localConcurrencyFromEnv } from './engine/workflows';
import { appendLocalEventsTo } from './events-log';
import { SIMULATOR_CLIENT, type Simulator, startSimulator } from './simulator';

/**
 * The embedded default (README "Quick start", "Configuration"): DynamoDB (dynalite) and S3 (s3rver)
 * in-process and persisted under the data dir, and Qualtrics = the built-in simulator unless
 * Qualtrics settings are present. The handlers read their settings from the environment, exactly as
 * in Lambda, so the runtime only sets environment variables.
 */

/** Against the simulator a run takes seconds: every wait (and the simulator's clock) runs 100× faster. */
export const SIMULATOR_WAIT_SCALE = 0.01;

export interface RuntimeOptions {
  dataDir: string;
  waitScale?: number;
  /** Also start local DynamoDB and S3 (every command but `simulator`). */
  storage?: boolean;
  /** Also set up Qualtrics (the simulator unless settings are present); `status` needs none. */
  qualtrics?: boolean;
  simulatorPort?: number;
}

export interface Runtime {
  target: 'simulator' | 'tenant';
  /** Qualtrics origin the run talks to. */
  origin: string;
  /** Which setting chose it, for the first progress line. */
  describe(): string;
  waitScale: number;
  dataDir: string;
  simulator?: Simulator;
  close(): Promise<void>;
}

/**
 * The data dir and the bundles copied out of it hold personal data: everything the local runtime
 * creates is its owner's only (files 0600, folders 0700; README "Files on disk").
 */
export const OWNER_ONLY_UMASK = 0o077;

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  process.umask(OWNER_ONLY_UMASK);
  const env = process.env;
  const dataDir = resolve(options.dataDir);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    // A bad setting ends here, before anything is recorded (the engine reads it again per run).
    localConcurrencyFromEnv(env);
    let target: Runtime['target'];
    let origin: string;
    let simulator: Simulator | undefined;
    let waitScale: number;
    if (options.qualtrics === false) {
      target = qualtricsConfigured(env) ? 'tenant' : 'simulator';
      origin = '';
      waitScale = options.waitScale ?? 1;
    } else if (qualtricsConfigured(env)) {
      const settings = qualtricsSettingsFromEnv(env);
      // Only the runtime says what is its simulator: an inherited value must not name a tenant so.
      delete env[SIMULATOR_ORIGIN_ENV];
      target = 'tenant';
      origin = settings.origin;
      waitScale = options.waitScale ?? 1;
    } else {
      waitScale = options.waitScale ?? SIMULATOR_WAIT_SCALE;
      const port = options.simulatorPort ?? 0;
      simulator = await startSimulator({ timeScale: waitScale, port }).catch((err: unknown) => {
        throw portInUseError(err, port);
      });
      closers.push(() => simulator!.close());
      target = 'simulator';
      origin = simulator.url;
      env.QUALTRICS_BASE_URL = simulator.url;
      env[SIMULATOR_ORIGIN_ENV] = new URL(simulator.url).origin;
      env.QUALTRICS_CLIENT_ID = SIMULATOR_CLIENT.clientId;
      env.QUALTRICS_CLIENT_SECRET = SIMULATOR_CLIENT.clientSecret;
    }
    if (!(waitScale > 0) || !Number.isFinite(waitScale)) {
      throw new ConfigError('--wait-scale', '--wait-scale must be a positive number');
    }
    env.QDSR_WAIT_SCALE = String(waitScale);
    if (options.storage !== false) {
      let aws: Awaited<ReturnType<typeof startLocalAws>>;
      try {
        aws = await startLocalAws({ dataDir });
      } catch (err) {
        throw unusableDirError(err, dataDir, '--data-dir');
      }
      closers.push(() => aws.close());
      aws.applyEnv();
      // The laptop's event bus: every event this process emits, one line each.
      const stopEventLog = appendLocalEventsTo(dataDir);
      closers.push(async () => stopEventLog());
      // Minimization (README "Retention") runs whenever the local runtime starts.
      await requestStoreFromEnv(env).forgetEmails();
    }
    return {
      target,
      origin,
      waitScale,
      dataDir,
      simulator,
      describe: () =>
        target === 'simulator'
          ? `Qualtrics: the built-in simulator at ${origin} (set QUALTRICS_BASE_URL or QUALTRICS_DATACENTER to use a real tenant)`
          : `Qualtrics: ${origin} (from ${env.QUALTRICS_BASE_URL ? 'QUALTRICS_BASE_URL' : 'QUALTRICS_DATACENTER'})`,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
