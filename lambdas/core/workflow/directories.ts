import { ErrorNames, QualtricsError } from '../errors';
import type { PageCursor } from '../qualtrics/types';
import type { Reservation } from '../rate-limiter';
import { directoryFileKey } from '../tables';
import { loadRequest, type StepEnv } from './env';
import type {
  DirectoryRefState,
  GetContactsEvent,
  ListDirectoriesEvent,
  ListingState,
  SearchDirectoryEvent,
  SearchStateValue,
} from './inputs';
import { type CallOrWait, callOrWait } from './throttle';

/**
 * XM Directory steps: list every directory, search each for the subject (every page), and fetch
 * the full record of each contact found into `qualtrics/directories/<directoryId>.json`.
 * A limiter denial ends the step early with a cursor and the instant to continue.
 */

export type ListDirectoriesResult =
  | { done: true; directories: DirectoryRefState[] }
  | {
      done: false;
      cursor?: PageCursor;
      directories: DirectoryRefState[];
      waitUntil: string;
      reservations?: Reservation[];
    };

export async function listDirectories(
  env: StepEnv,
  { listing }: ListDirectoriesEvent,
): Promise<ListDirectoriesResult> {
  const resumed = resumedListing(listing);
  const q = await env.qualtrics(resumed.reservations);
  const directories = resumed.directories;
  const seen = new Set(directories.map((d) => d.directoryId));
  let cursor = resumed.cursor;
  do {
    const listed = await callOrWait(env, q, 'the next directory page', () =>
      q.api.listDirectoriesPage(cursor),
    );
    if ('wait' in listed) return { done: false, ...(cursor ? { cursor } : {}), directories, ...listed.wait };
    const page = listed.value;
    for (const d of page.elements) {
      if (seen.has(d.directoryId)) continue;
      seen.add(d.directoryId);
      directories.push(
        d.name !== undefined ? { directoryId: d.directoryId, name: d.name } : { directoryId: d.directoryId },
      );
    }
    cursor = page.next;
  } while (cursor);
  // No timeline entry: this step may read the request record only (catalog); the manifest or the
  // evidence records how many directories were searched.
  env.log.info('directories listed', { directories: directories.length });
  return { done: true, directories };
}

function resumedListing(listing: ListingState): {
  cursor?: PageCursor;
  directories: DirectoryRefState[];
  reservations?: Reservation[];
} {
  if ('directories' in listing) {
    return {
      cursor: listing.cursor,
      directories: [...listing.directories],
      reservations: listing.reservations,
    };
  }
  return { directories: [] };
}

export type SearchResult = {
  next: 'wait' | 'fetch' | 'done';
  contactIds: string[];
  contactsFound: number;
  cursor?: PageCursor;
  nextIndex?: number;
  waitUntil?: string;
  key?: string;
  reservations?: Reservation[];
};

export async function searchDirectory(
  env: StepEnv,
  { requestId, directoryId, purpose, search }: SearchDirectoryEvent,
): Promise<SearchResult> {
  const record = await loadRequest(env, requestId);
  const resumed = resumedSearch(search);
  const q = await env.qualtrics('reservations' in search ? search.reservations : undefined);
  const contactIds = resumed.contactIds;
  const seen = new Set(contactIds);
  let cursor = resumed.cursor;
  do {
    const searched = await callOrWait(
      env,
      q,
      'the next search page',
      () => q.api.searchContactsByEmailPage(directoryId, record.email, cursor),
      { directoryId },
    );
    if ('wait' in searched) {
      // A cursor that quotes the search (the email) must not enter the state: start over instead.
      if (!cursor || mentions(cursor, record.email))
        return { next: 'wait', contactIds: [], contactsFound: 0, ...searched.wait };
      return { next: 'wait', contactIds, contactsFound: contactIds.length, cursor, ...searched.wait };
    }
    const page = searched.value;
    for (const c of page.elements) {
      if (seen.has(c.contactId)) continue;
      seen.add(c.contactId);
      contactIds.push(c.contactId);
    }
    cursor = page.next;
  } while (cursor);
  env.log.info('directory searched', { directoryId, purpose, contactsFound: contactIds.length });
  if (purpose === 'access' && contactIds.length > 0) {
    return { next: 'fetch', contactIds, contactsFound: contactIds.length, nextIndex: 0 };
  }
  return { next: 'done', contactIds, contactsFound: contactIds.length };
}

function resumedSearch(search: SearchStateValue): { cursor?: PageCursor; contactIds: string[] } {
  if ('contactIds' in search && search.cursor)
    return { cursor: search.cursor, contactIds: [...search.contactIds] };
  return { contactIds: [] };
}

/** Whether a cursor carries the email in any spelling (case, URL encoding). */
export function mentions(cursor: PageCursor, email: string): boolean {
  const text = JSON.stringify(cursor).toLowerCase();
  let decoded = text;
  try {
    decoded = decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    // Not URL-encoded text: the raw form is checked below.
  }
  const e = email.toLowerCase();
  return text.includes(e) || decoded.includes(e) || text.includes(encodeURIComponent(e).toLowerCase());
}

interface DirectoryFile {
  directoryId: string;
  contacts: Array<Record<string, unknown>>;
}

export async function getContacts(
  env: StepEnv,
  { requestId, directoryId, search }: GetContactsEvent,
): Promise<SearchResult> {
  const q = await env.qualtrics(search.reservations);
  const key = directoryFileKey(requestId, directoryId);
  const start = search.nextIndex ?? 0;
  // After a limiter wait, the records fetched so far are in the file already.
  const contacts = start > 0 ? ((await env.writer.readJson<DirectoryFile>(key))?.contacts ?? []) : [];
  const { contactIds } = search;
  for (let i = start; i < contactIds.length; i++) {
    const contactId = contactIds[i] as string;
    let fetched: CallOrWait<Record<string, unknown>>;
    try {
      fetched = await callOrWait(env, q, 'the next contact', () => q.api.getContact(directoryId, contactId), {
        directoryId,
      });
    } catch (e) {
      if (!(e instanceof QualtricsError && e.name === ErrorNames.NotFound)) throw e;
      // Deleted between the search and now: nothing of the subject left to export there.
      env.log.warn('contact found by the search is gone', { directoryId, contactId });
      continue;
    }
    if ('wait' in fetched) {
      // What is fetched so far goes to the file; the next attempt reads it back and continues.
      if (contacts.length > 0)
        await env.writer.putJson(key, { directoryId, contacts } satisfies DirectoryFile);
      return { next: 'wait', contactIds, contactsFound: search.contactsFound, nextIndex: i, ...fetched.wait };
    }
    contacts.push(fetched.value);
  }
  const done = {
    next: 'done',
    contactIds,
    contactsFound: contacts.length,
    nextIndex: contactIds.length,
  } as const;
  // Every contact vanished since the search: like a directory without a match, no file.
  if (contacts.length === 0) return done;
  await env.writer.putJson(key, { directoryId, contacts } satisfies DirectoryFile);
  env.log.info('contact records written', { directoryId, contacts: contacts.length });
  return { ...done, key };
}
