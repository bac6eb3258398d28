/**
 * Contract tests: the client against a scripted server that follows docs/qualtrics-api.md
 * (test/support/reference-server.ts), over real HTTP on 127.0.0.1.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fail,
  ok,
  paginated,
  REFERENCE_CLIENT_ID,
  REFERENCE_CLIENT_SECRET,
  type RecordedRequest,
  type ReferenceServer,
  startReferenceServer,
} from '../../../test/support/reference-server';
import { ErrorNames, InputError, QualtricsError, ThrottledError } from '../errors';
import { type EndpointName, requiredScopes } from './endpoints';
import { createQualtricsClient, type QualtricsClientOptions } from './index';
import type { CallGate } from './types';

const EMAIL = 'jane.doe@example.com';
const OTHER_EMAIL = 'john.roe@example.org';
const WRONG_SECRET = 'not-the-secret-123';

let server: ReferenceServer;
let clock: number;
let gateEvents: Array<{ phase: 'before' | 'after'; endpoint: EndpointName; outcome?: unknown }>;

const countingGate: CallGate = {
  async before(endpoint) {
    gateEvents.push({ phase: 'before', endpoint });
  },
  async after(endpoint, outcome) {
    gateEvents.push({ phase: 'after', endpoint, outcome });
  },
};

beforeEach(async () => {
  server = await startReferenceServer();
  clock = Date.parse('2026-01-01T00:00:00Z');
  gateEvents = [];
});
afterEach(async () => {
  await server.close();
});

function client(overrides: Partial<QualtricsClientOptions> = {}) {
  return createQualtricsClient({
    origin: server.origin,
    clientId: REFERENCE_CLIENT_ID,
    clientSecret: REFERENCE_CLIENT_SECRET,
    gate: countingGate,
    timeoutMs: 2000,
    now: () => clock,
    ...overrides,
  });
}

/**
 * The rejection of `p`. Every error case of this file goes through here, so each one is checked
 * to carry no credential, no token this server issued and no email, in any form a log may print.
 */
async function caught(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  const err = e as Error;
  const texts = [err.message, err.stack ?? '', JSON.stringify(err), String(err)];
  const basic = Buffer.from(`${REFERENCE_CLIENT_ID}:${REFERENCE_CLIENT_SECRET}`).toString('base64');
  for (const text of texts) {
    for (const secret of [
      REFERENCE_CLIENT_SECRET,
      WRONG_SECRET,
      basic,
      EMAIL,
      OTHER_EMAIL,
      ...server.tokensIssued,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/Bearer|Basic /);
  }
  return err;
}

async function qualtricsError(p: Promise<unknown>, name: string): Promise<QualtricsError> {
  const e = await caught(p);
  expect(e).toBeInstanceOf(QualtricsError);
  expect(e.name).toBe(name);
  return e as QualtricsError;
}

function apiRequests(): RecordedRequest[] {
  return server.requests.filter((r) => r.endpoint !== 'token');
}

async function sha256(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hex: hash.digest('hex'), bytes };
}

const directories = Array.from({ length: 6 }, (_, i) => ({ directoryId: `POOL_${i}`, name: `Dir ${i}` }));
const contacts = (n: number, key: 'id' | 'contactId' = 'id') =>
  Array.from({ length: n }, (_, i) => ({ [key]: `CID_${i}`, email: EMAIL, firstName: 'Jane' }));

describe('whoami and scopes', () => {
  it('calls GET /API/v3/whoami with the bearer token and reads the user', async () => {
    server.on('whoami', () =>
      ok({
        brandId: 'brand',
        userId: 'UR_1',
        userName: 'u#brand',
        accountType: 'UT_BRANDADMIN',
        datacenter: 'iad1',
      }),
    );
    const me = await client({ userAgent: 'qdsr-test/1' }).whoami();
    expect(me).toEqual({
      brandId: 'brand',
      userId: 'UR_1',
      userName: 'u#brand',
      accountType: 'UT_BRANDADMIN',
      datacenter: 'iad1',
    });
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'GET', path: '/API/v3/whoami', body: '' });
    expect(req?.headers.authorization).toBe(`Bearer ${server.tokensIssued[0]}`);
    expect(req?.headers['user-agent']).toBe('qdsr-test/1');
  });

  it('requests the required scopes by default and reports those granted', async () => {
    const api = client();
    expect(await api.grantedScopes()).toEqual(requiredScopes());
    expect(server.requests[0]?.form?.scope).toBe(requiredScopes().join(' '));
  });

  it('reports undefined granted scopes when the token response has none', async () => {
    await server.close();
    server = await startReferenceServer({ grantScope: () => undefined });
    expect(await client({ scopes: ['read:users'] }).grantedScopes()).toBeUndefined();
    expect(server.requests[0]?.form?.scope).toBe('read:users');
  });
});

