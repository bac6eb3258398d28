/**
 * Tolerant parsing of Qualtrics responses. Several shapes are unconfirmed
 * (docs/qualtrics-api.md#open-questions), so each reader accepts every spelling seen in public sources and
 * fails with a clear `Qualtrics.UnexpectedResponse` naming the endpoint and the field otherwise.
 *
 * Error messages name fields only, never values: response bodies may hold personal data.
 */
import { ErrorNames, QualtricsError } from '../errors';
import type { EndpointName } from './endpoints';
import type {
  ContactSummary,
  CustomerDataProgress,
  Directory,
  ErasureRequest,
  JobStatus,
  WhoAmI,
} from './types';

/** Where a body came from; every parse error carries it. */
export interface ResponseContext {
  endpoint: EndpointName;
  httpStatus: number;
  qualtricsRequestId?: string;
}

export type JsonObject = Record<string, unknown>;

export function unexpectedResponse(ctx: ResponseContext, problem: string): QualtricsError {
  return new QualtricsError(ErrorNames.UnexpectedResponse, `unexpected response: ${problem}`, {
    httpStatus: ctx.httpStatus,
    endpoint: ctx.endpoint,
    qualtricsRequestId: ctx.qualtricsRequestId,
  });
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Server-chosen strings that we repeat in error messages must look like codes or ids, so a body
// can never smuggle personal data (or anything else) into a message through them.
const SAFE_TOKEN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function safeToken(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? value : undefined;
}

/** `meta.requestId` of an envelope (a trace id), when it looks like one. */
export function metaRequestId(body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.meta)) return undefined;
  return safeToken(body.meta.requestId);
}

/** `meta.error.errorCode` of an error envelope, when it looks like a code. */
export function metaErrorCode(body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.meta) || !isObject(body.meta.error)) return undefined;
  return safeToken(body.meta.error.errorCode);
}

/**
 * `meta.error.retryAfter` (seconds) of an error envelope, as one client expects it (unconfirmed:
 * docs/qualtrics-api.md#rate-limits).
 */
export function metaRetryAfterSeconds(body: unknown): number | undefined {
  if (!isObject(body) || !isObject(body.meta) || !isObject(body.meta.error)) return undefined;
  const n = toNumber(body.meta.error.retryAfter);
  return n !== undefined && n >= 0 ? Math.ceil(n) : undefined;
}

/** RFC 6749 §5.2 `error` of a token endpoint error body. */
export function oauthErrorCode(body: unknown): string | undefined {
  return isObject(body) ? safeToken(body.error) : undefined;
}

/** The `result` object of a v3 envelope. */
export function resultOf(ctx: ResponseContext, body: unknown): JsonObject {
  if (!isObject(body)) return fail(ctx, 'body is not a JSON object');
  if (!isObject(body.result)) return fail(ctx, 'result is missing or not an object');
  return body.result;
}

/** `result.elements`, each an object. */
export function elementsOf(ctx: ResponseContext, result: JsonObject): JsonObject[] {
  const elements = result.elements;
  if (!Array.isArray(elements)) return fail(ctx, 'result.elements is missing or not an array');
  return elements.map((e, i) => (isObject(e) ? e : fail(ctx, `result.elements[${i}] is not an object`)));
}

/** The raw pagination cursor of a list result: a `nextPage` URL and/or a skip token. */
export interface RawCursor {
  nextPage?: string;
  skipToken?: string;
}

export function rawCursorOf(ctx: ResponseContext, result: JsonObject): RawCursor {
  const out: RawCursor = {};
  const nextPage = result.nextPage;
  if (typeof nextPage === 'string') {
    if (nextPage.trim() !== '') out.nextPage = nextPage.trim();
  } else if (nextPage !== undefined && nextPage !== null) {
    fail(ctx, 'result.nextPage is neither a URL nor null');
  }
  for (const key of ['skipToken', 'nextPageToken'] as const) {
    const token = result[key];
    if (typeof token === 'string' && token !== '') {
      out.skipToken = token;
      break;
    }
    if (token !== undefined && token !== null && typeof token !== 'string') {
      fail(ctx, `result.${key} is not a string`);
    }
  }
  return out;
}

