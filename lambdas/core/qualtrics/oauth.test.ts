import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fail,
  REFERENCE_CLIENT_ID,
  REFERENCE_CLIENT_SECRET,
  type ReferenceServer,
  startReferenceServer,
} from '../../../test/support/reference-server';
import { ErrorNames, QualtricsError } from '../errors';
import { createTokenProvider, type TokenSettings } from './oauth';

let server: ReferenceServer;
let clock: number;

beforeEach(async () => {
  server = await startReferenceServer();
  clock = 1_000_000;
});
afterEach(async () => {
  await server.close();
});

function provider(overrides: Partial<TokenSettings> = {}) {
  return createTokenProvider({
    origin: server.origin,
    clientId: REFERENCE_CLIENT_ID,
    clientSecret: REFERENCE_CLIENT_SECRET,
    scopes: ['read:users', 'read:directories'],
    refreshMarginSeconds: 60,
    timeoutMs: 2000,
    userAgent: 'test',
    now: () => clock,
    ...overrides,
  });
}

async function rejection(p: Promise<unknown>): Promise<QualtricsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(QualtricsError);
  const err = e as QualtricsError;
  for (const text of [err.message, err.stack ?? '', JSON.stringify(err)]) {
    expect(text).not.toContain(REFERENCE_CLIENT_SECRET);
    expect(text).not.toContain(
      Buffer.from(`${REFERENCE_CLIENT_ID}:${REFERENCE_CLIENT_SECRET}`).toString('base64'),
    );
  }
  return err;
}

describe('token provider', () => {
  it('asks with HTTP Basic and a form body, and returns the granted scopes', async () => {
    const token = await provider().current();
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/oauth2/token', endpoint: 'token' });
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from(`${REFERENCE_CLIENT_ID}:${REFERENCE_CLIENT_SECRET}`).toString('base64')}`,
    );
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.form).toEqual({ grant_type: 'client_credentials', scope: 'read:users read:directories' });
    expect(token.value).toBe(server.tokensIssued[0]);
    expect(token.scopes).toEqual(['read:users', 'read:directories']);
  });

  it('caches the token until expires_in minus the margin', async () => {
    const tokens = provider();
    const first = await tokens.current();
    clock += (3600 - 60) * 1000 - 1;
    expect((await tokens.current()).value).toBe(first.value);
    expect(server.tokensIssued).toHaveLength(1);
    clock += 2;
    const second = await tokens.current();
    expect(second.value).not.toBe(first.value);
    expect(server.tokensIssued).toHaveLength(2);
  });

  it('uses at least half of a lifetime shorter than the margin', async () => {
    await server.close();
    server = await startReferenceServer({ expiresIn: 30 });
    const tokens = provider();
    const first = await tokens.current();
    clock += 14_000;
    expect((await tokens.current()).value).toBe(first.value);
    clock += 2_000;
    expect((await tokens.current()).value).not.toBe(first.value);
  });

  it('shares one in-flight request among concurrent callers', async () => {
    const tokens = provider();
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.current()));
    expect(server.requestsTo('token')).toHaveLength(1);
    expect(new Set(all.map((t) => t.value)).size).toBe(1);
  });

  it('forgets an invalidated token only if it is still the current one', async () => {
    const tokens = provider();
    const first = await tokens.current();
    tokens.invalidate('some-other-token');
    expect((await tokens.current()).value).toBe(first.value);
    tokens.invalidate(first.value);
    const second = await tokens.current();
    expect(second.value).not.toBe(first.value);
    tokens.invalidate(first.value); // a late 401 for the old token does not drop the new one
    expect((await tokens.current()).value).toBe(second.value);
    expect(server.tokensIssued).toHaveLength(2);
  });

  it('does not cache a failure', async () => {
    let calls = 0;
    server.on('token', () => {
      calls += 1;
      return calls === 1 ? fail(503, 'TEMP') : { json: { access_token: 'tok-2', expires_in: 3600 } };
    });
    const tokens = provider();
    expect((await rejection(tokens.current())).name).toBe(ErrorNames.Transient);
    expect((await tokens.current()).value).toBe('tok-2');
    expect((await tokens.current()).scopes).toBeUndefined();
  });

  it('maps RFC 6749 and envelope errors', async () => {
    const wrongSecret = provider({ clientSecret: 'wrong-secret-xyz' });
    const auth = await rejection(wrongSecret.current());
    expect(auth).toMatchObject({
      name: ErrorNames.Auth,
      httpStatus: 401,
      errorCode: 'invalid_client',
      endpoint: 'token',
    });
    expect(auth.message).not.toContain('wrong-secret-xyz');

    server.on('token', () => ({ status: 400, json: { error: 'invalid_scope', error_description: 'nope' } }));
    expect(await rejection(provider().current())).toMatchObject({
      name: ErrorNames.MissingScope,
      errorCode: 'invalid_scope',
    });

    server.on('token', () => fail(401, 'DCD_7', 'Unrecognized client.'));
    expect(await rejection(provider().current())).toMatchObject({
      name: ErrorNames.Auth,
      errorCode: 'DCD_7',
    });

    server.on('token', () => ({ json: { token_type: 'Bearer' } }));
    const odd = await rejection(provider().current());
    expect(odd.name).toBe(ErrorNames.UnexpectedResponse);
    expect(odd.message).toMatch(/access_token is missing/);
  });
});
