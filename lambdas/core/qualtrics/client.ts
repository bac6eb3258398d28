/**
 * The Qualtrics API v3 client: every call of `QualtricsApi`, over OAuth client credentials, with
 * the rate-limiter gate around every HTTP request (each page, each token request). Paths and
 * methods come from the endpoint table only.
 */
import { ConfigError, ErrorNames, InputError, QualtricsError } from '../errors';
import { emailProblem } from '../privacy';
import { buildPath, ENDPOINTS, type EndpointName, requiredScopes } from './endpoints';
import { apiUrl, followableUrl, type HttpSettings, sendForStream, sendJson } from './http';
import { createTokenProvider } from './oauth';
import {
  CUSTOMER_DATA_REQUEST_ID_KEYS,
  ERASURE_ID_KEYS,
  elementsOf,
  idFrom,
  type JsonObject,
  parseContactSummary,
  parseCustomerDataProgress,
  parseDirectory,
  parseErasureRequest,
  parseWhoAmI,
  type ResponseContext,
  rawCursorOf,
  resultOf,
  unexpectedResponse,
} from './parse';
import type {
  CallGate,
  ContactSummary,
  CustomerDataProgress,
  Directory,
  DownloadedFile,
  ErasureRequest,
  Page,
  PageCursor,
  QualtricsApi,
  WhoAmI,
} from './types';

export interface QualtricsClientOptions {
  /** e.g. `https://iad1.qualtrics.com`; the API is at `<origin>/API/v3`, the token at `<origin>/oauth2/token`. */
  origin: string;
  clientId: string;
  clientSecret: string;
  /** Requested scopes, sent space-separated; default: every scope the connector needs. */
  scopes?: string[];
  /** Called around every HTTP request; `before` may throw ThrottledError, which propagates untouched. */
  gate?: CallGate;
  /** Per request (downloads: time to first byte, then the longest pause between chunks). Default 15000. */
  timeoutMs?: number;
  /** Page size asked for; servers may cap it lower. Default 100. */
  pageSize?: number;
  /** Refresh the token this long before it expires. Default 60. */
  tokenRefreshMarginSeconds?: number;
  /** Clock (epoch ms) for token expiry and `Retry-After` dates. */
  now?: () => number;
  userAgent?: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS = 60;
export const DEFAULT_USER_AGENT = 'qualtrics-dsr';
/**
 * Most emails one erasure request takes: the UI's bulk limit; the API's is unconfirmed
 * (docs/qualtrics-api.md#erasures).
 */
export const MAX_ERASURE_EMAILS = 500;
/** Tries of one call when Qualtrics keeps answering 401 to tokens that may predate a revocation. */
const MAX_TOKEN_ATTEMPTS = 3;

export function createQualtricsClient(options: QualtricsClientOptions): QualtricsApi {
  const origin = validOrigin(options.origin);
  if (!options.clientId) throw new ConfigError('QUALTRICS_CLIENT_ID', 'the Qualtrics client id is empty');
  if (!options.clientSecret) {
    throw new ConfigError('QUALTRICS_CLIENT_SECRET', 'the Qualtrics client secret is empty');
  }
  const pageSize = positiveInteger(options.pageSize, DEFAULT_PAGE_SIZE, 'pageSize');
  const http: HttpSettings = {
    gate: options.gate,
    timeoutMs: positiveInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    now: options.now ?? Date.now,
  };
  const tokens = createTokenProvider({
    ...http,
    origin,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes: options.scopes ?? requiredScopes(),
    refreshMarginSeconds: options.tokenRefreshMarginSeconds ?? DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS,
  });

  /**
   * Runs `send` with a bearer token, read once the gate admitted the call (a wait at the gate may
   * outlive the token it started with). A 401 means the token expired or was revoked (AUTH_6.0):
   * drop it and repeat the call with the current token. A 401 on a token asked for after the
   * previous 401 is an Auth error; on one asked for before it (cached, or in flight, when a
   * revocation took it too) it is not conclusive: that token is dropped as well, up to
   * MAX_TOKEN_ATTEMPTS tries in all.
   */
  async function withToken<T>(send: (bearer: () => string) => Promise<T>): Promise<T> {
    let rejectedAt: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let used = await tokens.current();
      const bearer = () => {
        used = tokens.peek() ?? used;
        return used.value;
      };
      try {
        return await send(bearer);
      } catch (e) {
        if (!(e instanceof QualtricsError) || e.httpStatus !== 401) throw e;
        const conclusive = rejectedAt !== undefined && used.requestedAt >= rejectedAt;
        if (conclusive || attempt >= MAX_TOKEN_ATTEMPTS) throw e;
        rejectedAt = http.now();
        tokens.invalidate(used.value);
      }
    }
  }

