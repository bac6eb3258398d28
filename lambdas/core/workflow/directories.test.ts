import { describe, expect, it, vi } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import type { ExportWriter } from '../export-writer';
import type { ContactSummary, Page, PageCursor } from '../qualtrics/types';
import type { RequestStore } from '../request-store';
import { directoryFileKey } from '../tables';
import { getContacts, listDirectories, mentions, searchDirectory } from './directories';
import { fakeQualtrics, qualtricsFailure, RESERVED, testEnv, throttled } from './testing';

const EMAIL = 'jane.doe@example.com';
const DIR = 'POOL_1';

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

async function newRequest(): Promise<string> {
  return (await store.create({ source: 'api', type: 'access', email: EMAIL })).record.requestId;
}

const contact = (id: string): ContactSummary => ({ contactId: id, raw: { id } });

/** Pages of contact ids; page i's cursor is `{skipToken: 'p<i+1>'}`. */
function pagedSearch(pages: string[][]) {
  return vi.fn(async (_dir: string, _email: string, cursor?: PageCursor): Promise<Page<ContactSummary>> => {
    const i = cursor && 'skipToken' in cursor ? Number(cursor.skipToken.slice(1)) : 0;
    const ids = pages[i] ?? [];
    return {
      elements: ids.map(contact),
      ...(i + 1 < pages.length ? { next: { skipToken: `p${i + 1}` } } : {}),
    };
  });
}

describe('listDirectories', () => {
  it('follows every page, and resumes from its cursor after a limiter wait', async () => {
    const requestId = await newRequest();
    let n = 0;
    const page = vi.fn(async (cursor?: PageCursor) => {
      n++;
      if (n === 2) throw throttled(100);
      if (!cursor)
        return { elements: [{ directoryId: 'A', name: 'Alpha' }], next: { nextPage: 'https://x/2' } };
      return { elements: [{ directoryId: 'B' }, { directoryId: 'A', name: 'Alpha' }] };
    });
    const env = testEnv({ store, writer, api: fakeQualtrics({ listDirectoriesPage: page }) });

    const first = await listDirectories(env, { requestId, listing: { started: false } });
    expect(first).toEqual({
      done: false,
      cursor: { nextPage: 'https://x/2' },
      directories: [{ directoryId: 'A', name: 'Alpha' }],
      waitUntil: expect.any(String),
      reservations: RESERVED,
    });
    if (first.done) throw new Error('unreachable');
    const second = await listDirectories(env, { requestId, listing: first });
    expect(second).toEqual({
      done: true,
      directories: [{ directoryId: 'A', name: 'Alpha' }, { directoryId: 'B' }],
    });
    expect(env.heldSeen.at(-1)).toEqual(RESERVED);
  });
});

