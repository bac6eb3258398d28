import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * Signing the CLI's calls to a deployed API (README "The CLI against a deployment";
 * docs/deploy.md "Call the API (SigV4)"). The stack's REST API authorizes every method with IAM,
 * so each request carries an AWS Signature Version 4 for the service `execute-api`, made with the
 * default AWS credential chain (environment, shared config and SSO profiles, process credentials,
 * web identity, container and instance roles) — the credentials the AWS CLI would use.
 */

/** What a signer needs to sign one request. */
export interface SignableRequest {
  method: string;
  url: URL;
  /** The headers to sign (the signer adds `host`, `x-amz-date` and, with a session, the token). */
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers to send: the given ones plus the signature's. */
export type RequestSigner = (req: SignableRequest) => Promise<Record<string, string>>;

export const API_GATEWAY_SERVICE = 'execute-api';

/** `https://<api-id>.execute-api.<region>.amazonaws.com[.cn]/<stage>`: API Gateway's own URL. */
const API_GATEWAY_HOST = /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** The region of an API Gateway URL (`…execute-api.<region>.amazonaws.com`), else undefined. */
export function apiGatewayRegion(url: URL): string | undefined {
  return API_GATEWAY_HOST.exec(url.hostname.toLowerCase())?.[1];
}

/** An AWS region name (`eu-west-1`, `us-gov-west-1`, `cn-north-1`). */
export const isRegion = (value: string): boolean => /^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(value);

export type SignerCredentials = NonNullable<ConstructorParameters<typeof SignatureV4>[0]['credentials']>;

export interface SignerOptions {
  region: string;
  /** Default: the default AWS credential chain (fromNodeProviderChain), resolved at the first call. */
  credentials?: SignerCredentials;
  /** Default: now (tests pin it). */
  now?: () => Date;
}

/** A SigV4 signer for `execute-api` in `region`. */
export function sigV4Signer(o: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: API_GATEWAY_SERVICE,
    region: o.region,
    credentials: o.credentials ?? fromNodeProviderChain(),
    sha256: Sha256,
  });
  return async (req) => {
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of req.url.searchParams) {
      const seen = query[name];
      query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    const signed = await signer.sign(
      {
        method: req.method.toUpperCase(),
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        ...(req.url.port ? { port: Number(req.url.port) } : {}),
        path: req.url.pathname,
        query,
        headers: { ...req.headers, host: req.url.host },
        ...(req.body === undefined ? {} : { body: req.body }),
      },
      o.now ? { signingDate: o.now() } : {},
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // fetch sets Host from the URL itself (it may not be given): the signature covers the same value.
      if (name.toLowerCase() !== 'host') headers[name] = String(value);
    }
    return headers;
  };
}

/** The credential chain found nothing, or a source it tried failed (never with a secret in it). */
export class AwsCredentialsError extends Error {
  constructor(reason: string) {
    super(
      `no AWS credentials to sign the API call with (${reason}); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is available`,
    );
    this.name = 'AwsCredentialsError';
  }
}

/** The provider chain's failure as an AwsCredentialsError (its message names sources, never secrets). */
export function credentialsError(err: unknown): AwsCredentialsError | undefined {
  const name = (err as { name?: unknown })?.name;
  if (name !== 'CredentialsProviderError' && name !== 'ProviderError' && name !== 'TokenProviderError') {
    return undefined;
  }
  return new AwsCredentialsError('the default credential chain found none');
}