  function callJson(endpoint: EndpointName, url: string, body?: unknown) {
    const { method } = ENDPOINTS[endpoint];
    return withToken((bearer) =>
      sendJson(http, {
        endpoint,
        method,
        url,
        bearer,
        headers: {
          Accept: 'application/json',
          ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
        },
        // Qualtrics answers 411 to a POST without a body, so a POST always sends one.
        body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
      }),
    );
  }

  async function callResult(
    endpoint: EndpointName,
    url: string,
    body?: unknown,
  ): Promise<{ ctx: ResponseContext; result: JsonObject }> {
    const res = await callJson(endpoint, url, body);
    return { ctx: res, result: resultOf(res, res.body) };
  }

  /** The URL of a list page: the first page, a skip token on the first page's URL, or a `nextPage` URL. */
  function pageUrl(
    endpoint: EndpointName,
    params: Record<string, string>,
    cursor: PageCursor | undefined,
  ): string {
    if (cursor && 'nextPage' in cursor) {
      const url = followableUrl(origin, cursor.nextPage, endpoint, ENDPOINTS[endpoint].method, params);
      if (!url) throw new InputError(`page cursor does not address ${endpoint} on the configured Qualtrics`);
      return url;
    }
    const query: Record<string, string | number> = { pageSize };
    if (cursor && 'skipToken' in cursor) query.skipToken = cursor.skipToken;
    return apiUrl(origin, buildPath(endpoint, params), query);
  }

  /** The next cursor of a page; none after an empty page, so a server can never keep us looping on nothing. */
  function nextCursor(
    ctx: ResponseContext,
    result: JsonObject,
    params: Record<string, string>,
    pageLength: number,
  ): PageCursor | undefined {
    const raw = rawCursorOf(ctx, result);
    if (pageLength === 0) return undefined;
    if (raw.nextPage !== undefined) {
      const url = followableUrl(origin, raw.nextPage, ctx.endpoint, ENDPOINTS[ctx.endpoint].method, params);
      if (!url) throw unexpectedResponse(ctx, `result.nextPage does not address ${ctx.endpoint}`);
      return { nextPage: url };
    }
    if (raw.skipToken !== undefined) return { skipToken: raw.skipToken };
    return undefined;
  }

  async function listPage<T>(
    endpoint: EndpointName,
    params: Record<string, string>,
    cursor: PageCursor | undefined,
    body: unknown,
    parse: (ctx: ResponseContext, element: JsonObject, index: number) => T,
  ): Promise<Page<T>> {
    const { ctx, result } = await callResult(endpoint, pageUrl(endpoint, params, cursor), body);
    const elements = elementsOf(ctx, result).map((e, i) => parse(ctx, e, i));
    const next = nextCursor(ctx, result, params, elements.length);
    return next ? { elements, next } : { elements };
  }

  /** Follows the cursor until there is none; never guesses the end from a short page. */
  async function allPages<T>(endpoint: EndpointName, fetchPage: (c?: PageCursor) => Promise<Page<T>>) {
    const out: T[] = [];
    const seen = new Set<string>();
    let cursor: PageCursor | undefined;
    do {
      const page = await fetchPage(cursor);
      out.push(...page.elements);
      cursor = page.next;
      if (cursor) {
        const key = JSON.stringify(cursor);
        if (seen.has(key)) {
          throw new QualtricsError(
            ErrorNames.UnexpectedResponse,
            'unexpected response: a page cursor repeated',
            {
              httpStatus: 200,
              endpoint,
            },
          );
        }
        seen.add(key);
      }
    } while (cursor);
    return out;
  }

