/**
 * Hostile and malformed HTTP requests, one table: `hostile-inputs.test.ts` sends each to the local
 * API, and `test/infra/request-model.test.ts` feeds the JSON bodies to API Gateway's model too.
 */

export const CANARY = 'zz-canary-e5';
export const EMAIL = `${CANARY}@example.com`;
const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

export interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A JSON value (sent as JSON), or the exact body text/bytes. */
  json?: unknown;
  body?: string | Buffer;
  /** Body sent with Transfer-Encoding: chunked, in these chunks. */
  chunks?: Buffer[];
  /** The whole request, byte for byte (for what no HTTP client would send). */
  raw?: string;
  status: number;
  code?: string;
}

const body = (fields: Record<string, unknown>) => ({ type: 'access', email: EMAIL, ...fields });
const withEmail = (email: unknown) => ({ type: 'access', email });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const BAD = { status: 400, code: 'INVALID_BODY' } as const;

export const CASES: Case[] = [
  // Emails: missing, wrong types, not one address.
  { name: 'email missing', json: { type: 'access' }, ...BAD },
  { name: 'email empty', json: withEmail(''), ...BAD },
  { name: 'email a number', json: withEmail(42), ...BAD },
  { name: 'email an array', json: withEmail([EMAIL]), ...BAD },
  { name: 'email an object', json: withEmail({ address: EMAIL }), ...BAD },
  { name: 'email null', json: withEmail(null), ...BAD },
  { name: 'two addresses, comma', json: withEmail(`${EMAIL},other@example.com`), ...BAD },
  { name: 'two addresses, space', json: withEmail(`${EMAIL} other@example.com`), ...BAD },
  { name: 'display-name form', json: withEmail(`Zed <${EMAIL}>`), ...BAD },
  { name: 'no @', json: withEmail(`${CANARY}.example.com`), ...BAD },
  { name: 'no domain dot', json: withEmail(`${CANARY}@localhost`), ...BAD },
  { name: 'longer than 254', json: withEmail(`${CANARY}${'a'.repeat(250)}@example.com`), ...BAD },
  { name: 'CRLF header injection in email', json: withEmail(`${EMAIL}\r\nBcc: victim@example.com`), ...BAD },
  { name: 'NUL in email', json: withEmail(`${CANARY}\u0000@example.com`), ...BAD },
  { name: 'leading space', json: withEmail(` ${EMAIL}`), ...BAD },
  // Unicode tricks.
  { name: 'bidi override', json: withEmail(`${CANARY}\u202e@example.com`), ...BAD },
  { name: 'zero-width space', json: withEmail(`${CANARY}\u200b@example.com`), ...BAD },
  { name: 'no-break space', json: withEmail(`${CANARY}\u00a0@example.com`), ...BAD },
  { name: 'line separator', json: withEmail(`${CANARY}\u2028@example.com`), ...BAD },
  { name: 'fullwidth at sign', json: withEmail(`${CANARY}\uff20example.com`), ...BAD },
  { name: 'lone surrogate', json: withEmail(`${CANARY}\ud800@example.com`), ...BAD },
  { name: 'BOM inside', json: withEmail(`${CANARY}\ufeff@example.com`), ...BAD },
  // type and dryRun.
  { name: 'type missing', json: { email: EMAIL }, ...BAD },
  { name: 'type upper case', json: body({ type: 'ACCESS' }), ...BAD },
  { name: 'type unknown', json: body({ type: 'erase' }), ...BAD },
  { name: 'type a number', json: body({ type: 1 }), ...BAD },
  { name: 'dryRun a string', json: body({ type: 'deletion', dryRun: 'true' }), ...BAD },
  { name: 'dryRun a number', json: body({ type: 'deletion', dryRun: 1 }), ...BAD },
  { name: 'dryRun on access', json: body({ dryRun: true }), ...BAD },
  // Extra fields.
  { name: 'unknown field', json: body({ role: 'admin' }), ...BAD },
  {
    name: '__proto__ field',
    body: `{"type":"access","email":"${EMAIL}","__proto__":{"admin":true}}`,
    ...BAD,
  },
  { name: 'constructor field', json: body({ constructor: { prototype: {} } }), ...BAD },
  { name: 'email as a key', json: body({ [EMAIL]: true }), ...BAD },
  { name: 'status smuggled in', json: body({ status: 'COMPLETED', requestId: ID }), ...BAD },
  // Idempotency keys.
  { name: 'idempotencyKey empty', json: body({ idempotencyKey: '' }), ...BAD },
  { name: 'idempotencyKey 129 chars', json: body({ idempotencyKey: 'k'.repeat(129) }), ...BAD },
  { name: 'idempotencyKey with space', json: body({ idempotencyKey: 'a b' }), ...BAD },
  { name: 'idempotencyKey path traversal', json: body({ idempotencyKey: '../../etc/passwd' }), ...BAD },
  { name: 'idempotencyKey CRLF', json: body({ idempotencyKey: 'a\r\nb' }), ...BAD },
  { name: 'idempotencyKey unicode', json: body({ idempotencyKey: 'schlüssel' }), ...BAD },
  { name: 'idempotencyKey a number', json: body({ idempotencyKey: 42 }), ...BAD },
  { name: 'idempotencyKey the email', json: body({ idempotencyKey: EMAIL }), ...BAD },
  // Not a JSON object.
  {
    name: 'form-encoded text as JSON',
    body: `type=access&email=${EMAIL}`,
    status: 400,
    code: 'INVALID_JSON',
  },
  { name: 'truncated JSON', body: `{"type":"access","email":"${EMAIL}"`, status: 400, code: 'INVALID_JSON' },
  { name: 'JSON array', json: [body({})], ...BAD },
  { name: 'JSON null', body: 'null', ...BAD },
  { name: 'JSON string', json: EMAIL, ...BAD },
  {
    name: 'deep JSON',
    body: `{"type":"access","email":"${EMAIL}","x":${nested(20_000)}}`,
    status: 400,
    code: 'INVALID_JSON',
  },
  { name: 'empty body', body: '', status: 400, code: 'EMPTY_BODY' },
  {
    name: 'invalid UTF-8',
    body: Buffer.concat([
      Buffer.from(`{"type":"access","email":"${CANARY}`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('@example.com"}'),
    ]),
    status: 400,
    code: 'INVALID_ENCODING',
  },
  // Oversized bodies: declared, and chunked without a length.
  {
    name: 'oversized body (Content-Length)',
    json: body({ pad: 'x'.repeat(70_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'oversized body (chunked)',
    chunks: Array.from({ length: 6 }, () => Buffer.alloc(16 * 1024, 0x20)),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // Content types.
  {
    name: 'text/plain',
    headers: { 'content-type': 'text/plain' },
    json: body({}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'no content type', headers: {}, json: body({}), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  {
    name: 'form content type',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `type=access&email=${EMAIL}`,
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    body: `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${EMAIL}\r\n--x--`,
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'JSON in UTF-16',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    json: body({}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'JSON patch type',
    headers: { 'content-type': 'application/json-patch+json' },
    json: body({}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  // The ledger's submission fields (the time bounds are the store's: INVALID_INPUT).
  { name: 'jurisdiction unknown', json: body({ jurisdiction: 'lgpd' }), ...BAD },
  { name: 'jurisdiction upper case', json: body({ jurisdiction: 'GDPR' }), ...BAD },
  { name: 'channel unknown', json: body({ channel: 'fax' }), ...BAD },
  { name: 'receivedAt without a zone', json: body({ receivedAt: '2026-01-31T10:00:00' }), ...BAD },
  { name: 'receivedAt a date only', json: body({ receivedAt: '2026-01-31' }), ...BAD },
  { name: 'receivedAt not a time', json: body({ receivedAt: `${CANARY} yesterday` }), ...BAD },
  { name: 'receivedAt a number', json: body({ receivedAt: 1769853600000 }), ...BAD },
  {
    name: 'receivedAt in the future',
    json: body({ receivedAt: new Date(Date.now() + 10 * 60_000).toISOString() }),
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: 'receivedAt over 400 days ago',
    json: body({ receivedAt: new Date(Date.now() - 401 * 86_400_000).toISOString() }),
    status: 400,
    code: 'INVALID_INPUT',
  },
  { name: 'source smuggled in', json: body({ source: 'import' }), ...BAD },
  // The ledger's routes: query strings, the search and extend bodies.
  ...[
    ['unknown parameter', '/requests?sort=asc'],
    ['the email in the URL', `/requests?email=${encodeURIComponent(EMAIL)}`],
    ['an email as a parameter name', `/requests?${encodeURIComponent(EMAIL)}=1`],
    ['a repeated parameter', '/requests?status=FAILED&status=RUNNING'],
    ['a status in lower case', '/requests?status=failed'],
    ['a status holding the email', `/requests?status=${encodeURIComponent(EMAIL)}`],
    ['an unknown jurisdiction', '/requests?jurisdiction=lgpd'],
    ['overdue not a boolean', '/requests?overdue=yes'],
    ['limit 0', '/requests?limit=0'],
    ['limit 501', '/requests?limit=501'],
    ['since not a time', `/requests?since=${CANARY}`],
    ['until before since', '/requests?since=2026-02-01&until=2026-01-01'],
    ['records: a list filter', '/records?status=FAILED'],
    ['records: a bad until', '/records?until=2026-02-30'],
    ['metrics: no year', '/reports/metrics'],
    ['metrics: the email as the year', `/reports/metrics?year=${encodeURIComponent(EMAIL)}`],
    ['metrics: an email as a parameter name', `/reports/metrics?year=2026&${encodeURIComponent(EMAIL)}=1`],
  ].map(([name, path]) => ({
    name: `GET ${name}`,
    method: 'GET',
    path,
    status: 400,
    code: 'INVALID_QUERY',
  })),
  { name: 'search: no email', path: '/requests/search', json: {}, ...BAD },
  {
    name: 'search: two addresses',
    path: '/requests/search',
    json: { email: `${EMAIL},other@example.com` },
    ...BAD,
  },
  {
    name: 'search: email and more',
    path: '/requests/search',
    json: { email: EMAIL, type: 'access' },
    ...BAD,
  },
  {
    name: 'search: not JSON',
    path: '/requests/search',
    headers: { 'content-type': 'text/plain' },
    body: EMAIL,
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'extend: no reason', path: `/requests/${ID}/extend`, json: {}, ...BAD },
  { name: 'extend: empty reason', path: `/requests/${ID}/extend`, json: { reason: ' ' }, ...BAD },
  {
    name: 'extend: reason over 500',
    path: `/requests/${ID}/extend`,
    json: { reason: CANARY.repeat(50) },
    ...BAD,
  },
  {
    name: 'extend: a new due date smuggled in',
    path: `/requests/${ID}/extend`,
    json: { reason: 'x', extendedDueAt: '2027-01-01T00:00:00Z' },
    ...BAD,
  },
  {
    name: 'extend: an unknown request',
    path: `/requests/${ID}/extend`,
    json: { reason: 'complex request' },
    status: 404,
    code: 'REQUEST_NOT_FOUND',
  },
  {
    name: 'extend: a bad id',
    path: `/requests/${encodeURIComponent(EMAIL)}/extend`,
    json: { reason: 'x' },
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  // Methods and routes.
  { name: 'PUT /requests', method: 'PUT', json: body({}), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'DELETE /requests', method: 'DELETE', status: 405, code: 'METHOD_NOT_ALLOWED' },
  {
    name: 'GET /requests/search',
    method: 'GET',
    path: '/requests/search',
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  { name: 'POST /records', path: '/records', json: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
  {
    name: 'GET /requests/{id}/extend',
    method: 'GET',
    path: `/requests/${ID}/extend`,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'DELETE /requests/{id}',
    method: 'DELETE',
    path: `/requests/${ID}`,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'PATCH /health',
    method: 'PATCH',
    path: '/health',
    json: {},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'POST /requests/{id}/export',
    path: `/requests/${ID}/export`,
    json: {},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  { name: 'unknown route', method: 'GET', path: '/admin', status: 404, code: 'NOT_FOUND' },
  { name: 'POST to the operator page', path: '/', json: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
  {
    name: 'POST to a request id',
    path: `/requests/${ID}`,
    json: body({}),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  // Path traversal and bad ids.
  { name: 'dot-dot segments', method: 'GET', path: '/requests/../health', status: 404, code: 'NOT_FOUND' },
  {
    name: 'encoded traversal as id',
    method: 'GET',
    path: '/requests/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  {
    name: 'traversal after an id',
    method: 'GET',
    path: `/requests/${ID}/export/../../x`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'id not a UUID',
    method: 'GET',
    path: '/requests/not-a-uuid',
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  { name: 'id with NUL', method: 'GET', path: `/requests/${ID}%00`, status: 400, code: 'INVALID_REQUEST_ID' },
  { name: 'id badly encoded', method: 'GET', path: '/requests/%ZZ', status: 400, code: 'INVALID_PATH' },
  {
    name: 'email as id',
    method: 'GET',
    path: `/requests/${encodeURIComponent(EMAIL)}`,
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  {
    name: 'retry a bad id',
    path: '/requests/..%2Fhealth/retry',
    json: {},
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  {
    name: 'CRLF response splitting via id',
    method: 'GET',
    path: '/requests/%0d%0aSet-Cookie:%20a=b',
    status: 400,
    code: 'INVALID_REQUEST_ID',
  },
  // What no well-behaved client sends: node's parser refuses it before the handler runs.
  {
    name: 'bare CR in a header (header injection)',
    raw: `POST /requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\rX-Injected: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'request smuggling: Content-Length and chunked',
    raw: `POST /requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'NUL in a header value',
    raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Test: a\u0000b\r\nConnection: close\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'obsolete header folding',
    raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n X-Injected: 1\r\nConnection: close\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'oversized headers',
    raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'space in a header name',
    raw: `GET /health HTTP/1.1\r\nHost: x\r\nX Injected: 1\r\nConnection: close\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
];
