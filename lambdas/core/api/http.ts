/**
 * The HTTP shapes the API core works on, independent of Lambda: the API Gateway handler and the
 * local server both turn what they receive into an `ApiRequest` and send back the `ApiResponse`.
 */

export interface ApiRequest {
  method: string;
  /** The path as the client sent it, without the query and without an API Gateway stage prefix. */
  path: string;
  /** Header names in any case; values as received. */
  headers: Record<string, string | undefined>;
  /** The body as received (base64 when `isBase64Encoded`), or null when there is none. */
  body: string | null;
  isBase64Encoded?: boolean;
  /** Prefix links must carry to reach this API (the API Gateway stage, e.g. `/prod`); '' locally. */
  basePath?: string;
  /** The query string, decoded: every value of each parameter, in order (a repeated one has several). */
  query?: QueryParameters;
}

export type QueryParameters = Readonly<Record<string, readonly string[]>>;

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Request bodies larger than this are refused (413) without being parsed (README "HTTP API"). */
export const MAX_BODY_BYTES = 64 * 1024;
/** `POST /requests/batch` alone: 500 submissions of the longest allowed fields fit (README "Bulk"). */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

export interface ApiErrorBody {
  error: { code: string; message: string };
}

const BASE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): ApiResponse {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** A CSV document (RFC 4180, UTF-8), offered as a download named `filename`. */
export function csvResponse(statusCode: number, csv: string, filename: string): ApiResponse {
  return {
    statusCode,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="${filename}"`,
    },
    body: csv,
  };
}

/** A header's value, looked up case-insensitively (API Gateway keeps the client's casing). */
export function headerValue(headers: ApiRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The header by which the local server knows a request was handed over by a CLI command. */
export const SOURCE_HEADER = 'x-qdsr-source';
