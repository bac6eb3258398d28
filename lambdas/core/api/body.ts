import { type RequestSubmission, requestSubmission, validate } from '../request-contract';
import { ApiError, badRequest } from './errors';
import { type ApiRequest, headerValue, MAX_BODY_BYTES } from './http';

/**
 * `POST /requests` body: `application/json`, at most 64 KiB, one JSON object with exactly the
 * fields of a request submission (../request-contract.ts). Every message names the field and the
 * rule, never the value: a rejected body may hold an email or an injection attempt.
 */

/** Deeper than this is not a body anyone means to send us; a clear 400 beats a confusing one. */
export const MAX_JSON_DEPTH = 32;

/** Reads and validates the body of `POST /requests`; throws ApiError (4xx) on anything else. */
export function parseCreateRequest(req: ApiRequest): RequestSubmission {
  requireJsonContentType(req);
  const text = decodeBody(req);
  const value = parseJson(text);
  return validateCreateRequest(value);
}

/** Validates an already-parsed body (also the `detail` of an EventBridge intake event). */
export function validateCreateRequest(value: unknown): RequestSubmission {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('INVALID_BODY', 'the request body must be a JSON object');
  }
  const result = validate(requestSubmission, value);
  if (!result.ok) throw badRequest('INVALID_BODY', result.problems.join('; '));
  return result.value;
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

const tooLarge = () =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `the request body must be at most ${MAX_BODY_BYTES} bytes`);

function decodeBody(req: ApiRequest): string {
  const raw = req.body;
  if (raw === null || raw === undefined || raw === '')
    throw badRequest('EMPTY_BODY', 'the request body is empty');
  let bytes: Buffer;
  if (req.isBase64Encoded) {
    // Check before decoding: base64 is 4/3 of the bytes it carries.
    if (raw.length > Math.ceil(MAX_BODY_BYTES / 3) * 4 + 4) throw tooLarge();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw))
      throw badRequest('INVALID_BODY', 'the request body is not valid base64');
    bytes = Buffer.from(raw, 'base64');
  } else {
    if (raw.length > MAX_BODY_BYTES) throw tooLarge();
    bytes = Buffer.from(raw, 'utf8');
  }
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
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
