/**
 * One HTTP exchange with Qualtrics: rate-limiter gate around it, a timeout, and the mapping of a
 * failure onto the typed errors of `errors.ts`. Knows nothing about tokens or endpoints' shapes.
 *
 * Transport: Node 20's global fetch (undici) keeps connections alive by default through its global
 * dispatcher, so successive calls (pages, polls) reuse one TLS connection; nothing to configure.
 * Redirects are never followed: a redirect could carry the bearer token to another host.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { type ErrorName, ErrorNames, QualtricsError } from '../errors';
import { API_ROOT, type EndpointName, type HttpMethod, matchEndpoint } from './endpoints';
import {
  metaErrorCode,
  metaRequestId,
  metaRetryAfterSeconds,
  oauthErrorCode,
  type ResponseContext,
  unexpectedResponse,
} from './parse';
import type { CallGate } from './types';

export interface HttpSettings {
  gate?: CallGate;
  /** Per request; for streamed downloads, the time to first byte and the longest wait for a chunk. */
  timeoutMs: number;
  userAgent: string;
  /** Clock for `Retry-After` dates. */
  now: () => number;
}

export interface HttpRequest {
  endpoint: EndpointName;
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  /** The bearer token, read once the gate admitted the request (sent as `Authorization: Bearer`). */
  bearer?: () => string;
  /** Already serialized; every POST must have one (Qualtrics answers 411 to bodyless POSTs). */
  body?: string;
}

export interface JsonResponse extends ResponseContext {
  body: unknown;
}

export interface StreamResponse extends ResponseContext {
  body: Readable;
  headers: Headers;
}

/** Sends a request and returns its parsed JSON body, or throws the typed error of its failure. */
export async function sendJson(settings: HttpSettings, req: HttpRequest): Promise<JsonResponse> {
  const { res, abort, disarm } = await dispatch(settings, req);
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    await report(settings, req.endpoint, { httpStatus: res.status });
    throw transportError(req.endpoint, e, abort.signal.aborted, settings.timeoutMs);
  } finally {
    disarm();
  }
  const { ctx, body } = await conclude(settings, req, res, text);
  if (body === undefined) throw unexpectedResponse(ctx, 'body is not JSON');
  return { ...ctx, body };
}

/**
 * Reports a read response to the gate and returns its parsed body, or throws the typed error of a
 * non-2xx status.
 */
async function conclude(
  settings: HttpSettings,
  req: HttpRequest,
  res: Response,
  text: string,
): Promise<{ ctx: ResponseContext; body: unknown }> {
  const body = parseJson(text);
  const retryAfterSeconds = retryAfterOf(res.headers, body, settings.now);
  await report(settings, req.endpoint, { httpStatus: res.status, retryAfterSeconds });
  const ctx: ResponseContext = {
    endpoint: req.endpoint,
    httpStatus: res.status,
    qualtricsRequestId: metaRequestId(body),
  };
  if (!isSuccess(res.status)) throw errorFromResponse(ctx, body, retryAfterSeconds);
  return { ctx, body };
}

/**
 * Sends a request whose successful body is streamed to the caller unread (file downloads). The
 * timeout covers the time to the response headers, then each wait for the next chunk, so a large
 * file may take as long as it needs while a stalled one still fails.
 */
export async function sendForStream(settings: HttpSettings, req: HttpRequest): Promise<StreamResponse> {
  const { res, disarm, rearm } = await dispatch(settings, req);
  if (!isSuccess(res.status) || res.body === null) {
    let text = '';
    try {
      text = await res.text();
    } catch {
      // The status alone classifies the failure; an unreadable error body changes nothing.
    } finally {
      disarm();
    }
    const { ctx } = await conclude(settings, req, res, text);
    return { ...ctx, headers: res.headers, body: Readable.from([]) };
  }
  disarm();
  await report(settings, req.endpoint, { httpStatus: res.status });
  const ctx: ResponseContext = { endpoint: req.endpoint, httpStatus: res.status };
  // The idle timer runs only while a read waits on the network, so a slow consumer (backpressure)
  // never looks like a stalled server. A timeout aborts the fetch, which fails the pending read
  // (and so the stream) with the Transient error the timer aborted with.
  const reader = res.body.getReader();
  const watched = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        rearm();
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } finally {
          disarm();
        }
      },
      cancel(reason) {
        disarm();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    ...ctx,
    headers: res.headers,
    body: Readable.fromWeb(watched as unknown as NodeReadableStream<Uint8Array>),
  };
}

interface Dispatched {
  res: Response;
  abort: AbortController;
  /** Stops the timeout. */
  disarm: () => void;
  /** Restarts the timeout from now (streamed bodies). */
  rearm: () => void;
}