describe('directories', () => {
  it('follows nextPage URLs verbatim over ≥ 3 pages from a server that caps the page size', async () => {
    server.on('listDirectories', paginated(directories, { cap: 2, style: 'nextPage' }));
    const all = await client().listDirectories();
    expect(all.map((d) => d.directoryId)).toEqual(directories.map((d) => d.directoryId));
    const reqs = server.requestsTo('listDirectories');
    // 3 full pages of 2 (although 100 was asked), then the empty page after the full last one.
    expect(reqs).toHaveLength(4);
    expect(reqs[0]?.query).toEqual({ pageSize: '100' });
    for (const r of reqs.slice(1))
      expect(r.query).toMatchObject({ pageSize: '2', skipToken: expect.any(String) });
  });

  it('accepts a skipToken cursor', async () => {
    server.on('listDirectories', paginated(directories, { cap: 4, style: 'skipToken' }));
    expect(await client({ pageSize: 50 }).listDirectories()).toHaveLength(6);
    const reqs = server.requestsTo('listDirectories');
    expect(reqs.map((r) => r.query)).toEqual([
      { pageSize: '50' },
      { pageSize: '50', skipToken: expect.any(String) },
    ]);
  });

  it('hands out a cursor per page that the next call accepts', async () => {
    server.on('listDirectories', paginated(directories, { cap: 5, style: 'nextPage' }));
    const api = client();
    const first = await api.listDirectoriesPage();
    expect(first.elements).toHaveLength(5);
    expect(first.next).toEqual({ nextPage: expect.stringContaining('/API/v3/directories?') });
    const second = await api.listDirectoriesPage(first.next);
    expect(second.elements.map((d) => d.directoryId)).toEqual(['POOL_5']);
    expect(second.next).toBeUndefined();
  });

  it('re-bases a nextPage URL naming another host onto the configured origin', async () => {
    server.on('listDirectories', (req) =>
      req.query.skipToken
        ? ok({ elements: [{ directoryId: 'POOL_B' }], nextPage: null })
        : ok({
            elements: [{ directoryId: 'POOL_A' }],
            nextPage: 'https://elsewhere.invalid/API/v3/directories?skipToken=p2',
          }),
    );
    expect((await client().listDirectories()).map((d) => d.directoryId)).toEqual(['POOL_A', 'POOL_B']);
    expect(server.requestsTo('listDirectories')[1]?.query).toEqual({ skipToken: 'p2' });
  });

  it('rejects a nextPage URL that addresses another endpoint, and a cursor that repeats', async () => {
    server.on('listDirectories', () =>
      ok({ elements: [{ directoryId: 'POOL_A' }], nextPage: `${server.origin}/API/v3/whoami` }),
    );
    const err = await qualtricsError(client().listDirectories(), ErrorNames.UnexpectedResponse);
    expect(err.message).toMatch(/result\.nextPage does not address listDirectories/);

    server.on('listDirectories', () => ok({ elements: [{ directoryId: 'POOL_A' }], skipToken: 'same' }));
    await qualtricsError(client().listDirectories(), ErrorNames.UnexpectedResponse);
  });
});

