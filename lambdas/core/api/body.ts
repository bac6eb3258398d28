import { z } from 'zod';
import { type RequestSubmission, requestSubmission, validate } from '../request-contract';
import { ApiError, badRequest } from './errors';
import { type ApiRequest, headerValue, MAX_BODY_BYTES } from './http';

/**
 * Request bodies: `application/json`, at most 64 KiB, one JSON object with exactly the fields of
 * its zod definition: a request submission (../request-contract.ts) for `POST /requests`, and the
 * two below. API Gateway's models are generated from the same definitions (infra/constructs/api.ts).
 * Every message names the field and the rule, never the value: a rejected body may hold an email
 * or an injection attempt.
 */

/** Deeper than this is not a body anyone means to send us; a clear 400 beats a confusing one. */
export const MAX_JSON_DEPTH = 32;

/** `POST /requests/search`: the subject's email, by the same rule as a submission's (never in a URL). */
export const subjectSearch = z.strictObject({ email: requestSubmission.shape.email });
export type SubjectSearch = z.output<typeof subjectSearch>;

export const MAX_EXTENSION_REASON_LENGTH = 500;
const reasonRule = `reason must be 1-${MAX_EXTENSION_REASON_LENGTH} characters, not only spaces`;

/** `POST /requests/{id}/extend`: why the controller takes the longer period (kept in the record only). */
export const extensionRequest = z.strictObject({
  reason: z
    .string({ error: reasonRule })
    .min(1, reasonRule)
    .max(MAX_EXTENSION_REASON_LENGTH, reasonRule)
    .regex(/\S/, reasonRule),
});
export type ExtensionRequest = z.output<typeof extensionRequest>;

/** Reads and validates the body of `POST /requests`; throws ApiError (4xx) on anything else. */
export function parseCreateRequest(req: ApiRequest): RequestSubmission {
  return validateCreateRequest(readJsonBody(req));
}

/** Validates an already-parsed body (also the `detail` of an EventBridge intake event). */
export function validateCreateRequest(value: unknown): RequestSubmission {
  return validateBody(requestSubmission, value);
}

/** Reads and validates the body of `POST /requests/search`. */
export function parseSubjectSearch(req: ApiRequest): SubjectSearch {
  return validateBody(subjectSearch, readJsonBody(req));
}

/** Reads and validates the body of `POST /requests/{id}/extend`. */
export function parseExtensionRequest(req: ApiRequest): ExtensionRequest {
  return validateBody(extensionRequest, readJsonBody(req));
}

export function validateBody<T>(schema: z.ZodType<T>, value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('INVALID_BODY', 'the request body must be a JSON object');
  }
  const result = validate(schema, value);
  if (!result.ok) throw badRequest('INVALID_BODY', result.problems.join('; '));
  return result.value;
}

/** The body as JSON: media type, size (`limit`), encoding and depth checked first. */
export function readJsonBody(req: ApiRequest, limit: number = MAX_BODY_BYTES): unknown {
  requireJsonContentType(req);
  return parseJson(decodeBody(req, limit));
}

function requireJsonContentType(req: ApiRequest): void {
  const header = headerValue(req.headers, 'content-type');
  const unsupported = () =>
    new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'the request body must be sent as Content-Type: application/json',
    );
  if (header === undefined) throw unsupported();
  const [mediaType, ...params] = header.split(';').map((part) => part.trim());
  if (mediaType?.toLowerCase() !== 'application/json') throw unsupported();
  for (const param of params) {
    if (param === '') continue;
    const [name, rawValue = ''] = param.split('=', 2).map((s) => s.trim());
    if (name?.toLowerCase() !== 'charset') continue;
    const charset = rawValue.replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be UTF-8 encoded JSON');
    }
  }
}

const tooLarge = (limit: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `the request body must be at most ${limit} bytes`);

function decodeBody(req: ApiRequest, limit: number): string {
  const raw = req.body;
  if (raw === null || raw === undefined || raw === '')
    throw badRequest('EMPTY_BODY', 'the request body is empty');
  let bytes: Buffer;
  if (req.isBase64Encoded) {
    // Check before decoding: base64 is 4/3 of the bytes it carries.
    if (raw.length > Math.ceil(limit / 3) * 4 + 4) throw tooLarge(limit);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw))
      throw badRequest('INVALID_BODY', 'the request body is not valid base64');
    bytes = Buffer.from(raw, 'base64');
  } else {
    if (raw.length > limit) throw tooLarge(limit);
    bytes = Buffer.from(raw, 'utf8');
  }
  if (bytes.length > limit) throw tooLarge(limit);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest('INVALID_ENCODING', 'the request body is not valid UTF-8');
  }
}

function parseJson(text: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw badRequest('INVALID_JSON', `the request body nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input; ours does not.
    throw badRequest('INVALID_JSON', 'the request body is not valid JSON');
  }
}

/** Deepest nesting of arrays/objects, ignoring brackets inside strings (malformed text is fine). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
