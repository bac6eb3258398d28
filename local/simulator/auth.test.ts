import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { requiredScopes } from '../../lambdas/core/qualtrics/endpoints';
import { SIMULATOR_CLIENT, type Simulator, type SimulatorOptions, startSimulator } from './index';
import { api, basicAuth, manualClock, requestToken, token } from './test-support';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator(options);
  return sim;
}

describe('POST /oauth2/token', () => {
  it('issues a bearer token with every allowed scope when none is asked for', async () => {
    const s = await start();
    const a = await requestToken(s);
    expect(a.status).toBe(200);
    expect(a.json.access_token).toMatch(UUID_V4);
    expect(a.json.token_type).toBe('Bearer');
    expect(a.json.expires_in).toBe(3600);
    expect(a.json.scope.split(' ').sort()).toEqual(requiredScopes());
    expect(a.json.meta).toBeUndefined(); // a bare OAuth object, not the v3 envelope
    expect(s.counters().tokensIssued).toBe(1);
  });

  it('accepts client credentials in a urlencoded or JSON body instead of Basic auth', async () => {
    const s = await start();
    const form = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${SIMULATOR_CLIENT.clientId}&client_secret=${SIMULATOR_CLIENT.clientSecret}`,
    });
    expect(form.status).toBe(200);
    const json = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        ...{ client_id: 'qdsr-local' },
        client_secret: 'qdsr-local-secret',
      }),
    });
    expect(json.status).toBe(200);
    const multipart = new FormData();
    multipart.set('grant_type', 'client_credentials');
    multipart.set('scope', 'read:users');
    const mp = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(SIMULATOR_CLIENT.clientId, SIMULATOR_CLIENT.clientSecret) },
      body: multipart,
    });
    expect(mp.status).toBe(200);
    expect(((await mp.json()) as { scope: string }).scope).toBe('read:users');
    expect(s.counters().tokensIssued).toBe(3);
  });

  it('rejects a bad client with 401 invalid_client', async () => {
    const s = await start();
    const wrongSecret = await requestToken(s, undefined, { clientId: 'qdsr-local', clientSecret: 'nope' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.json.error).toBe('invalid_client');
    const unknown = await requestToken(s, undefined, { clientId: 'someone-else', clientSecret: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('invalid_client');
    expect(s.counters().tokensIssued).toBe(0);
  });

  it('rejects grant types other than client_credentials', async () => {
    const s = await start();
    const a = await requestToken(s, { grant_type: 'password' });
    expect(a.status).toBe(400);
    expect(a.json.error).toBe('unsupported_grant_type');
    const missing = await requestToken(s, { scope: 'read:users' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
  });

  it('grants exactly the requested scopes when the client has them, else invalid_scope', async () => {
    const s = await start({
      clients: [
        { clientId: 'narrow', clientSecret: 'narrow-secret', scopes: ['read:users', 'manage:directories'] },
      ],
    });
    const narrow = { clientId: 'narrow', clientSecret: 'narrow-secret' };
    const subset = await requestToken(s, { grant_type: 'client_credentials', scope: 'read:users' }, narrow);
    expect(subset.status).toBe(200);
    expect(subset.json.scope).toBe('read:users');
    // manage:directories implies read:directories (scopeSatisfied)
    const implied = await requestToken(
      s,
      { grant_type: 'client_credentials', scope: 'read:directories' },
      narrow,
    );
    expect(implied.status).toBe(200);
    expect(implied.json.scope).toBe('read:directories');
    const tooMuch = await requestToken(
      s,
      { grant_type: 'client_credentials', scope: 'read:users manage:erasure_requests' },
      narrow,
    );
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.json.error).toBe('invalid_scope');
    const all = await requestToken(s, { grant_type: 'client_credentials' }, narrow);
    expect(all.json.scope).toBe('read:users manage:directories');
  });

  it('reports a scaled expires_in', async () => {
    const s = await start({ timeScale: 0.01 });
    const a = await requestToken(s);
    expect(a.json.expires_in).toBe(36);
  });
});

describe('authentication on /API/v3', () => {
  it('answers 400 ATP_2 without credentials', async () => {
    const s = await start();
    const a = await api(s, undefined, 'GET', '/whoami');
    expect(a.status).toBe(400);
    expect(a.json.meta.httpStatus).toBe('400 - Bad Request');
    expect(a.json.meta.error).toEqual({
      errorMessage: 'Expected authorization in headers, but none provided.',
      errorCode: 'ATP_2',
    });
    expect(a.json.meta.requestId).toMatch(UUID_V4);
    expect(a.json.result).toBeUndefined();
  });

  it('answers 401 DCD_7 for an unknown bearer or X-API-TOKEN, and accepts the seeded API token', async () => {
    const s = await start();
    const bearer = await api(s, '11111111-2222-4333-8444-555555555555', 'GET', '/whoami');
    expect(bearer.status).toBe(401);
    expect(bearer.json.meta.error).toEqual({ errorMessage: 'Unrecognized X-API-TOKEN.', errorCode: 'DCD_7' });
    const apiToken = await api(s, undefined, 'GET', '/whoami', undefined, { 'X-API-TOKEN': 'not-a-token' });
    expect(apiToken.status).toBe(401);
    expect(apiToken.json.meta.error.errorCode).toBe('DCD_7');
    const seeded = await api(s, undefined, 'GET', '/whoami', undefined, {
      'x-api-token': 'qdsr-local-api-token',
    });
    expect(seeded.status).toBe(200);
  });

  it('answers 401 AUTH_6.0 once a token expires (scaled TTL)', async () => {
    const t = manualClock();
    const s = await start({ clock: t.clock, timeScale: 0.5, tokenTtlSeconds: 100 });
    const bearer = await token(s);
    t.advance(49_999); // 100 s × 0.5 = 50 000 ms of (manual) real time
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    t.advance(1);
    const expired = await api(s, bearer, 'GET', '/whoami');
    expect(expired.status).toBe(401);
    expect(expired.json.meta.error.errorCode).toBe('AUTH_6.0');
    const fresh = await token(s);
    expect((await api(s, fresh, 'GET', '/whoami')).status).toBe(200);
  });

  it('tokenTtlSeconds can be changed at run time for tokens issued afterwards', async () => {
    const t = manualClock();
    const s = await start({ clock: t.clock });
    s.setOptions({ tokenTtlSeconds: 1 });
    const bearer = await token(s);
    t.advance(1000);
    expect((await api(s, bearer, 'GET', '/whoami')).json.meta.error.errorCode).toBe('AUTH_6.0');
  });

  it('revokeTokens() makes every issued token answer AUTH_6.0', async () => {
    const s = await start();
    const a = await token(s);
    const b = await token(s);
    s.revokeTokens();
    for (const bearer of [a, b]) {
      const r = await api(s, bearer, 'GET', '/whoami');
      expect(r.status).toBe(401);
      expect(r.json.meta.error.errorCode).toBe('AUTH_6.0');
    }
    expect((await api(s, await token(s), 'GET', '/whoami')).status).toBe(200);
  });

  it('answers 403 AuthZ_2.0 when the token lacks the endpoint scope', async () => {
    const s = await start();
    const bearer = await token(s, SIMULATOR_CLIENT, 'read:users');
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    const denied = await api(s, bearer, 'GET', '/directories');
    expect(denied.status).toBe(403);
    expect(denied.json.meta.httpStatus).toBe('403 - Forbidden');
    expect(denied.json.meta.error.errorCode).toBe('AuthZ_2.0');
    const erasure = await api(s, bearer, 'POST', '/op-erase-personal-data', {
      emails: ['x@example.com'],
      searchOnly: true,
    });
    expect(erasure.status).toBe(403);
    expect(s.erasures()).toHaveLength(0);
  });
});

describe('HTTP-level behaviour', () => {
  it('answers an unknown route with the exact Qualtrics 404 body', async () => {
    const s = await start();
    const bearer = await token(s);
    for (const path of ['/API/v3/contacts', '/API/v3/whoami/extra', '/nothing', '/API/v3']) {
      const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        meta: {
          httpStatus: '404 - Not Found',
          error: { errorMessage: 'The requested resource does not exist.' },
        },
      });
    }
    // the right path with the wrong method is no route either
    const wrongMethod = await fetch(`${s.url}/oauth2/token`);
    expect(wrongMethod.status).toBe(404);
    expect(s.counters().byEndpoint.unknown!.requests).toBe(5);
  });

  it('answers 411 to a POST without a body (no Content-Length, or an empty one)', async () => {
    const s = await start();
    const bearer = await token(s);
    const empty = await fetch(`${s.url}/API/v3/op-erase-personal-data`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(empty.status).toBe(411);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${s.url}/API/v3/customer-data-requests`,
        { method: 'POST', headers: { authorization: `Bearer ${bearer}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(); // no body, no Content-Length
    });
    expect(status).toBe(411);
    expect(s.erasures()).toHaveLength(0);
    expect(s.customerDataJobs()).toHaveLength(0);
  });

  it('closes promptly with keep-alive connections open', async () => {
    const s = await start();
    const bearer = await token(s);
    await api(s, bearer, 'GET', '/whoami');
    await s.close();
    await expect(fetch(`${s.url}/API/v3/whoami`)).rejects.toThrow();
  });
});
