import { afterEach, describe, expect, it } from 'vitest';
import { defaultSeed, SEEDED_SUBJECT, type Simulator, type SimulatorOptions, startSimulator } from './index';
import { api, directoryIds, emailFilter, followPages, token } from './test-support';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<{ s: Simulator; bearer: string }> {
  sim = await startSimulator(options);
  return { s: sim, bearer: await token(sim) };
}

const POOL = /^POOL_[A-Za-z0-9]{15}$/;
const CID = /^CID_[A-Za-z0-9]{15}$/;

describe('seed', () => {
  it('is deterministic and uses only reserved example domains', () => {
    const a = defaultSeed();
    expect(defaultSeed()).toEqual(a);
    const emails = [
      a.user.email,
      ...a.directories.flatMap((d) => d.contacts.map((c) => c.email)),
      ...a.responses.map((r) => r.email),
    ];
    expect(emails.length).toBeGreaterThan(200);
    for (const e of emails) expect(e).toMatch(/@example\.(com|org|net)$/i);
  });

  it('puts the seeded subject in 3 of at least 4 directories, twice in one', () => {
    const seed = defaultSeed();
    expect(seed.directories.length).toBeGreaterThanOrEqual(4);
    const per = seed.directories.map(
      (d) => d.contacts.filter((c) => c.email.toLowerCase() === SEEDED_SUBJECT).length,
    );
    expect(per.filter((n) => n > 0)).toHaveLength(3);
    expect(Math.max(...per)).toBe(2);
    expect(per).toContain(0);
  });
});

describe('GET /whoami', () => {
  it('answers the whoami shape in the envelope', async () => {
    const { s, bearer } = await start();
    const a = await api(s, bearer, 'GET', '/whoami');
    expect(a.status).toBe(200);
    expect(a.json.meta.httpStatus).toBe('200 - OK');
    expect(Object.keys(a.json.result).sort()).toEqual(
      ['accountType', 'brandId', 'datacenter', 'email', 'firstName', 'lastName', 'userId', 'userName'].sort(),
    );
    expect(a.json.result.userId).toMatch(/^UR_/);
    expect(a.json.result.accountType).toBe('UT_BRANDADMIN');
  });
});

describe('GET /directories', () => {
  it('pages with pageSizeCap 1 through absolute nextPage URLs until null', async () => {
    const { s, bearer } = await start({ pageSizeCap: 1 });
    const pages = await followPages(s, bearer, 'GET', '/directories?pageSize=50');
    expect(pages.length).toBeGreaterThanOrEqual(4);
    for (const p of pages.slice(0, -1)) {
      const next = new URL(p.json.result.nextPage);
      expect(next.origin).toBe(s.url);
      expect(next.searchParams.get('skipToken')).toBeTruthy();
      expect(p.json.result.elements).toHaveLength(1);
    }
    expect(pages.at(-1)!.json.result.nextPage).toBeNull();
    const ids = pages.flatMap((p) =>
      p.json.result.elements.map((d: { directoryId: string }) => d.directoryId),
    );
    expect(new Set(ids).size).toBe(pages.length);
    for (const id of ids) expect(id).toMatch(POOL);
    expect(s.counters().byEndpoint.listDirectories!.requests).toBe(pages.length);
  });

  it('honours a pageSize below the cap and sends no cursor on the last page', async () => {
    const { s, bearer } = await start();
    const first = await api(s, bearer, 'GET', '/directories?pageSize=3');
    expect(first.json.result.elements).toHaveLength(3);
    expect(first.json.result.nextPage).toContain('skipToken=');
    const all = await api(s, bearer, 'GET', '/directories');
    expect(all.json.result.elements).toHaveLength(4);
    expect(all.json.result.nextPage).toBeNull();
    const d = all.json.result.elements[0];
    expect(d).toMatchObject({ name: 'Customers', isDefault: true });
    expect(typeof d.contactCount).toBe('number');
    const bad = await api(s, bearer, 'GET', '/directories?pageSize=0');
    expect(bad.status).toBe(400);
    expect(bad.json.meta.error.errorCode).toBe('QVAL_1');
    const badToken = await api(s, bearer, 'GET', '/directories?skipToken=%%%');
    expect(badToken.status).toBe(400);
  });
});