describe('searchDirectory', () => {
  it('collects the contact ids of every page and asks for their records (access)', async () => {
    const requestId = await newRequest();
    const search = pagedSearch([['C1'], ['C2'], []]);
    const env = testEnv({ store, writer, api: fakeQualtrics({ searchContactsByEmailPage: search }) });

    const result = await searchDirectory(env, {
      requestId,
      directoryId: DIR,
      purpose: 'access',
      search: { started: false },
    });
    expect(result).toEqual({ next: 'fetch', contactIds: ['C1', 'C2'], contactsFound: 2, nextIndex: 0 });
    expect(search).toHaveBeenCalledTimes(3);
    expect(search.mock.calls[0]?.[1]).toBe(EMAIL);
  });

  it('is done at once when nothing is found, and counts what remains when verifying', async () => {
    const requestId = await newRequest();
    const none = testEnv({
      store,
      writer,
      api: fakeQualtrics({ searchContactsByEmailPage: pagedSearch([[]]) }),
    });
    await expect(
      searchDirectory(none, { requestId, directoryId: DIR, purpose: 'access', search: { started: false } }),
    ).resolves.toEqual({ next: 'done', contactIds: [], contactsFound: 0 });

    const some = testEnv({
      store,
      writer,
      api: fakeQualtrics({ searchContactsByEmailPage: pagedSearch([['C1', 'C2']]) }),
    });
    await expect(
      searchDirectory(some, { requestId, directoryId: DIR, purpose: 'verify', search: { started: false } }),
    ).resolves.toMatchObject({ next: 'done', contactsFound: 2 });
  });

  it('keeps its cursor and the ids so far through a limiter wait', async () => {
    const requestId = await newRequest();
    const pages = pagedSearch([['C1'], ['C2']]);
    let n = 0;
    const api = fakeQualtrics({
      searchContactsByEmailPage: (d, e, c) => (++n === 2 ? Promise.reject(throttled()) : pages(d, e, c)),
    });
    const env = testEnv({ store, writer, api });

    const paused = await searchDirectory(env, {
      requestId,
      directoryId: DIR,
      purpose: 'access',
      search: { started: false },
    });
    expect(paused).toMatchObject({
      next: 'wait',
      contactIds: ['C1'],
      cursor: { skipToken: 'p1' },
      reservations: RESERVED,
    });
    const done = await searchDirectory(env, {
      requestId,
      directoryId: DIR,
      purpose: 'access',
      search: paused as never,
    });
    expect(done).toEqual({ next: 'fetch', contactIds: ['C1', 'C2'], contactsFound: 2, nextIndex: 0 });
  });

  it('never puts a cursor that quotes the email into the state: it starts over instead', async () => {
    const requestId = await newRequest();
    let n = 0;
    const api = fakeQualtrics({
      searchContactsByEmailPage: async () => {
        if (++n === 2) throw throttled();
        return {
          elements: [contact('C1')],
          next: { nextPage: `https://x/search?q=${encodeURIComponent(EMAIL)}` },
        };
      },
    });
    const env = testEnv({ store, writer, api });
    const paused = await searchDirectory(env, {
      requestId,
      directoryId: DIR,
      purpose: 'access',
      search: { started: false },
    });
    expect(paused).toMatchObject({ next: 'wait', contactIds: [], contactsFound: 0 });
    expect(JSON.stringify(paused)).not.toContain('jane');
  });

  it('recognises an email in a cursor in any case or encoding', () => {
    expect(mentions({ skipToken: 'abc' }, EMAIL)).toBe(false);
    expect(mentions({ skipToken: 'JANE.DOE@EXAMPLE.COM' }, EMAIL)).toBe(true);
    expect(mentions({ nextPage: 'https://x/?e=jane.doe%40example.com' }, EMAIL)).toBe(true);
    expect(mentions({ nextPage: 'https://x/?e=Jane.Doe%40Example.com' }, EMAIL)).toBe(true);
  });
});

describe('getContacts', () => {
  it('writes the full records to the directory file, resuming after a limiter wait from what it wrote', async () => {
    const requestId = await newRequest();
    let n = 0;
    const getContact = vi.fn(async (_dir: string, id: string) => {
      if (++n === 2) throw throttled();
      return { contactId: id, email: EMAIL, firstName: 'Jane' };
    });
    const env = testEnv({ store, writer, api: fakeQualtrics({ getContact }) });
    const search = { contactIds: ['C1', 'C2', 'C3'], contactsFound: 3, nextIndex: 0 };

    const paused = await getContacts(env, { requestId, directoryId: DIR, search });
    expect(paused).toMatchObject({ next: 'wait', nextIndex: 1, contactsFound: 3, reservations: RESERVED });
    const done = await getContacts(env, { requestId, directoryId: DIR, search: paused as never });
    expect(done).toEqual({
      next: 'done',
      contactIds: ['C1', 'C2', 'C3'],
      contactsFound: 3,
      nextIndex: 3,
      key: directoryFileKey(requestId, DIR),
    });
    const file = await writer.readJson<{ directoryId: string; contacts: Array<{ contactId: string }> }>(
      directoryFileKey(requestId, DIR),
    );
    expect(file?.directoryId).toBe(DIR);
    expect(file?.contacts.map((c) => c.contactId)).toEqual(['C1', 'C2', 'C3']);
    // The state carries ids and counts: the records stay in S3.
    expect(JSON.stringify(done)).not.toContain(EMAIL);
  });

  it('skips a contact deleted since the search, and writes no file when none is left', async () => {
    const requestId = await newRequest();
    const gone = testEnv({
      store,
      writer,
      api: fakeQualtrics({
        getContact: vi.fn().mockRejectedValue(qualtricsFailure(404, 'getDirectoryContact')),
      }),
    });
    const result = await getContacts(gone, {
      requestId,
      directoryId: 'POOL_GONE',
      search: { contactIds: ['C1'], contactsFound: 1 },
    });
    expect(result).toEqual({ next: 'done', contactIds: ['C1'], contactsFound: 0, nextIndex: 1 });
    expect(await writer.readJson(directoryFileKey(requestId, 'POOL_GONE'))).toBeUndefined();
  });
});
