import { SIMULATOR_CLIENT, type Simulator } from './index';

/** Helpers for the simulator's own tests (and anyone else's): plain fetch over loopback. */

export interface ManualClock {
  clock: () => number;
  advance(ms: number): void;
  set(ms: number): void;
}

/** A clock that only moves when told to: makes windows, expiry and job progress deterministic. */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  return {
    clock: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  json: any;
  text: string;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function requestToken(
  sim: Simulator,
  form: Record<string, string> = { grant_type: 'client_credentials' },
  client: { clientId: string; clientSecret: string } = SIMULATOR_CLIENT,
): Promise<Answer> {
  const res = await fetch(`${sim.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  return answer(res);
}

export async function token(
  sim: Simulator,
  client: { clientId: string; clientSecret: string } = SIMULATOR_CLIENT,
  scope?: string,
): Promise<string> {
  const form: Record<string, string> = { grant_type: 'client_credentials' };
  if (scope) form.scope = scope;
  const a = await requestToken(sim, form, client);
  if (a.status !== 200) throw new Error(`token request failed with ${a.status}`);
  return a.json.access_token as string;
}

/** Calls `/API/v3<path>` (or an absolute URL) with a bearer token; POSTs send a JSON body. */
export async function api(
  sim: Simulator,
  bearer: string | undefined,
  method: 'GET' | 'POST',
  pathOrUrl: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${sim.url}/API/v3${pathOrUrl}`;
  const headers: Record<string, string> = { ...extraHeaders };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (method === 'POST') headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  return answer(res);
}

export function emailFilter(email: string) {
  return { filter: { filterType: 'email', comparison: 'eq', value: email } };
}

export async function directoryIds(sim: Simulator, bearer: string): Promise<string[]> {
  const a = await api(sim, bearer, 'GET', '/directories');
  return (a.json.result.elements as Array<{ directoryId: string }>).map((d) => d.directoryId);
}

/** Follows `nextPage` from `first` until there is none; returns every page's answer. */
export async function followPages(
  sim: Simulator,
  bearer: string,
  method: 'GET' | 'POST',
  first: string,
  body?: unknown,
  maxPages = 1000,
): Promise<Answer[]> {
  const pages: Answer[] = [];
  let next: string | null = first;
  while (next) {
    const a = await api(sim, bearer, method, next, body);
    if (a.status !== 200) throw new Error(`page ${pages.length + 1} answered ${a.status}`);
    pages.push(a);
    next = a.json.result.nextPage ?? null;
    if (pages.length > maxPages) throw new Error('pagination did not end');
  }
  return pages;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