describe('POST /directories/{id}/contacts/search', () => {
  it('finds the seeded subject case-insensitively in exactly 3 directories', async () => {
    const { s, bearer } = await start();
    const hits: Record<string, number> = {};
    for (const id of await directoryIds(s, bearer)) {
      const a = await api(
        s,
        bearer,
        'POST',
        `/directories/${id}/contacts/search`,
        emailFilter('SomeOne@EXAMPLE.com'),
      );
      expect(a.status).toBe(200);
      hits[id] = a.json.result.elements.length;
      expect(a.json.result.nextPage).toBeNull();
    }
    expect(Object.values(hits).filter((n) => n > 0)).toHaveLength(3);
    expect(Object.values(hits).reduce((x, y) => x + y, 0)).toBe(4);
    expect(s.contactsWithEmail(SEEDED_SUBJECT.toUpperCase())).toHaveLength(4);
  });

  it('pages a subject with several contacts one per page with pageSizeCap 1', async () => {
    const { s, bearer } = await start({ pageSizeCap: 1 });
    const dir = s.contactsWithEmail('pat.doe@example.org')[0]!.directoryId;
    const body = emailFilter('Pat.Doe@Example.org');
    const pages = await followPages(
      s,
      bearer,
      'POST',
      `/directories/${dir}/contacts/search?pageSize=100`,
      body,
    );
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const elements = pages.flatMap((p) => p.json.result.elements);
    expect(elements).toHaveLength(pages.length);
    expect(new Set(elements.map((e: { id: string }) => e.id)).size).toBe(elements.length);
    for (const e of elements) expect(e.email.toLowerCase()).toBe('pat.doe@example.org');
    // the skipToken is a base64 offset
    const token1 = new URL(pages[0]!.json.result.nextPage).searchParams.get('skipToken')!;
    expect(Buffer.from(token1, 'base64').toString()).toBe('1');
  });

  it("returns search elements in Qualtrics' search shape", async () => {
    const { s, bearer } = await start();
    const { directoryId } = s.contactsWithEmail(SEEDED_SUBJECT)[0]!;
    const a = await api(
      s,
      bearer,
      'POST',
      `/directories/${directoryId}/contacts/search`,
      emailFilter(SEEDED_SUBJECT),
    );
    const e = a.json.result.elements[0];
    expect(e.id).toMatch(CID);
    expect(e.contactId).toBeUndefined();
    for (const key of ['phoneNumber', 'externalDataReference', 'unsubscribed', 'embeddedData', 'stats']) {
      expect(e).toHaveProperty(key);
    }
    expect(e.phone).toBeUndefined();
    expect(typeof e.creationDate).toBe('string');
    expect(typeof e.stats.EmailCount).toBe('string');
    const noEmbedded = await api(
      s,
      bearer,
      'POST',
      `/directories/${directoryId}/contacts/search?includeEmbedded=false`,
      emailFilter(SEEDED_SUBJECT),
    );
    expect(noEmbedded.json.result.elements[0].embeddedData).toBeUndefined();
  });

  it('supports firstName, lastName, phone, extRef and and/or conjunctions', async () => {
    const { s, bearer } = await start();
    const dir = s.contactsWithEmail('pat.doe@example.org')[0]!.directoryId;
    const search = async (filter: unknown) =>
      (await api(s, bearer, 'POST', `/directories/${dir}/contacts/search`, { filter })).json.result
        .elements as Array<{
        firstName: string;
        phoneNumber: string;
        externalDataReference: string;
      }>;
    const does = await search({ filterType: 'lastName', comparison: 'eq', value: 'doe' });
    expect(does).toHaveLength(3);
    const patricia = await search({
      conjunction: 'and',
      filters: [
        { filterType: 'email', comparison: 'eq', value: 'pat.doe@example.org' },
        { filterType: 'firstName', comparison: 'eq', value: 'Patricia' },
      ],
    });
    expect(patricia.map((c) => c.firstName)).toEqual(['Patricia']);
    const either = await search({
      conjunction: 'or',
      filters: [
        { filterType: 'phone', comparison: 'eq', value: does[0]!.phoneNumber },
        { filterType: 'extRef', comparison: 'eq', value: does[1]!.externalDataReference },
      ],
    });
    expect(either).toHaveLength(2);
    const none = await search({ filterType: 'email', comparison: 'eq', value: 'nobody@example.com' });
    expect(none).toEqual([]);
  });

  it('rejects a bad filter, paging past 10,000, and an unknown directory', async () => {
    const { s, bearer } = await start();
    const [dir] = await directoryIds(s, bearer);
    const bad = await api(s, bearer, 'POST', `/directories/${dir}/contacts/search`, {
      filter: { filterType: 'email', comparison: 'contains', value: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.meta.error.errorCode).toBe('QVAL_1');
    const missing = await api(s, bearer, 'POST', `/directories/${dir}/contacts/search`, {});
    expect(missing.status).toBe(400);
    const deep = Buffer.from('10000').toString('base64');
    const tooDeep = await api(
      s,
      bearer,
      'POST',
      `/directories/${dir}/contacts/search?skipToken=${encodeURIComponent(deep)}`,
      emailFilter(SEEDED_SUBJECT),
    );
    expect(tooDeep.status).toBe(400);
    const unknown = await api(
      s,
      bearer,
      'POST',
      '/directories/POOL_000000000000000/contacts/search',
      emailFilter('a@example.com'),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.json.meta.error.errorCode).toBe('RESOURCE_NOT_FOUND');
    expect(unknown.json.meta.requestId).toBeTruthy();
  });
});

describe('GET /directories/{id}/contacts/{contactId}', () => {
  it('answers the get-contact shape', async () => {
    const { s, bearer } = await start();
    const { directoryId, contactId } = s.contactsWithEmail(SEEDED_SUBJECT)[0]!;
    const a = await api(s, bearer, 'GET', `/directories/${directoryId}/contacts/${contactId}`);
    expect(a.status).toBe(200);
    const c = a.json.result;
    expect(c.contactId).toBe(contactId);
    expect(c.id).toBeUndefined();
    expect(c.email.toLowerCase()).toBe(SEEDED_SUBJECT);
    expect(typeof c.creationDate).toBe('number');
    expect(typeof c.lastModified).toBe('number');
    for (const key of [
      'phone',
      'extRef',
      'emailDomain',
      'directoryUnsubscribed',
      'stats',
      'mailingListMembership',
    ]) {
      expect(c).toHaveProperty(key);
    }
    expect(c.phoneNumber).toBeUndefined();
    const lists = Object.entries(c.mailingListMembership as Record<string, { contactLookupId: string }>);
    for (const [id, m] of lists) {
      expect(id).toMatch(/^CG_/);
      expect(m.contactLookupId).toMatch(/^CGC_/);
    }
  });

  it('answers 404 for an unknown contact or directory', async () => {
    const { s, bearer } = await start();
    const { directoryId } = s.contactsWithEmail(SEEDED_SUBJECT)[0]!;
    const contact = await api(s, bearer, 'GET', `/directories/${directoryId}/contacts/CID_000000000000000`);
    expect(contact.status).toBe(404);
    expect(contact.json.meta.httpStatus).toBe('404 - Not Found');
    expect(contact.json.meta.error.errorCode).toBe('RESOURCE_NOT_FOUND');
    const dir = await api(s, bearer, 'GET', '/directories/POOL_000000000000000/contacts/CID_000000000000000');
    expect(dir.status).toBe(404);
  });
});