/** First of `keys` holding a non-empty string (or a number, as a string). */
export function idFrom(
  ctx: ResponseContext,
  obj: JsonObject,
  keys: readonly string[],
  where: string,
): string {
  const id = optionalId(obj, keys);
  if (id === undefined) return fail(ctx, `${where} has none of ${keys.join(' / ')}`);
  return id;
}

function optionalId(obj: JsonObject, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

// Status words seen or proposed for Qualtrics' async jobs (docs/qualtrics-api.md#job-statuses), compared
// case-insensitively with `_`, `-` and spaces removed.
const STATUS_WORDS: Record<string, JobStatus> = {
  inprogress: 'inProgress',
  processing: 'inProgress',
  pending: 'inProgress',
  queued: 'inProgress',
  started: 'inProgress',
  running: 'inProgress',
  complete: 'complete',
  completed: 'complete',
  done: 'complete',
  succeeded: 'complete',
  success: 'complete',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  cancelled: 'failed',
  canceled: 'failed',
};

/** Maps Qualtrics' status word onto ours; a missing or unknown word is an error, never undefined. */
export function normalizeJobStatus(
  ctx: ResponseContext,
  raw: unknown,
  where: string,
): { status: JobStatus; rawStatus: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(ctx, `${where}.status is missing`);
  const status = STATUS_WORDS[raw.toLowerCase().replace(/[\s_-]/g, '')];
  // The word itself stays out of the message: only known words are trusted to carry no data.
  if (!status) return fail(ctx, `${where}.status is not a known status word`);
  return { status, rawStatus: raw };
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Dates arrive as ISO strings or epoch milliseconds (docs/qualtrics-api.md#directories-and-contacts);
 * keep ISO strings.
 */
function toIsoDate(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v).toISOString();
  return undefined;
}

function fail(ctx: ResponseContext, problem: string): never {
  throw unexpectedResponse(ctx, problem);
}

// ---- endpoint readers ----

export function parseWhoAmI(ctx: ResponseContext, result: JsonObject): WhoAmI {
  const out: WhoAmI = {
    brandId: idFrom(ctx, result, ['brandId'], 'result'),
    userId: idFrom(ctx, result, ['userId'], 'result'),
  };
  for (const key of ['userName', 'accountType', 'datacenter', 'firstName', 'lastName', 'email'] as const) {
    const v = optionalString(result[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function parseDirectory(ctx: ResponseContext, element: JsonObject, index: number): Directory {
  const out: Directory = {
    directoryId: idFrom(ctx, element, ['directoryId', 'id'], `result.elements[${index}]`),
  };
  const name = optionalString(element.name);
  if (name !== undefined) out.name = name;
  const count = toNumber(element.contactCount);
  if (count !== undefined) out.contactCount = count;
  const isDefault = toBoolean(element.isDefault);
  if (isDefault !== undefined) out.isDefault = isDefault;
  return out;
}

/**
 * Search elements carry `id`; `contactId` is accepted too
 * (docs/qualtrics-api.md#directories-and-contacts).
 */
export function parseContactSummary(
  ctx: ResponseContext,
  element: JsonObject,
  index: number,
): ContactSummary {
  return { contactId: idFrom(ctx, element, ['id', 'contactId'], `result.elements[${index}]`), raw: element };
}

export const CUSTOMER_DATA_REQUEST_ID_KEYS = [
  'customerDataRequestId',
  'id',
  'requestId',
  'requestid',
] as const;

export function parseCustomerDataProgress(ctx: ResponseContext, result: JsonObject): CustomerDataProgress {
  const { status, rawStatus } = normalizeJobStatus(ctx, result.status, 'result');
  const out: CustomerDataProgress = { status, rawStatus, fileIds: fileIdsOf(ctx, result) };
  const percent = toNumber(result.percentComplete);
  if (percent !== undefined) out.percentComplete = percent;
  const reason = optionalString(result.failureReason);
  if (reason !== undefined) out.failureReason = reason;
  return out;
}

/** File ids from `fileId`, `fileIds` and `files[].fileId` / `files[].id`, in order, without repeats. */
function fileIdsOf(ctx: ResponseContext, result: JsonObject): string[] {
  const ids: string[] = [];
  const add = (v: unknown, where: string) => {
    if (typeof v === 'string' && v !== '') ids.push(v);
    else if (typeof v === 'number' && Number.isFinite(v)) ids.push(String(v));
    else fail(ctx, `${where} is not a file id`);
  };
  if (result.fileId !== undefined && result.fileId !== null) add(result.fileId, 'result.fileId');
  if (result.fileIds !== undefined && result.fileIds !== null) {
    if (!Array.isArray(result.fileIds)) fail(ctx, 'result.fileIds is not an array');
    result.fileIds.forEach((v, i) => {
      add(v, `result.fileIds[${i}]`);
    });
  }
  if (result.files !== undefined && result.files !== null) {
    if (!Array.isArray(result.files)) fail(ctx, 'result.files is not an array');
    result.files.forEach((f, i) => {
      if (isObject(f)) add(f.fileId ?? f.id, `result.files[${i}].fileId`);
      else add(f, `result.files[${i}]`);
    });
  }
  return [...new Set(ids)];
}

/** Erasure create/get/list call the id `requestId`, `requestid` or `id` (docs/qualtrics-api.md#erasures). */
export const ERASURE_ID_KEYS = ['requestId', 'requestid', 'id'] as const;

export function parseErasureRequest(
  ctx: ResponseContext,
  obj: JsonObject,
  where: string,
  fallbackId?: string,
): ErasureRequest {
  const erasureRequestId =
    optionalId(obj, ERASURE_ID_KEYS) ?? fallbackId ?? idFrom(ctx, obj, ERASURE_ID_KEYS, where);
  const { status, rawStatus } = normalizeJobStatus(ctx, obj.status, where);
  const out: ErasureRequest = { erasureRequestId, status, rawStatus };
  const searchOnly = toBoolean(obj.searchOnly);
  if (searchOnly !== undefined) out.searchOnly = searchOnly;
  const notFound = emailListOf(ctx, obj.emailsNotFound, `${where}.emailsNotFound`);
  if (notFound !== undefined) out.emailsNotFound = notFound;
  const emailList = emailListOf(ctx, obj.emailList, `${where}.emailList`);
  if (emailList !== undefined) out.emailList = emailList;
  const requested = toNumber(obj.numEmailsRequested);
  if (requested !== undefined) out.numEmailsRequested = requested;
  if (obj.failureReason === null) out.failureReason = null;
  else if (typeof obj.failureReason === 'string') out.failureReason = obj.failureReason;
  const created = toIsoDate(obj.created);
  if (created !== undefined) out.created = created;
  const updated = toIsoDate(obj.updated);
  if (updated !== undefined) out.updated = updated;
  return out;
}

/** An array of strings, or (Singer types it as a string) a comma-separated string. */
function emailListOf(ctx: ResponseContext, v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  return fail(ctx, `${where} is not a list of strings`);
}

/** A bare OAuth token response (RFC 6749 §5.1), not the v3 envelope. */
export interface TokenGrant {
  accessToken: string;
  expiresInSeconds: number;
  scopes?: string[];
}

/** Lifetime assumed when the token response omits `expires_in` (optional in RFC 6749). A 401 still refreshes. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

export function parseTokenGrant(ctx: ResponseContext, body: unknown): TokenGrant {
  if (!isObject(body)) return fail(ctx, 'token response is not a JSON object');
  // Tolerate an enveloped answer although Qualtrics documents the bare RFC 6749 shape.
  const grant = typeof body.access_token !== 'string' && isObject(body.result) ? body.result : body;
  const accessToken = grant.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') return fail(ctx, 'access_token is missing');
  let expiresInSeconds = DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (grant.expires_in !== undefined && grant.expires_in !== null) {
    const n = toNumber(grant.expires_in);
    if (n === undefined || n <= 0) return fail(ctx, 'expires_in is not a positive number');
    expiresInSeconds = n;
  }
  const out: TokenGrant = { accessToken, expiresInSeconds };
  if (typeof grant.scope === 'string') out.scopes = grant.scope.split(/\s+/).filter((s) => s !== '');
  return out;
}
