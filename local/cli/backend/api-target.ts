import { CliError, ExitCode } from '../exit-codes';
import { apiGatewayRegion, isRegion, type RequestSigner, sigV4Signer } from './sigv4';

/**
 * Where `--api URL` sends a command (README "The CLI against a deployment"): the stack's API
 * Gateway URL (`https://<id>.execute-api.<region>.amazonaws.com/<stage>`), signed with SigV4 for
 * the URL's region; an API behind a custom domain, signed for `--api-region`; or a local `serve`
 * on loopback, unsigned. Anything else is refused (exit 2) before a call is made: a plain-HTTP
 * URL off this machine would carry the ledger in clear text, and an unsigned call to API Gateway
 * can only be refused.
 */

export interface ApiTarget {
  /** The API's base URL, with its stage path and no trailing slash. */
  baseUrl: string;
  /** The SigV4 signer of a deployment; undefined for a local `serve`. */
  signer?: RequestSigner;
  /** `region` when calls are signed. */
  region?: string;
  /** For the first progress line: which API, and how it is called. */
  describe(): string;
}

export interface ApiTargetOptions {
  /** `--api-region`: sign for this region (a custom domain; an API Gateway URL names its own). */
  region?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const usage = (problem: string) =>
  new CliError(
    ExitCode.BadInput,
    `--api ${problem}: give the stack's ApiUrl (https://<api-id>.execute-api.<region>.amazonaws.com/<stage>), a custom domain with --api-region, or a local serve (http://127.0.0.1:<port>)`,
  );

export function apiTarget(raw: string, o: ApiTargetOptions = {}): ApiTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usage('must be an http(s) URL');
  // Never echoed: a URL may carry a user name and password, which a signed call never needs.
  if (url.username || url.password) throw usage('must not carry a user name or password');
  if (url.search || url.hash) throw usage('must not carry a query or a fragment');
  if (o.region !== undefined && !isRegion(o.region)) {
    throw new CliError(ExitCode.BadInput, '--api-region must be an AWS region name, such as eu-west-1');
  }
  const loopback = LOOPBACK.has(url.hostname.toLowerCase());
  const ownRegion = apiGatewayRegion(url);
  if (ownRegion && o.region !== undefined && o.region !== ownRegion) {
    throw new CliError(
      ExitCode.BadInput,
      `--api-region ${o.region} is not the region of the API Gateway URL (${ownRegion}); leave it out`,
    );
  }
  const region = ownRegion ?? o.region;
  if (!loopback && url.protocol !== 'https:') throw usage('off this machine must be https');
  if (!loopback && region === undefined) throw usage('names neither an API Gateway URL nor this machine');
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  if (region === undefined) {
    return { baseUrl, describe: () => `API: ${baseUrl} (a local serve, unsigned)` };
  }
  return {
    baseUrl,
    region,
    signer: sigV4Signer({ region }),
    describe: () => `API: ${baseUrl} (SigV4, execute-api in ${region}, default AWS credentials)`,
  };
}