async function dispatch(settings: HttpSettings, req: HttpRequest): Promise<Dispatched> {
  // The gate may refuse (ThrottledError, LimiterUnavailable): that propagates untouched and no
  // request is made.
  await settings.gate?.before(req.endpoint);
  const headers: Record<string, string> = { 'User-Agent': settings.userAgent, ...req.headers };
  if (req.bearer) headers.Authorization = `Bearer ${req.bearer()}`;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const rearm = () => {
    disarm();
    timer = setTimeout(() => abort.abort(timeoutError(req.endpoint, settings.timeoutMs)), settings.timeoutMs);
    timer.unref();
  };
  rearm();
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers,
      body: req.body,
      redirect: 'manual',
      signal: abort.signal,
    });
    return { res, abort, disarm, rearm };
  } catch (e) {
    disarm();
    await report(settings, req.endpoint, { httpStatus: 0 });
    throw transportError(req.endpoint, e, abort.signal.aborted, settings.timeoutMs);
  }
}

/**
 * Tells the gate how the call went. The call has happened by now, so a failing report must not
 * hide its outcome (e.g. the id of a job just created); the limiter fails closed in `before`.
 */
async function report(
  settings: HttpSettings,
  endpoint: EndpointName,
  outcome: { httpStatus: number; retryAfterSeconds?: number },
): Promise<void> {
  if (!settings.gate) return;
  const clean: { httpStatus: number; retryAfterSeconds?: number } = { httpStatus: outcome.httpStatus };
  if (outcome.retryAfterSeconds !== undefined) clean.retryAfterSeconds = outcome.retryAfterSeconds;
  try {
    await settings.gate.after(endpoint, clean);
  } catch {
    // See above: the outcome of the call wins over the bookkeeping.
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function timeoutError(endpoint: EndpointName, timeoutMs: number): QualtricsError {
  return new QualtricsError(ErrorNames.Transient, `no response from Qualtrics within ${timeoutMs} ms`, {
    httpStatus: 0,
    endpoint,
  });
}

/**
 * Codes of a failure to connect (no connection, so nothing of the request was written): refused,
 * unreachable, a name that does not resolve, a connect timeout, and the TLS handshake's own
 * failures (a certificate refused, a protocol or handshake alert), which come before any byte of
 * HTTP. A reset, a hang-up or our own timeout may come after the request left: never listed.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR',
]);

/** The first error code along `e`'s cause chain (undici wraps the socket's error in `fetch failed`). */
function causeCode(e: unknown): string | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,60}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a failed fetch provably never wrote its request (see NOT_SENT_CODES). */
export function requestNotSent(e: unknown): boolean {
  const code = causeCode(e);
  return code !== undefined && NOT_SENT_CODES.has(code);
}

/** A fetch that failed without a usable response. The cause is not attached: it may name the URL. */
function transportError(
  endpoint: EndpointName,
  e: unknown,
  timedOut: boolean,
  timeoutMs: number,
): QualtricsError {
  if (e instanceof QualtricsError) return e;
  if (timedOut) return timeoutError(endpoint, timeoutMs);
  const cause = causeCode(e);
  const code = cause ? ` (${cause})` : '';
  const notSent = requestNotSent(e);
  return new QualtricsError(
    ErrorNames.Transient,
    notSent
      ? `could not connect to Qualtrics${code}; the request was not sent`
      : `network error talking to Qualtrics${code}`,
    { httpStatus: 0, endpoint, ...(notSent ? { notSent } : {}) },
  );
}

/** `Retry-After` as seconds (RFC 9110: delay-seconds or an HTTP date), else `meta.error.retryAfter`. */
export function retryAfterOf(headers: Headers, body: unknown, now: () => number): number | undefined {
  const header = headers.get('retry-after')?.trim();
  if (header) {
    // Fractions are not allowed by RFC 9110 but cost nothing to accept.
    if (/^\d+(\.\d+)?$/.test(header)) return Math.ceil(Number(header));
    // Only something that looks like an HTTP date: V8's Date.parse also accepts bare numbers.
    const at = /[A-Za-z]/.test(header) ? Date.parse(header) : Number.NaN;
    if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - now()) / 1000));
  }
  return metaRetryAfterSeconds(body);
}

// Codes that say "who you are" is the problem, whatever the status (docs/qualtrics-api.md#errors):
// ATP_2 no auth header (400), DCD_7 unknown token (401), AUTH_6.0 expired bearer token (401).
const AUTH_CODES = /^(ATP_2|DCD_7|AUTH_\d.*)$/;
// AuthZ_2.0: the token is fine but the user, brand or scope may not use the endpoint.
const AUTHZ_CODES = /^AuthZ_/i;
const VALIDATION_CODES = /^QVAL_/i;

