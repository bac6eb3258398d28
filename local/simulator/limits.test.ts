import { afterEach, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { ENDPOINT_NAMES } from '../../lambdas/core/qualtrics/endpoints';
import {
  SEEDED_SUBJECT,
  type Simulator,
  type SimulatorCounters,
  type SimulatorOptions,
  startSimulator,
} from './index';
import { api, emailFilter, manualClock, requestToken, token } from './test-support';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<{ s: Simulator; bearer: string }> {
  sim = await startSimulator(options);
  return { s: sim, bearer: await token(sim) };
}

const searchOnlyErasure = (i: number) => ({ emails: [`p${i}@example.com`], searchOnly: true });

describe('rate limits', () => {
  it('answers 429 with Retry-After past a bucket limit, over an exact sliding window', async () => {
    const t = manualClock();
    // timeScale 0.01: a simulated minute is 600 ms of (manual) real time
    const { s, bearer } = await start({ clock: t.clock, timeScale: 0.01 });
    for (let i = 0; i < 20; i++) {
      expect((await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(i))).status).toBe(
        200,
      );
      if (i === 9) t.advance(100); // the second ten arrive 100 ms later
    }
    const limited = await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(20));
    expect(limited.status).toBe(429);
    expect(limited.json.meta.httpStatus).toBe('429 - Too Many Requests');
    expect(limited.json.meta.error).toEqual({ errorMessage: 'Too many requests', errorCode: 'RATE_LIMIT' });
    expect(limited.headers.get('retry-after')).toBe('1'); // ceil(500 ms) in whole seconds
    expect(limited.headers.get('x-simulator-retry-after-ms')).toBe('500');
    // other buckets are unaffected
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);

    t.advance(499);
    expect((await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(21))).status).toBe(429);
    t.advance(1); // the first ten leave the window together: exactly ten slots free
    for (let i = 0; i < 10; i++) {
      expect(
        (await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(30 + i))).status,
      ).toBe(200);
    }
    const again = await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(40));
    expect(again.status).toBe(429);
    expect(again.headers.get('x-simulator-retry-after-ms')).toBe('100');

    expect(s.erasures()).toHaveLength(30); // 429s created nothing
    const c = s.counters().byEndpoint.createErasureRequest!;
    expect(c).toEqual({ requests: 33, status429: 3, status5xx: 0, status4xx: 0 });
    expect(s.counters().log.filter((e) => e.endpoint === 'createErasureRequest')).toHaveLength(30);
  });

  it('applies the brand limit across endpoints and leaves the token endpoint alone', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, bucketLimits: { brand: 5 } });
    for (let i = 0; i < 3; i++) expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await api(s, bearer, 'GET', '/directories')).status).toBe(200);
    const limited = await api(s, bearer, 'GET', '/op-erase-personal-data');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect((await requestToken(s)).status).toBe(200);
    t.advance(60_000);
    expect((await api(s, bearer, 'GET', '/op-erase-personal-data')).status).toBe(200);
  });

  it('can omit Retry-After and can stop enforcing', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock, retryAfter: false, bucketLimits: { whoami: 1 } });
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    const limited = await api(s, bearer, 'GET', '/whoami');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    s.setOptions({ enforceRateLimits: false });
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    s.setOptions({ enforceRateLimits: true, retryAfter: true });
    expect((await api(s, bearer, 'GET', '/whoami')).headers.get('retry-after')).toBe('60');
  });

  it('uses the endpoint table limits by default (20/min for erasure creates on the real clock)', async () => {
    const { s, bearer } = await start({ timeScale: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await api(s, bearer, 'POST', '/op-erase-personal-data', searchOnlyErasure(i))).status);
    }
    expect(statuses.filter((x) => x === 200)).toHaveLength(20);
    expect(statuses[20]).toBe(429);
  });
});