  const api: QualtricsApi = {
    async whoami(): Promise<WhoAmI> {
      const { ctx, result } = await callResult('whoami', apiUrl(origin, buildPath('whoami')));
      return parseWhoAmI(ctx, result);
    },

    async grantedScopes(): Promise<string[] | undefined> {
      return (await tokens.current()).scopes;
    },

    listDirectoriesPage(cursor?: PageCursor): Promise<Page<Directory>> {
      return listPage('listDirectories', {}, cursor, undefined, parseDirectory);
    },

    listDirectories(): Promise<Directory[]> {
      return allPages('listDirectories', (c) => api.listDirectoriesPage(c));
    },

    searchContactsByEmailPage(
      directoryId: string,
      email: string,
      cursor?: PageCursor,
    ): Promise<Page<ContactSummary>> {
      checkEmail(email);
      // Every page repeats the same filter body, whichever cursor style the server uses.
      const body = { filter: { filterType: 'email', comparison: 'eq', value: email } };
      return listPage('searchDirectoryContacts', { directoryId }, cursor, body, parseContactSummary);
    },

    searchContactsByEmail(directoryId: string, email: string): Promise<ContactSummary[]> {
      return allPages('searchDirectoryContacts', (c) => api.searchContactsByEmailPage(directoryId, email, c));
    },

    async getContact(directoryId: string, contactId: string): Promise<Record<string, unknown>> {
      const url = apiUrl(origin, buildPath('getDirectoryContact', { directoryId, contactId }));
      // Returned as Qualtrics sent it: dates may be epoch ms or ISO strings
      // (docs/qualtrics-api.md#directories-and-contacts).
      return (await callResult('getDirectoryContact', url)).result;
    },

    async createCustomerDataRequest(email: string): Promise<{ customerDataRequestId: string }> {
      checkEmail(email);
      // Body shape unconfirmed (docs/qualtrics-api.md#customer-data-jobs).
      const { ctx, result } = await callResult(
        'createCustomerDataRequest',
        apiUrl(origin, buildPath('createCustomerDataRequest')),
        { email },
      );
      return { customerDataRequestId: idFrom(ctx, result, CUSTOMER_DATA_REQUEST_ID_KEYS, 'result') };
    },

    async getCustomerDataRequest(customerDataRequestId: string): Promise<CustomerDataProgress> {
      const url = apiUrl(origin, buildPath('getCustomerDataRequest', { customerDataRequestId }));
      const { ctx, result } = await callResult('getCustomerDataRequest', url);
      return parseCustomerDataProgress(ctx, result);
    },

    async downloadCustomerDataFile(customerDataRequestId: string, fileId: string): Promise<DownloadedFile> {
      const url = apiUrl(origin, buildPath('downloadCustomerDataFile', { customerDataRequestId, fileId }));
      const res = await withToken((bearer) =>
        sendForStream(http, {
          endpoint: 'downloadCustomerDataFile',
          method: ENDPOINTS.downloadCustomerDataFile.method,
          url,
          bearer,
          // identity: the bytes as stored (fetch would otherwise decode a gzip transfer), and a
          // Content-Length that is the file's size.
          headers: { Accept: '*/*', 'Accept-Encoding': 'identity' },
        }),
      );
      const file: DownloadedFile = {
        body: res.body,
        contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      };
      const length = res.headers.get('content-length');
      const encoding = res.headers.get('content-encoding');
      if (length && /^\d+$/.test(length) && (!encoding || encoding === 'identity')) {
        file.contentLength = Number(length);
      }
      return file;
    },

    async createErasureRequest(emails: string[], searchOnly: boolean): Promise<{ erasureRequestId: string }> {
      if (emails.length === 0) throw new InputError('an erasure request needs at least one email');
      if (emails.length > MAX_ERASURE_EMAILS) {
        throw new InputError(`an erasure request takes at most ${MAX_ERASURE_EMAILS} emails`);
      }
      for (const email of emails) checkEmail(email);
      const { ctx, result } = await callResult(
        'createErasureRequest',
        apiUrl(origin, buildPath('createErasureRequest')),
        { emails, searchOnly },
      );
      // `result.requestId` is the erasure id; `meta.requestId` is only the HTTP trace id.
      return { erasureRequestId: idFrom(ctx, result, ERASURE_ID_KEYS, 'result') };
    },

    async getErasureRequest(erasureRequestId: string): Promise<ErasureRequest & { found: boolean }> {
      const url = apiUrl(origin, buildPath('getErasureRequest', { erasureRequestId }));
      try {
        const { ctx, result } = await callResult('getErasureRequest', url);
        // The id we asked for stands in when the body omits it.
        return { ...parseErasureRequest(ctx, result, 'result', erasureRequestId), found: true };
      } catch (e) {
        // Qualtrics answers an error to get-by-id until the erasure completes
        // (docs/qualtrics-api.md#erasure-404-until-complete): 404, or a 400 that is not about auth. The
        // caller checks the list to tell that apart from an id Qualtrics never had.
        if (
          e instanceof QualtricsError &&
          (e.name === ErrorNames.NotFound || (e.name === ErrorNames.Validation && e.httpStatus === 400))
        ) {
          return { erasureRequestId, status: 'inProgress', found: false };
        }
        throw e;
      }
    },

    listErasureRequestsPage(cursor?: PageCursor): Promise<Page<ErasureRequest>> {
      return listPage('listErasureRequests', {}, cursor, undefined, (ctx, e, i) =>
        parseErasureRequest(ctx, e, `result.elements[${i}]`),
      );
    },

    listErasureRequests(): Promise<ErasureRequest[]> {
      return allPages('listErasureRequests', (c) => api.listErasureRequestsPage(c));
    },
  };
  return api;
}

function checkEmail(email: string): void {
  const problem = emailProblem(email);
  if (problem) throw new InputError(problem);
}

function validOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('QUALTRICS_BASE_URL', 'the Qualtrics origin is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('QUALTRICS_BASE_URL', 'the Qualtrics origin must be an http(s) URL');
  }
  if (url.username || url.password) {
    throw new ConfigError('QUALTRICS_BASE_URL', 'the Qualtrics origin must not contain credentials');
  }
  return url.origin;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`createQualtricsClient: ${name} must be a positive integer`);
  }
  return value;
}
