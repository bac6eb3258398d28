import type { ApiRequest, ApiResponse } from '../../../lambdas/core/api';
import type { Transport, TransportRequest } from './client';
import type { RequestSigner } from './sigv4';

/**
 * The two ways the CLI reaches the HTTP API: in this process (it owns the data dir and serves the
 * API itself) or over HTTP (another process's local API, or a deployment's).
 */

/** The API's own handler, called in-process with the request the server would have built. */
export function inProcessTransport(handle: (req: ApiRequest) => Promise<ApiResponse>): Transport {
  return async (req) =>
    handle({
      method: req.method,
      path: req.path,
      headers: { ...(req.body === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers },
      body: req.body === undefined ? null : JSON.stringify(req.body),
      query: req.query ?? {},
      basePath: '',
    });
}

/** The API at `baseUrl` could not be reached (nothing listens there, or the connection broke). */
export class ApiUnreachableError extends Error {
  constructor(
    readonly baseUrl: string,
    readonly reason: string,
  ) {
    super(`the API at ${baseUrl} cannot be reached (${reason})`);
    this.name = 'ApiUnreachableError';
  }
}

/** Longest wait for one answer (a records export of a long range is the slowest). */
const ANSWER_TIMEOUT_MS = 120_000;

/**
 * The API over HTTP at `baseUrl`: `http://127.0.0.1:<port>` of a data dir's owner or a `serve`, or
 * a deployment's stage URL (`https://…/v1`), each call signed by `signer` when one is given.
 */
export function httpTransport(baseUrl: string, o: { signer?: RequestSigner } = {}): Transport {
  return async (req: TransportRequest) => {
    const url = apiUrl(baseUrl, req.path, req.query);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...req.headers,
    };
    // Signed as sent: the same headers and body bytes (a signer's failure is its own error).
    if (o.signer)
      headers = await o.signer({ method: req.method, url, headers, ...(body === undefined ? {} : { body }) });
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body,
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ApiUnreachableError(baseUrl, networkReason(err));
    }
    const answered: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      answered[name] = value;
    });
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new ApiUnreachableError(baseUrl, networkReason(err));
    }
    return { statusCode: res.status, headers: answered, body: text };
  };
}

/** `path` (`/requests/…`) under `baseUrl`, keeping its stage (`/v1/requests/…`). */
export function apiUrl(
  baseUrl: string,
  path: string,
  query: Readonly<Record<string, readonly string[]>> = {},
): URL {
  const url = new URL(`${baseUrl}${path}`);
  for (const [name, values] of Object.entries(query)) {
    for (const value of values) url.searchParams.append(name, value);
  }
  return url;
}

/** fetch's error says "fetch failed"; the socket's code (ECONNREFUSED…) is in its cause. */
export function networkReason(err: unknown): string {
  for (
    let e = err as { code?: unknown; name?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    i++
  ) {
    if (typeof e.code === 'string') return e.code;
    if (e.name === 'TimeoutError') return 'no answer in time';
    e = e.cause as typeof e;
  }
  return 'connection failed';
}