// RFC 6749 §5.2 token endpoint errors.
const OAUTH_ERRORS: Record<string, ErrorName> = {
  invalid_client: ErrorNames.Auth,
  invalid_grant: ErrorNames.Auth,
  unauthorized_client: ErrorNames.Auth,
  invalid_scope: ErrorNames.MissingScope,
  invalid_request: ErrorNames.Validation,
  unsupported_grant_type: ErrorNames.Validation,
  server_error: ErrorNames.Transient,
  temporarily_unavailable: ErrorNames.Transient,
};

/** Which typed error a failed response is: by Qualtrics' error code where present, then by status. */
export function classifyFailure(status: number, errorCode?: string, oauthError?: string): ErrorName {
  if (status === 429) return ErrorNames.RateLimited;
  if (status >= 500) return ErrorNames.Transient;
  if (oauthError && OAUTH_ERRORS[oauthError]) return OAUTH_ERRORS[oauthError];
  if (errorCode && status >= 400) {
    if (AUTH_CODES.test(errorCode)) return ErrorNames.Auth;
    if (AUTHZ_CODES.test(errorCode)) return ErrorNames.MissingScope;
    if (VALIDATION_CODES.test(errorCode)) return ErrorNames.Validation;
  }
  if (status === 401) return ErrorNames.Auth;
  if (status === 403) return ErrorNames.MissingScope;
  if (status === 404) return ErrorNames.NotFound;
  if (status === 408) return ErrorNames.Transient;
  if (status >= 400) return ErrorNames.Validation;
  // 1xx/3xx: a redirect we refuse to follow, or something stranger.
  return ErrorNames.UnexpectedResponse;
}

const DESCRIPTIONS: Partial<Record<ErrorName, string>> = {
  [ErrorNames.RateLimited]: 'Qualtrics rate limit reached',
  [ErrorNames.Auth]: 'Qualtrics rejected the credentials or the access token',
  [ErrorNames.MissingScope]:
    'the Qualtrics OAuth client or its user lacks a scope or permission this call needs',
  [ErrorNames.NotFound]: 'Qualtrics has no such resource',
  [ErrorNames.Validation]: 'Qualtrics rejected the request as invalid',
  [ErrorNames.Transient]: 'Qualtrics failed to answer (server error)',
  [ErrorNames.UnexpectedResponse]: 'unexpected response: status not handled (redirects are not followed)',
};

/**
 * The typed error of a non-2xx response. Qualtrics' `errorMessage` is deliberately left out: it may
 * echo request contents (an email); the code and the trace id are enough to look it up.
 */
export function errorFromResponse(
  ctx: ResponseContext,
  body: unknown,
  retryAfterSeconds?: number,
): QualtricsError {
  const errorCode = metaErrorCode(body);
  const oauthError = oauthErrorCode(body);
  const name = classifyFailure(ctx.httpStatus, errorCode, oauthError);
  return new QualtricsError(name, DESCRIPTIONS[name] ?? 'Qualtrics call failed', {
    httpStatus: ctx.httpStatus,
    errorCode: errorCode ?? oauthError,
    qualtricsRequestId: ctx.qualtricsRequestId,
    endpoint: ctx.endpoint,
    retryAfterSeconds,
  });
}

// ---- URLs ----

/** `<origin>/API/v3<path>?<query>`; `path` comes from `buildPath`. */
export function apiUrl(origin: string, path: string, query: Record<string, string | number> = {}): string {
  const url = new URL(`${API_ROOT}${path}`, origin);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  return url.href;
}

/**
 * Checks a `nextPage` URL before it is followed with our token: it must address `expected` (and,
 * when given, the same path parameters). A URL on our origin is used verbatim; one on another
 * origin is re-based onto ours, so the bearer token never goes to a host we were not configured
 * for. Returns undefined when the URL does not qualify.
 */
export function followableUrl(
  origin: string,
  raw: string,
  expected: EndpointName,
  method: HttpMethod,
  params: Record<string, string> = {},
): string | undefined {
  let url: URL;
  try {
    url = new URL(raw, origin);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  if (!url.pathname.startsWith(`${API_ROOT}/`)) return undefined;
  const match = matchEndpoint(method, url.pathname.slice(API_ROOT.length), true);
  if (match?.name !== expected) return undefined;
  for (const [k, v] of Object.entries(params)) if (match.params[k] !== v) return undefined;
  if (url.origin === new URL(origin).origin) return url.href;
  return new URL(`${url.pathname}${url.search}`, origin).href;
}
