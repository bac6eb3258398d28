import { CliError, ExitCode } from '../exit-codes';
import { apiTarget } from './api-target';
import type { Backend } from './backend';
import { DsrClient, type Transport, type TransportRequest, type TransportResponse } from './client';
import { pollingFollower } from './polling';
import { apiGatewayRegion, credentialsError } from './sigv4';
import { ApiUnreachableError, httpTransport } from './transports';

/**
 * The backend of a command given `--api URL` (README "The CLI against a deployment"): the same
 * client over HTTP to a deployed stack's API (SigV4-signed, api-target.ts) or a local `serve`
 * (unsigned); no data dir is opened. Requests run there; the command follows them by polling their
 * status documents, and Ctrl-C stops the following, never the request.
 */

export interface ApiBackendOptions {
  /** `--api`. */
  api: string;
  /** `--api-region`. */
  apiRegion?: string;
  /** Waits before each repetition of a call the API did not take; default RETRY_WAITS_MS (tests shorten them). */
  retryWaitsMs?: readonly number[];
}

/** Polls of a request in a deployment (its jobs take minutes to days): from 1 s, growing to 15 s. */
const DEPLOYMENT_INTERVALS = { firstMs: 1_000, maxMs: 15_000 };
/** Polls of a request in a local `serve`, as a command handed to it polls. */
const LOCAL_INTERVALS = { firstMs: 200, maxMs: 5_000 };

/** Waits before each repetition of a call the API did not take (throttled, or a gateway's hiccup). */
const RETRY_WAITS_MS = [1_000, 2_000, 4_000];

export function apiBackend(o: ApiBackendOptions): Backend {
  const target = apiTarget(o.api, o.apiRegion === undefined ? {} : { region: o.apiRegion });
  const signed = target.signer !== undefined;
  const http = httpTransport(target.baseUrl, { signer: target.signer });
  const transport = guarded(retrying(http, o.retryWaitsMs ?? RETRY_WAITS_MS), signed);
  const client = new DsrClient(transport);
  const regionFlag =
    target.region && !apiGatewayRegion(new URL(target.baseUrl)) ? ` --api-region ${target.region}` : '';
  return {
    kind: 'api',
    client,
    sameTarget: ` --api ${target.baseUrl}${regionFlag}`,
    describe: () => target.describe(),
    // The deployment checks its own Qualtrics connection; a request it cannot run ends FAILED there.
    preflight: async () => undefined,
    ...pollingFollower(client, signed ? DEPLOYMENT_INTERVALS : LOCAL_INTERVALS),
    close: async () => undefined,
  };
}

/**
 * What cannot be the command's input (exit 3, naming what to check): no AWS credentials, an API
 * that cannot be reached, a call the API refused as unauthenticated or not permitted (401/403).
 */
function guarded(transport: Transport, signed: boolean): Transport {
  return async (req) => {
    let res: TransportResponse;
    try {
      res = await transport(req);
    } catch (err) {
      const noCredentials = credentialsError(err);
      if (noCredentials) throw new CliError(ExitCode.ConfigOrConnection, noCredentials.message);
      if (err instanceof ApiUnreachableError) {
        throw new CliError(ExitCode.ConfigOrConnection, `${err.message}: check --api and the network`);
      }
      throw err;
    }
    if (res.statusCode === 401 || res.statusCode === 403) throw refused(res, signed);
    return res;
  };
}

function refused(res: TransportResponse, signed: boolean): CliError {
  const { code, message } = errorOf(res);
  const what = `the API refused the call (${res.statusCode}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''})`;
  if (!signed) return new CliError(ExitCode.ConfigOrConnection, what);
  const path =
    code === 'MISSING_AUTHENTICATION_TOKEN'
      ? "; API Gateway also answers this for a path it does not have: --api must be the stack's ApiUrl, with its stage (/v1)"
      : '';
  return new CliError(
    ExitCode.ConfigOrConnection,
    `${what}: check the AWS credentials in use (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and that they are allowed execute-api:Invoke on this API${path}`,
  );
}

/** API Gateway's message can be long (a canonical request): its first line, at most 300 characters. */
function errorOf(res: TransportResponse): { code?: string; message?: string } {
  try {
    const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown }; message?: unknown };
    const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
    const raw = body.error?.message ?? body.message;
    const message = typeof raw === 'string' ? raw.split('\n')[0]!.slice(0, 300) : undefined;
    return { code, message };
  } catch {
    return {};
  }
}

/**
 * Calls the API did not take are made again, a few times: a 429 (API Gateway's throttle refuses
 * before anything runs), and for a read also a 502/503/504, or a connection lost once the API has
 * answered (a blip while a request is followed for hours; a wrong URL fails at once). A write that
 * may have arrived is never repeated.
 */
function retrying(transport: Transport, waitsMs: readonly number[]): Transport {
  let answered = false;
  return async (req: TransportRequest) => {
    for (let attempt = 0; ; attempt++) {
      const wait = waitsMs[attempt];
      let res: TransportResponse;
      try {
        res = await transport(req);
      } catch (err) {
        const lost = err instanceof ApiUnreachableError && answered && req.method === 'GET';
        if (!lost || wait === undefined) throw err;
        await sleep(wait);
        continue;
      }
      answered = true;
      const again =
        res.statusCode === 429 || (req.method === 'GET' && [502, 503, 504].includes(res.statusCode));
      if (!again || wait === undefined) return res;
      await sleep(wait);
    }
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