describe('faults', () => {
  it('scripted: the next N calls fail, then the endpoint recovers', async () => {
    const { s, bearer } = await start();
    s.faults.set('whoami', { status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await api(s, bearer, 'GET', '/whoami'));
    expect(statuses.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(statuses[0]!.json.meta.httpStatus).toBe('503 - Service Unavailable');
    expect(statuses[0]!.json.meta.error.errorCode).toBe('SIM_FAULT');
    expect(s.counters().byEndpoint.whoami).toEqual({ requests: 3, status429: 0, status5xx: 2, status4xx: 0 });
  });

  it('probabilistic: deterministic for a seed, and driven by a replaceable random()', async () => {
    const run = async () => {
      const { s, bearer } = await start({ randomSeed: 42 });
      s.faults.set('*', { status: 500, probability: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await api(s, bearer, 'GET', '/whoami')).status);
      await s.close();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(500);
    expect(a).toContain(200);

    const { s, bearer } = await start();
    s.faults.set('*', { status: 502, probability: 0.5 });
    s.faults.random = () => 0.99;
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    s.faults.random = () => 0.1;
    expect((await api(s, bearer, 'GET', '/directories')).status).toBe(502);
    // '*' does not cover the token endpoint
    expect((await requestToken(s)).status).toBe(200);
    s.faults.clear();
    expect((await api(s, bearer, 'GET', '/directories')).status).toBe(200);
  });

  it('faults the token endpoint only when named, and injects 429s that are not admitted', async () => {
    const { s, bearer } = await start();
    s.faults.set('token', { status: 504, times: 1 });
    expect((await requestToken(s)).status).toBe(504);
    expect((await requestToken(s)).status).toBe(200);
    s.faults.set('whoami', { status: 429, times: 1 });
    const limited = await api(s, bearer, 'GET', '/whoami');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(s.counters().log.filter((e) => e.endpoint === 'whoami')).toEqual([]);
  });

  it('delays, and hangs until the client gives up; close() does not wait for a hung request', async () => {
    const { s, bearer } = await start();
    s.faults.set('whoami', { delayMs: 20, times: 1 });
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    s.faults.set('whoami', { hang: true });
    const abort = new AbortController();
    const pending = fetch(`${s.url}/API/v3/whoami`, {
      headers: { authorization: `Bearer ${bearer}` },
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toThrow();
    const stuck = fetch(`${s.url}/API/v3/whoami`, { headers: { authorization: `Bearer ${bearer}` } });
    const outcome = stuck.then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 20));
    await s.close();
    expect(await outcome).toBe('dropped');
  });

  it('rejects invalid faults', async () => {
    const { s } = await start();
    expect(() => s.faults.set('nope', { status: 500 })).toThrow();
    expect(() => s.faults.set('whoami', { probability: 2 })).toThrow();
    expect(() => s.faults.set('whoami', { status: 404 as 500 })).toThrow();
  });
});

describe('counters', () => {
  it('counts per endpoint and per subject (hashed), and logs admitted requests', async () => {
    const t = manualClock();
    const { s, bearer } = await start({ clock: t.clock });
    const dir = s.contactsWithEmail(SEEDED_SUBJECT)[0]!.directoryId;
    await api(s, bearer, 'POST', `/directories/${dir}/contacts/search`, emailFilter('SOMEONE@example.com'));
    await api(s, bearer, 'POST', `/directories/${dir}/contacts/search`, emailFilter(SEEDED_SUBJECT));
    t.advance(5);
    await api(s, bearer, 'POST', '/customer-data-requests', { email: SEEDED_SUBJECT });
    await api(s, bearer, 'POST', '/op-erase-personal-data', {
      emails: [SEEDED_SUBJECT, 'x@example.org'],
      searchOnly: true,
    });
    await api(s, undefined, 'GET', '/whoami');

    const c = s.counters();
    expect(Object.keys(c.byEndpoint).sort()).toEqual([...ENDPOINT_NAMES, 'unknown'].sort());
    expect(c.byEndpoint.searchDirectoryContacts!.requests).toBe(2);
    expect(c.byEndpoint.whoami!.status4xx).toBe(1);
    expect(c.bySubject[emailSha256(SEEDED_SUBJECT)]).toEqual({
      customerDataCreates: 1,
      erasureCreates: 1,
      searches: 2,
    });
    expect(c.bySubject[emailSha256('x@example.org')]).toEqual({
      customerDataCreates: 0,
      erasureCreates: 1,
      searches: 0,
    });
    expect(JSON.stringify(c)).not.toMatch(/example\.(com|org)/i);
    expect(c.tokensIssued).toBe(1);
    const start0 = t.clock() - 5;
    expect(c.log).toEqual([
      { at: start0, endpoint: 'searchDirectoryContacts', status: 200 },
      { at: start0, endpoint: 'searchDirectoryContacts', status: 200 },
      { at: start0 + 5, endpoint: 'createCustomerDataRequest', status: 200 },
      { at: start0 + 5, endpoint: 'createErasureRequest', status: 200 },
      { at: start0 + 5, endpoint: 'whoami', status: 400 },
    ]);

    const snapshot = s.counters();
    snapshot.byEndpoint.whoami!.requests = 999;
    expect(s.counters().byEndpoint.whoami!.requests).toBe(1);
    s.resetCounters();
    expect(s.counters().log).toEqual([]);
    expect(s.counters().bySubject).toEqual({});
  });
});

describe('HTTP /__simulator routes', () => {
  it('serves counters, arms and clears faults, revokes tokens', async () => {
    const { s, bearer } = await start();
    await api(s, bearer, 'GET', '/whoami');
    const counters = (await (await fetch(`${s.url}/__simulator/counters`)).json()) as SimulatorCounters;
    expect(counters.byEndpoint.whoami!.requests).toBe(1);
    expect(counters.log).toEqual([]);
    const withLog = (await (await fetch(`${s.url}/__simulator/counters?log=1`)).json()) as SimulatorCounters;
    expect(withLog.log).toHaveLength(1);

    const post = (path: string, body?: unknown) =>
      fetch(`${s.url}/__simulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('faults', { endpoint: 'whoami', fault: { status: 500 } })).status).toBe(200);
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(500);
    expect((await post('faults', { clear: true })).status).toBe(200);
    expect((await api(s, bearer, 'GET', '/whoami')).status).toBe(200);
    expect((await post('faults', { endpoint: 'nope', fault: {} })).status).toBe(400);
    expect((await post('faults', { endpoint: 'whoami', fault: { status: 418 } })).status).toBe(400);

    expect((await post('revoke-tokens')).status).toBe(200);
    expect((await api(s, bearer, 'GET', '/whoami')).json.meta.error.errorCode).toBe('AUTH_6.0');
    expect((await post('reset-counters')).status).toBe(200);
    expect(s.counters().byEndpoint.whoami!.requests).toBe(0);
    expect((await fetch(`${s.url}/__simulator/nothing`)).status).toBe(404);
  });
});
