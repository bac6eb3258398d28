import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * What API Gateway's IAM authorization does with a call, on loopback: the SigV4 signature is
 * recomputed from the request as received, with the caller's expected credentials, by the same
 * library the CLI signs with, and compared. A valid call is answered (or forwarded to the API
 * behind, like API Gateway's proxy integration); any other is refused in the deployed API's
 * error shape (`{"error":{"code","message"}}`, its gateway responses), 403.
 */

export interface SigV4Expectation {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
  /** The verifier's clock (default now); a signature more than 5 minutes off it is refused. */
  now?: () => Date;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query string as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Verdict = { ok: true } | { ok: false; code: string; message: string };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;

const refuse = (code: string, message: string): Verdict => ({ ok: false, code, message });

export async function verifySigV4(req: ReceivedRequest, expected: SigV4Expectation): Promise<Verdict> {
  const service = expected.service ?? 'execute-api';
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const auth = AUTHORIZATION.exec(header('authorization') ?? '');
  if (!auth) return refuse('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token');
  const [, keyId, day, region, signedService, signedHeaderList, signature] = auth as unknown as string[];
  if (keyId !== expected.accessKeyId) {
    return refuse('UNAUTHORIZED', 'The security token included in the request is invalid.');
  }
  if (region !== expected.region || signedService !== service) {
    return refuse('INVALID_SIGNATURE', `Credential should be scoped to a valid region and to ${service}.`);
  }
  const amzDate = header('x-amz-date') ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m || amzDate.slice(0, 8) !== day)
    return refuse('INVALID_SIGNATURE', 'Date must be in ISO-8601 basic format.');
  const signingDate = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  const now = (expected.now ?? (() => new Date()))();
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return refuse('INVALID_SIGNATURE', 'Signature expired.');
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) return refuse('INVALID_SIGNATURE', 'The host header must be signed.');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(name);
    if (value === undefined) return refuse('INVALID_SIGNATURE', `Signed header ${name} is missing.`);
    headers[name] = value;
  }
  // The signer may sign the payload's hash as a header: it must be this body's.
  const payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(req.body).digest('hex')) {
    return refuse(
      'INVALID_SIGNATURE',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }
  const url = new URL(req.url, `http://${headers.host}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    service,
    region: expected.region,
    credentials: { accessKeyId: expected.accessKeyId, secretAccessKey: expected.secretAccessKey },
    sha256: Sha256,
  });
  const recomputed = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers,
      body: req.body,
    },
    { signingDate },
  );
  const theirs = Buffer.from(signature!);
  const ours = Buffer.from(
    /Signature=([0-9a-f]{64})$/.exec(String(recomputed.headers.authorization))?.[1] ?? '',
  );
  if (ours.length !== theirs.length || !timingSafeEqual(ours, theirs)) {
    return refuse(
      'INVALID_SIGNATURE',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { ok: true };
}

export interface SigV4Server {
  url: string;
  /** Every request received, with its verdict. */
  received: Array<ReceivedRequest & { verdict: Verdict }>;
  close(): Promise<void>;
}

export interface SigV4ServerOptions {
  expected: SigV4Expectation;
  /** The API behind (a local API's URL); default: answer each valid request with what it received. */
  forwardTo?: string;
  /** A stage every path must start with (`v1` → `/v1/requests`), taken off before forwarding, as API Gateway does. */
  stage?: string;
}

/**
 * A server on 127.0.0.1 that admits only correctly signed requests: each is answered 200 with
 * what it received (`{"ok":true,"method","url","body"}`), or forwarded to `forwardTo` (the API
 * behind it) without its signature headers and stage.
 */
export async function startSigV4Server(o: SigV4ServerOptions): Promise<SigV4Server> {
  const { expected, forwardTo, stage } = o;
  const received: SigV4Server['received'] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', async () => {
      const got: ReceivedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      const verdict = await verifySigV4(got, expected);
      received.push({ ...got, verdict });
      const answer = (status: number, type: string, body: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (!verdict.ok) {
        answer(
          403,
          'application/json',
          JSON.stringify({ error: { code: verdict.code, message: verdict.message } }),
        );
        return;
      }
      let path = got.url;
      if (stage !== undefined) {
        if (!path.startsWith(`/${stage}/`)) {
          answer(
            403,
            'application/json',
            JSON.stringify({
              error: { code: 'MISSING_AUTHENTICATION_TOKEN', message: 'Missing Authentication Token' },
            }),
          );
          return;
        }
        path = path.slice(stage.length + 1);
      }
      if (!forwardTo) {
        answer(
          200,
          'application/json',
          JSON.stringify({ ok: true, method: got.method, url: got.url, body: got.body }),
        );
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (/^(host|authorization|x-amz-.*|connection|content-length)$/.test(name) || value === undefined)
          continue;
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const behind = await fetch(new URL(path, forwardTo), {
        method: got.method,
        headers,
        body: got.method === 'GET' || got.method === 'HEAD' ? undefined : got.body,
      });
      answer(
        behind.status,
        behind.headers.get('content-type') ?? 'application/octet-stream',
        await behind.text(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