describe('contact search', () => {
  const filter = { filter: { filterType: 'email', comparison: 'eq', value: EMAIL } };

  it('pages by skipToken with the same body, past short pages of a capped server', async () => {
    server.on('searchDirectoryContacts', paginated(contacts(7), { cap: 3, style: 'skipToken' }));
    const found = await client().searchContactsByEmail('POOL_1', EMAIL);
    expect(found.map((c) => c.contactId)).toEqual(contacts(7).map((c) => c.id));
    expect(found[0]?.raw).toEqual(contacts(7)[0]);
    const reqs = server.requestsTo('searchDirectoryContacts');
    expect(reqs).toHaveLength(3);
    for (const r of reqs) {
      expect(r).toMatchObject({
        method: 'POST',
        path: '/API/v3/directories/POOL_1/contacts/search',
        json: filter,
      });
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect(reqs[0]?.query).toEqual({ pageSize: '100' });
    expect(reqs[1]?.query).toEqual({ pageSize: '100', skipToken: expect.any(String) });
    expect(reqs[2]?.query.skipToken).not.toBe(reqs[1]?.query.skipToken);
  });

  it('pages by nextPage URL (POSTing the same body) and stops at the empty page after a full one', async () => {
    server.on('searchDirectoryContacts', paginated(contacts(6), { cap: 3, style: 'nextPage' }));
    const found = await client().searchContactsByEmail('POOL_1', EMAIL);
    expect(found).toHaveLength(6);
    const reqs = server.requestsTo('searchDirectoryContacts');
    expect(reqs).toHaveLength(3);
    for (const r of reqs) expect(r.json).toEqual(filter);
    expect(reqs[2]?.query).toMatchObject({ pageSize: '3', skipToken: expect.any(String) });
  });

  it('accepts nextPageToken cursors and contactId keys', async () => {
    server.on(
      'searchDirectoryContacts',
      paginated(contacts(4, 'contactId'), { cap: 2, style: 'nextPageToken' }),
    );
    const found = await client().searchContactsByEmail('POOL_1', EMAIL);
    expect(found.map((c) => c.contactId)).toEqual(['CID_0', 'CID_1', 'CID_2', 'CID_3']);
    expect(server.requestsTo('searchDirectoryContacts')).toHaveLength(3);
  });

  it('stops on an empty page even when the server sends a cursor with it', async () => {
    server.on('searchDirectoryContacts', () => ok({ elements: [], skipToken: 'more' }));
    expect(await client().searchContactsByEmail('POOL_1', EMAIL)).toEqual([]);
    expect(server.requestsTo('searchDirectoryContacts')).toHaveLength(1);
  });

  it('refuses to search for something that is not an email, without calling Qualtrics', async () => {
    const err = await caught(client().searchContactsByEmail('POOL_1', 'not an email'));
    expect(err).toBeInstanceOf(InputError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('contacts', () => {
  it.each([
    ['epoch ms', 1_684_259_971_000],
    ['ISO string', '2023-05-16T17:59:31Z'],
  ])('returns the whole contact record with %s dates', async (_label, date) => {
    const record = { contactId: 'CID_1', email: EMAIL, creationDate: date, embeddedData: { tier: 'gold' } };
    server.on('getDirectoryContact', () => ok(record));
    expect(await client().getContact('POOL_1', 'CID_1')).toEqual(record);
    expect(apiRequests()[0]).toMatchObject({
      method: 'GET',
      path: '/API/v3/directories/POOL_1/contacts/CID_1',
      params: { directoryId: 'POOL_1', contactId: 'CID_1' },
    });
  });

  it('maps an unknown contact to NotFound', async () => {
    server.on('getDirectoryContact', () => fail(404, undefined, 'The requested resource does not exist.'));
    const err = await qualtricsError(client().getContact('POOL_1', 'CID_X'), ErrorNames.NotFound);
    expect(err).toMatchObject({ httpStatus: 404, endpoint: 'getDirectoryContact' });
    expect(err.qualtricsRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('customer data requests', () => {
  it.each(['customerDataRequestId', 'id', 'requestId', 'requestid'])(
    'creates a job and reads its id from %s',
    async (key) => {
      server.on('createCustomerDataRequest', () => ok({ [key]: 'CDR_1' }));
      expect(await client().createCustomerDataRequest(EMAIL)).toEqual({ customerDataRequestId: 'CDR_1' });
      const [req] = apiRequests();
      expect(req).toMatchObject({
        method: 'POST',
        path: '/API/v3/customer-data-requests',
        json: { email: EMAIL },
      });
      expect(req?.headers['content-type']).toBe('application/json');
    },
  );

  it('normalizes progress: status words, file keys, percentComplete', async () => {
    const answers = [
      { status: 'queued', percentComplete: 0 },
      { status: 'IN_PROGRESS', percentComplete: '40', fileIds: [] },
      { status: 'Completed', percentComplete: 100, files: [{ fileId: 'F1' }, { id: 'F2' }] },
      { status: 'done', fileId: 'F3' },
      { status: 'cancelled', failureReason: 'stopped' },
    ];
    let i = 0;
    server.on('getCustomerDataRequest', () => ok(answers[i++]));
    const api = client();
    const seen = [];
    for (let n = 0; n < answers.length; n++) seen.push(await api.getCustomerDataRequest('CDR_1'));
    expect(seen).toEqual([
      { status: 'inProgress', rawStatus: 'queued', percentComplete: 0, fileIds: [] },
      { status: 'inProgress', rawStatus: 'IN_PROGRESS', percentComplete: 40, fileIds: [] },
      { status: 'complete', rawStatus: 'Completed', percentComplete: 100, fileIds: ['F1', 'F2'] },
      { status: 'complete', rawStatus: 'done', fileIds: ['F3'] },
      { status: 'failed', rawStatus: 'cancelled', failureReason: 'stopped', fileIds: [] },
    ]);
    expect(apiRequests()[0]?.path).toBe('/API/v3/customer-data-requests/CDR_1');
  });

  it('fails clearly on an unknown or missing status', async () => {
    server.on('getCustomerDataRequest', () => ok({ status: 'Exploded' }));
    const unknown = await qualtricsError(
      client().getCustomerDataRequest('CDR_1'),
      ErrorNames.UnexpectedResponse,
    );
    expect(unknown.message).toContain('getCustomerDataRequest');
    expect(unknown.message).toContain('result.status is not a known status word');
    expect(unknown.message).not.toContain('Exploded');
    server.on('getCustomerDataRequest', () => ok({ percentComplete: 50 }));
    const missing = await qualtricsError(
      client().getCustomerDataRequest('CDR_1'),
      ErrorNames.UnexpectedResponse,
    );
    expect(missing.message).toMatch(/result\.status is missing/);
  });

  it('streams a ~3 MB binary file byte for byte, with type and length', async () => {
    const file = randomBytes(3 * 1024 * 1024 + 123);
    server.on('downloadCustomerDataFile', () => ({
      bytes: file,
      headers: { 'content-type': 'application/zip' },
    }));
    const got = await client().downloadCustomerDataFile('CDR_1', 'F1');
    expect(got.body).toBeInstanceOf(Readable);
    expect(got.contentType).toBe('application/zip');
    expect(got.contentLength).toBe(file.length);
    expect(await sha256(got.body)).toEqual({
      hex: createHash('sha256').update(file).digest('hex'),
      bytes: file.length,
    });
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'GET', path: '/API/v3/customer-data-requests/CDR_1/files/F1' });
    expect(req?.headers['accept-encoding']).toBe('identity');
  });

  it('hands the stream over before the server has sent the whole file', async () => {
    const head = randomBytes(256 * 1024);
    const tail = randomBytes(256 * 1024);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.on('downloadCustomerDataFile', () => ({
      chunks: (async function* () {
        yield head;
        await released; // the rest only once the client holds the stream
        yield tail;
      })(),
    }));
    const got = await client().downloadCustomerDataFile('CDR_1', 'F1');
    expect(got.contentLength).toBeUndefined(); // chunked: no length announced
    release();
    expect((await sha256(got.body)).hex).toBe(
      createHash('sha256')
        .update(Buffer.concat([head, tail]))
        .digest('hex'),
    );
  });

  it('fails the stream with a Transient error when the body stalls', async () => {
    server.on('downloadCustomerDataFile', () => ({
      chunks: (async function* () {
        yield randomBytes(1024);
        await new Promise(() => {}); // never more
      })(),
    }));
    const got = await client({ timeoutMs: 300 }).downloadCustomerDataFile('CDR_1', 'F1');
    const err = await qualtricsError(sha256(got.body), ErrorNames.Transient);
    expect(err.endpoint).toBe('downloadCustomerDataFile');
  });

  it('does not time out a download whose consumer is slower than timeoutMs', async () => {
    const file = randomBytes(64 * 1024);
    server.on('downloadCustomerDataFile', () => ({ bytes: file }));
    const got = await client({ timeoutMs: 250 }).downloadCustomerDataFile('CDR_1', 'F1');
    await new Promise((resolve) => setTimeout(resolve, 600)); // the consumer is busy elsewhere
    expect((await sha256(got.body)).hex).toBe(createHash('sha256').update(file).digest('hex'));
  });

  it('maps a failed download to a typed error', async () => {
    server.on('downloadCustomerDataFile', () => fail(404, 'FILE_GONE'));
    const err = await qualtricsError(client().downloadCustomerDataFile('CDR_1', 'F9'), ErrorNames.NotFound);
    expect(err.errorCode).toBe('FILE_GONE');
  });
});

describe('erasure requests', () => {
  it('creates one with emails and searchOnly, taking result.requestId (not meta.requestId)', async () => {
    server.on('createErasureRequest', () =>
      ok({ requestId: 'OP-1', user: 'UR_1', created: '2026-01-01T00:00:00Z' }),
    );
    expect(await client().createErasureRequest([EMAIL, OTHER_EMAIL], true)).toEqual({
      erasureRequestId: 'OP-1',
    });
    expect(apiRequests()[0]).toMatchObject({
      method: 'POST',
      path: '/API/v3/op-erase-personal-data',
      json: { emails: [EMAIL, OTHER_EMAIL], searchOnly: true },
    });
  });

  it.each(['requestid', 'id'])('reads the created id from %s', async (key) => {
    server.on('createErasureRequest', () => ok({ [key]: 'OP-2' }));
    expect(await client().createErasureRequest([EMAIL], false)).toEqual({ erasureRequestId: 'OP-2' });
    expect(apiRequests()[0]?.json).toEqual({ emails: [EMAIL], searchOnly: false });
  });

  it('rejects 0 or more than 500 emails without calling Qualtrics', async () => {
    expect(await caught(client().createErasureRequest([], false))).toBeInstanceOf(InputError);
    const many = Array.from({ length: 501 }, (_, i) => `user${i}@example.com`);
    expect(await caught(client().createErasureRequest(many, false))).toBeInstanceOf(InputError);
    expect(server.requests).toHaveLength(0);
  });

  it('reads a finished request (lowercase requestid, string searchOnly)', async () => {
    server.on('getErasureRequest', () =>
      ok({
        requestid: 'OP-1',
        status: 'Completed',
        searchOnly: 'true',
        emailsNotFound: [OTHER_EMAIL],
        emailList: [EMAIL, OTHER_EMAIL],
        numEmailsRequested: 2,
        failureReason: null,
      }),
    );
    expect(await client().getErasureRequest('OP-1')).toEqual({
      erasureRequestId: 'OP-1',
      status: 'complete',
      rawStatus: 'Completed',
      searchOnly: true,
      emailsNotFound: [OTHER_EMAIL],
      emailList: [EMAIL, OTHER_EMAIL],
      numEmailsRequested: 2,
      failureReason: null,
      found: true,
    });
    expect(apiRequests()[0]?.path).toBe('/API/v3/op-erase-personal-data/OP-1');
  });

  it.each([
    [404, undefined],
    [400, 'QVAL_NOT_READY'],
  ])('treats HTTP %s (%s) on get-by-id as still running', async (status, code) => {
    server.on('getErasureRequest', () => fail(status, code));
    expect(await client().getErasureRequest('OP-1')).toEqual({
      erasureRequestId: 'OP-1',
      status: 'inProgress',
      found: false,
    });
  });

  it('does not mistake an auth failure (400 ATP_2) for still running', async () => {
    server.on('getErasureRequest', () =>
      fail(400, 'ATP_2', 'Expected authorization in headers, but none provided.'),
    );
    const err = await qualtricsError(client().getErasureRequest('OP-1'), ErrorNames.Auth);
    expect(err.errorCode).toBe('ATP_2');
  });

  it('lists requests across nextPage pages', async () => {
    const all = ['Completed', 'Pending', 'Failed', 'Completed', 'InProgress'].map((status, i) => ({
      id: `OP-${i}`,
      status,
    }));
    server.on('listErasureRequests', paginated(all, { cap: 2, style: 'nextPage' }));
    const list = await client().listErasureRequests();
    expect(list.map((r) => [r.erasureRequestId, r.status])).toEqual([
      ['OP-0', 'complete'],
      ['OP-1', 'inProgress'],
      ['OP-2', 'failed'],
      ['OP-3', 'complete'],
      ['OP-4', 'inProgress'],
    ]);
    expect(server.requestsTo('listErasureRequests')).toHaveLength(3);
  });
});

describe('tokens', () => {
  it('reuses a cached token and refreshes it before expires_in', async () => {
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    const api = client({ tokenRefreshMarginSeconds: 60 });
    await api.whoami();
    await api.whoami();
    expect(server.tokensIssued).toHaveLength(1);
    clock += 3539 * 1000;
    await api.whoami();
    expect(server.tokensIssued).toHaveLength(1);
    clock += 2 * 1000; // now within the 60 s margin of expiry
    await api.whoami();
    expect(server.tokensIssued).toHaveLength(2);
    expect(apiRequests().at(-1)?.bearer).toBe(server.tokensIssued[1]);
  });

  it('shares one token request among 20 concurrent calls', async () => {
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    const api = client();
    await Promise.all(Array.from({ length: 20 }, () => api.whoami()));
    expect(server.requestsTo('token')).toHaveLength(1);
    expect(server.requestsTo('whoami')).toHaveLength(20);
  });

  it('refreshes once when the token expires mid-run (401 AUTH_6.0) and repeats the call', async () => {
    server.on('listDirectories', paginated(directories, { cap: 2, style: 'nextPage' }));
    const api = client();
    const first = await api.listDirectoriesPage();
    server.expireTokens();
    const rest = await api.listDirectoriesPage(first.next);
    expect(rest.elements).toHaveLength(2);
    expect(server.tokensIssued).toHaveLength(2);
    const reqs = server.requests.map((r) => r.endpoint);
    expect(reqs).toEqual(['token', 'listDirectories', 'listDirectories', 'token', 'listDirectories']);
    expect(server.requests[2]?.bearer).toBe(server.tokensIssued[0]);
    expect(server.requests[4]?.bearer).toBe(server.tokensIssued[1]);
    expect(server.requests[4]?.query).toEqual(server.requests[2]?.query);
  });

  it('refreshes only once among concurrent calls that all hit the expired token', async () => {
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    const api = client();
    await api.whoami();
    server.expireTokens();
    await Promise.all(Array.from({ length: 10 }, () => api.whoami()));
    expect(server.tokensIssued).toHaveLength(2);
  });

  it('reads the token once the gate admitted the call: a wait at the gate does not send a stale one', async () => {
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holdNext = false;
    const slowGate: CallGate = {
      async before() {
        if (!holdNext) return;
        holdNext = false;
        await held;
      },
      async after() {},
    };
    const api = client({ gate: slowGate });
    await api.whoami();
    holdNext = true;
    const slow = api.whoami(); // waits at the gate with the first token cached
    server.expireTokens();
    await api.whoami(); // 401 → a second token, cached
    release();
    await expect(slow).resolves.toMatchObject({ brandId: 'b' });
    const bearers = server.requestsTo('whoami').map((r) => r.bearer);
    expect(bearers).toEqual([
      server.tokensIssued[0],
      server.tokensIssued[0],
      server.tokensIssued[1],
      server.tokensIssued[1],
    ]);
  });

  it('repeats a call once more when the token it got after a 401 predates that 401 and was revoked too', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holdNext = true;
    server.on('whoami', async () => {
      if (!holdNext) return ok({ brandId: 'b', userId: 'u' });
      holdNext = false;
      await held;
      return fail(401, 'AUTH_6.0', 'Access token expired.');
    });
    const api = client();
    // A call sent with the first token, whose answer (401) arrives only after two revocations.
    const slow = api.whoami();
    while (server.requestsTo('whoami').length === 0) await new Promise((r) => setTimeout(r, 1));
    server.expireTokens();
    clock += 1000;
    await api.whoami(); // 401 → the second token → answered
    server.expireTokens();
    clock += 1000;
    release();
    // The slow call's retry uses the second token (asked for before its 401, revoked since): not conclusive.
    await expect(slow).resolves.toMatchObject({ brandId: 'b' });
    expect(server.tokensIssued).toHaveLength(3);
    expect(server.requestsTo('whoami').map((r) => r.bearer)).toEqual([
      server.tokensIssued[0],
      server.tokensIssued[0],
      server.tokensIssued[1],
      server.tokensIssued[1],
      server.tokensIssued[2],
    ]);
  });

  it('gives up with an Auth error after a second 401', async () => {
    server.on('whoami', () => fail(401, 'AUTH_6.0', 'Access token expired.'));
    const err = await qualtricsError(client().whoami(), ErrorNames.Auth);
    expect(err).toMatchObject({ httpStatus: 401, errorCode: 'AUTH_6.0', endpoint: 'whoami' });
    expect(server.requestsTo('token')).toHaveLength(2);
    expect(server.requestsTo('whoami')).toHaveLength(2);
  });

  it('maps a rejected client (invalid_client) to Auth and a refused scope to MissingScope', async () => {
    const wrong = await qualtricsError(client({ clientSecret: WRONG_SECRET }).whoami(), ErrorNames.Auth);
    expect(wrong).toMatchObject({ httpStatus: 401, errorCode: 'invalid_client', endpoint: 'token' });
    expect(wrong.message).not.toContain(WRONG_SECRET);
    server.on('token', () => ({ status: 400, json: { error: 'invalid_scope' } }));
    await qualtricsError(client().whoami(), ErrorNames.MissingScope);
    expect(apiRequests()).toHaveLength(0);
  });
});

describe('errors', () => {
  it('maps 403 to MissingScope with the Qualtrics error code', async () => {
    server.on('createErasureRequest', () =>
      fail(403, 'AuthZ_2.0', 'This user does not have access to this API endpoint.'),
    );
    const err = await qualtricsError(client().createErasureRequest([EMAIL], false), ErrorNames.MissingScope);
    expect(err).toMatchObject({ httpStatus: 403, errorCode: 'AuthZ_2.0', endpoint: 'createErasureRequest' });
    expect(err.message).toContain('AuthZ_2.0');
  });

  it('maps 429 to RateLimited with Retry-After seconds, and reports them to the gate', async () => {
    server.on('whoami', () => ({ ...fail(429, 'RATE'), headers: { 'retry-after': '7' } }));
    const err = await qualtricsError(client().whoami(), ErrorNames.RateLimited);
    expect(err).toMatchObject({ httpStatus: 429, retryAfterSeconds: 7, retryable: true });
    expect(gateEvents.at(-1)).toEqual({
      phase: 'after',
      endpoint: 'whoami',
      outcome: { httpStatus: 429, retryAfterSeconds: 7 },
    });
  });

  it('leaves retryAfterSeconds undefined on a 429 without Retry-After', async () => {
    server.on('whoami', () => fail(429));
    const err = await qualtricsError(client().whoami(), ErrorNames.RateLimited);
    expect(err.retryAfterSeconds).toBeUndefined();
    expect(gateEvents.at(-1)).toEqual({ phase: 'after', endpoint: 'whoami', outcome: { httpStatus: 429 } });
  });

  it('reads Retry-After as an HTTP date, or from meta.error.retryAfter', async () => {
    server.on('whoami', () => ({
      ...fail(429),
      headers: { 'retry-after': new Date(clock + 30_000).toUTCString() },
    }));
    expect((await qualtricsError(client().whoami(), ErrorNames.RateLimited)).retryAfterSeconds).toBe(30);
    server.on('whoami', () => ({
      status: 429,
      error: { errorCode: 'RATE', errorMessage: 'slow', retryAfter: 12 },
    }));
    expect((await qualtricsError(client().whoami(), ErrorNames.RateLimited)).retryAfterSeconds).toBe(12);
  });

  it.each([500, 503])('maps %s to Transient', async (status) => {
    server.on('listDirectories', () => fail(status, 'SERVER'));
    const err = await qualtricsError(client().listDirectories(), ErrorNames.Transient);
    expect(err).toMatchObject({ httpStatus: status, retryable: true, endpoint: 'listDirectories' });
  });

  it.each([
    [409, ErrorNames.Validation],
    [413, ErrorNames.Validation],
    [415, ErrorNames.Validation],
    [400, ErrorNames.Validation],
  ])('maps %s to %s', async (status, name) => {
    // The error message echoes the email, as a validation message might: it must not reach ours.
    server.on('createCustomerDataRequest', () => fail(status, 'QVAL_X', `invalid value ${EMAIL}`));
    const err = await qualtricsError(client().createCustomerDataRequest(EMAIL), name);
    expect(err.retryable).toBe(false);
  });

  it('maps a server that never answers to Transient after timeoutMs', async () => {
    server.on('whoami', () => ({ hang: true }));
    const err = await qualtricsError(client({ timeoutMs: 300 }).whoami(), ErrorNames.Transient);
    expect(err).toMatchObject({ httpStatus: 0, endpoint: 'whoami' });
    expect(err.message).toMatch(/within 300 ms/);
    expect(gateEvents.at(-1)).toEqual({ phase: 'after', endpoint: 'whoami', outcome: { httpStatus: 0 } });
  });

  it('maps a refused connection to Transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await qualtricsError(
      client({ origin: `http://127.0.0.1:${port}` }).whoami(),
      ErrorNames.Transient,
    );
    expect(err).toMatchObject({ httpStatus: 0, endpoint: 'token' });
  });

  it('does not follow redirects (the token must not travel elsewhere)', async () => {
    server.on('whoami', () => ({
      status: 302,
      bytes: '',
      headers: { location: 'http://127.0.0.2:1/steal' },
    }));
    const err = await qualtricsError(client().whoami(), ErrorNames.UnexpectedResponse);
    expect(err.httpStatus).toBe(302);
  });

  it('names the endpoint and the field for unknown shapes', async () => {
    server.on('whoami', () => ok({ brandId: 'b', email: EMAIL }));
    const whoami = await qualtricsError(client().whoami(), ErrorNames.UnexpectedResponse);
    expect(whoami.message).toMatch(/whoami/);
    expect(whoami.message).toMatch(/userId/);
    server.on('listDirectories', () => ok({ items: [] }));
    const list = await qualtricsError(client().listDirectories(), ErrorNames.UnexpectedResponse);
    expect(list.message).toContain('listDirectories');
    expect(list.message).toContain('result.elements is missing');
    server.on('createCustomerDataRequest', () => ok({ jobRef: 'x', email: EMAIL }));
    expect(
      (await qualtricsError(client().createCustomerDataRequest(EMAIL), ErrorNames.UnexpectedResponse))
        .message,
    ).toMatch(/customerDataRequestId \/ id \/ requestId \/ requestid/);
    server.on('createErasureRequest', () => ({ json: { emails: [EMAIL] } }));
    expect(
      (await qualtricsError(client().createErasureRequest([EMAIL], false), ErrorNames.UnexpectedResponse))
        .message,
    ).toMatch(/result is missing/);
    server.on('getDirectoryContact', () => ({ bytes: `<html>${EMAIL}</html>` }));
    expect(
      (await qualtricsError(client().getContact('POOL_1', 'CID_1'), ErrorNames.UnexpectedResponse)).message,
    ).toMatch(/body is not JSON/);
  });
});

describe('gate', () => {
  it('is called before and after every request, token and pages included', async () => {
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    server.on('listDirectories', paginated(directories, { cap: 2, style: 'nextPage' }));
    const api = client();
    await api.whoami();
    await api.listDirectories();
    const befores = gateEvents.filter((e) => e.phase === 'before').map((e) => e.endpoint);
    const afters = gateEvents.filter((e) => e.phase === 'after').map((e) => e.endpoint);
    expect(befores).toEqual(server.requests.map((r) => r.endpoint));
    expect(afters).toEqual(befores);
    expect(befores).toEqual(['token', 'whoami', ...Array(4).fill('listDirectories')]);
    // before and after alternate: the gate sees each request start and end in turn
    expect(gateEvents.map((e) => e.phase)).toEqual(befores.flatMap(() => ['before', 'after']));
    expect(gateEvents[1]).toEqual({ phase: 'after', endpoint: 'token', outcome: { httpStatus: 200 } });
  });

  it('a gate that refuses prevents the request, and its error propagates untouched', async () => {
    const refusal = new ThrottledError(1500, 'brand');
    const refusing: CallGate = {
      async before() {
        throw refusal;
      },
      async after() {
        throw new Error('after must not be called');
      },
    };
    server.on('whoami', () => ok({ brandId: 'b', userId: 'u' }));
    expect(await caught(client({ gate: refusing }).whoami())).toBe(refusal);
    expect(server.requests).toHaveLength(0);
  });

  it('a gate that refuses an API call after the token still stops that call', async () => {
    const refusal = new ThrottledError(800, 'createErasureRequest');
    const gate: CallGate = {
      async before(endpoint) {
        if (endpoint === 'createErasureRequest') throw refusal;
      },
      async after() {},
    };
    server.on('createErasureRequest', () => ok({ requestId: 'OP-1' }));
    expect(await caught(client({ gate }).createErasureRequest([EMAIL], false))).toBe(refusal);
    expect(server.requests.map((r) => r.endpoint)).toEqual(['token']);
  });

  it('a failing after() does not hide the outcome of a call that happened', async () => {
    const gate: CallGate = {
      async before() {},
      async after() {
        throw new Error('limiter table unavailable');
      },
    };
    server.on('createErasureRequest', () => ok({ requestId: 'OP-7' }));
    expect(await client({ gate }).createErasureRequest([EMAIL], false)).toEqual({ erasureRequestId: 'OP-7' });
  });
});

describe('options', () => {
  it('rejects unusable options with the setting to fix', () => {
    expect(() => createQualtricsClient({ origin: 'not a url', clientId: 'a', clientSecret: 'b' })).toThrow(
      expect.objectContaining({ setting: 'QUALTRICS_BASE_URL' }),
    );
    expect(() => createQualtricsClient({ origin: 'ftp://x', clientId: 'a', clientSecret: 'b' })).toThrow(
      expect.objectContaining({ setting: 'QUALTRICS_BASE_URL' }),
    );
    expect(() => createQualtricsClient({ origin: 'https://x', clientId: '', clientSecret: 'b' })).toThrow(
      expect.objectContaining({ setting: 'QUALTRICS_CLIENT_ID' }),
    );
    expect(() => createQualtricsClient({ origin: 'https://x', clientId: 'a', clientSecret: '' })).toThrow(
      expect.objectContaining({ setting: 'QUALTRICS_CLIENT_SECRET' }),
    );
    expect(() =>
      createQualtricsClient({ origin: 'https://x', clientId: 'a', clientSecret: 'b', pageSize: 0 }),
    ).toThrow(/pageSize/);
  });
});
