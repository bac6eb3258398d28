import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scopedEnv } from '../../../test/support/scoped-env';
import { type SigV4Server, startSigV4Server, verifySigV4 } from '../../../test/support/sigv4-server';
import { apiGatewayRegion, credentialsError, isRegion, sigV4Signer } from './sigv4';

/**
 * SigV4 for a deployed API, verified as API Gateway would: the signature is recomputed from the
 * request as received, with the expected credentials (test/support/sigv4-server.ts). A wrong
 * secret, another region, or a request changed after signing must fail.
 */

const KEY = {
  accessKeyId: 'AKIDEXAMPLEQDSR00001',
  secretAccessKey: 'qdsr/test/secret+key/0123456789abcdefghij',
};
const REGION = 'eu-west-1';
const STAGE_URL = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1';

describe('apiGatewayRegion', () => {
  it("reads the region of API Gateway's own URLs only", () => {
    expect(apiGatewayRegion(new URL(STAGE_URL))).toBe('eu-west-1');
    expect(apiGatewayRegion(new URL('https://abc123.execute-api.us-gov-west-1.amazonaws.com/prod'))).toBe(
      'us-gov-west-1',
    );
    expect(apiGatewayRegion(new URL('https://abc123.execute-api.cn-north-1.amazonaws.com.cn/v1'))).toBe(
      'cn-north-1',
    );
    for (const other of [
      'https://abc123.execute-api.eu-west-1.amazonaws.com.evil.example/v1',
      'https://execute-api.eu-west-1.amazonaws.com/v1',
      'https://dsr.example.com/v1',
      'http://127.0.0.1:3000',
    ]) {
      expect(apiGatewayRegion(new URL(other)), other).toBeUndefined();
    }
    expect(isRegion('eu-west-1')).toBe(true);
    expect(isRegion('eu-west')).toBe(false);
    expect(isRegion('EU-WEST-1')).toBe(false);
  });
});

describe('sigV4Signer, verified by recomputing the signature', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const sign = (secretAccessKey = KEY.secretAccessKey, region = REGION) =>
    sigV4Signer({ region, credentials: { ...KEY, secretAccessKey }, now: () => now });
  const expected = { ...KEY, region: REGION, now: () => now };

  /** The request as API Gateway would receive it: the signed headers plus the Host. */
  async function receivedAs(
    signer: ReturnType<typeof sigV4Signer>,
    method: string,
    path: string,
    body?: string,
  ) {
    const url = new URL(`${STAGE_URL}${path}`);
    const base: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const headers = await signer({ method, url, headers: base, ...(body === undefined ? {} : { body }) });
    return {
      method,
      url: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(
        Object.entries({ ...headers, host: url.host }).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      body: body ?? '',
    };
  }

  it('signs for execute-api in the region, over host, date and body; the verifier accepts it', async () => {
    const req = await receivedAs(sign(), 'POST', '/requests/search', '{"email":"x@example.com"}');
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEQDSR00001\/20260301\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(req.headers['x-amz-date']).toBe('20260301T100000Z');
    expect(await verifySigV4(req, expected)).toEqual({ ok: true });
    const list = await receivedAs(sign(), 'GET', '/requests?status=FAILED&type=access&limit=500');
    expect(await verifySigV4(list, expected)).toEqual({ ok: true });
  });

  it('fails with a wrong secret, another region, or a request changed after signing', async () => {
    const wrongSecret = await receivedAs(sign('not-the-secret'), 'GET', '/requests');
    expect(await verifySigV4(wrongSecret, expected)).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
    const otherRegion = await receivedAs(sign(KEY.secretAccessKey, 'us-east-1'), 'GET', '/requests');
    expect(await verifySigV4(otherRegion, expected)).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
    const signed = await receivedAs(sign(), 'POST', '/requests/search', '{"email":"x@example.com"}');
    for (const tampered of [
      { ...signed, body: '{"email":"y@example.com"}' },
      { ...signed, url: '/v1/requests/search?x=1' },
      { ...signed, method: 'PUT' },
      { ...signed, headers: { ...signed.headers, host: 'other.execute-api.eu-west-1.amazonaws.com' } },
    ]) {
      expect(await verifySigV4(tampered, expected)).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
    }
    const unsigned = { ...signed, headers: { host: signed.headers.host } };
    expect(await verifySigV4(unsigned, expected)).toMatchObject({ code: 'MISSING_AUTHENTICATION_TOKEN' });
    // A signature from 10 minutes ago is refused.
    const late = { ...expected, now: () => new Date(now.getTime() + 10 * 60_000) };
    expect(await verifySigV4(signed, late)).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
  });
});

describe('over HTTP, with the default credential chain', () => {
  let server: SigV4Server;
  const env = scopedEnv();
  beforeAll(async () => {
    server = await startSigV4Server({ expected: { ...KEY, region: REGION }, stage: 'v1' });
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => env.restore());

  /** The environment of a machine with static keys and nothing else (no profile, no instance role). */
  const credentialsInEnv = (secret: string) =>
    env.set({
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
    });

  async function call(method: string, path: string, body?: string) {
    const url = new URL(`${server.url}/v1${path}`);
    const base: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const headers = await sigV4Signer({ region: REGION })({ method, url, headers: base, body });
    const res = await fetch(url, { method, headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('a call signed with the keys in the environment is admitted', async () => {
    credentialsInEnv(KEY.secretAccessKey);
    expect(await call('GET', '/requests?status=FAILED&status=RUNNING')).toMatchObject({
      status: 200,
      json: { ok: true, method: 'GET', url: '/v1/requests?status=FAILED&status=RUNNING' },
    });
    expect(
      await call('POST', '/requests/3f2504e0-4f89-41d3-9a0c-0305e82c3301/extend', '{"reason":"r"}'),
    ).toMatchObject({
      status: 200,
      json: { ok: true, body: '{"reason":"r"}' },
    });
  });

  it('a wrong secret in the environment is refused 403 INVALID_SIGNATURE', async () => {
    credentialsInEnv('wrong/secret/0000000000000000000000000');
    const res = await call('GET', '/requests');
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { code: 'INVALID_SIGNATURE' } });
    expect(server.received.at(-1)?.verdict).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
  });

  it('no credentials anywhere: a clear error naming what to set, never a secret', async () => {
    env.set({
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/qdsr/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/qdsr/credentials',
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_EC2_METADATA_DISABLED: 'true', // never ask an instance metadata service from a test
    });
    const signer = sigV4Signer({ region: REGION });
    const err = await signer({ method: 'GET', url: new URL(`${server.url}/v1/requests`), headers: {} }).catch(
      (e: unknown) => e,
    );
    const mapped = credentialsError(err);
    expect(mapped?.message).toMatch(
      /no AWS credentials .* set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(credentialsError(new Error('other'))).toBeUndefined();
  });
});
