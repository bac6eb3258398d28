import { CANARY_EMAIL, CANARY_MARKER } from '../support/canaries';

/**
 * One table of hostile and malformed input, shared by every channel a request can come in by: the
 * HTTP API, EventBridge intake events and the CLI (`bad-input.test.ts`). Each value carries the
 * canary marker where it can, so an error message or log line that echoes it is caught.
 *
 * `channels` says which channels a row goes through: emails through the JSON channels, and a
 * chosen few also through the CLI (each CLI case is a child process; a NUL byte cannot be an
 * argument, an idempotency key or a JSON type has no CLI form); ids through HTTP and the CLI.
 */

export type Channel = 'http' | 'event' | 'cli';

export interface Hostile<T = unknown> {
  name: string;
  value: T;
  channels?: readonly Channel[];
}

const M = CANARY_MARKER;
const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const JSON_ONLY: readonly Channel[] = ['http', 'event'];
/** Also tried on the command line (a child process each, so a chosen few). */
const ALL: readonly Channel[] = ['http', 'event', 'cli'];

/** Values of the `email` field (HTTP body, event detail) or the `<email>` argument (CLI). */
export const HOSTILE_EMAILS: Hostile[] = [
  { name: 'empty', value: '', channels: ALL },
  { name: 'a number', value: 42, channels: JSON_ONLY },
  { name: 'an array of addresses', value: [CANARY_EMAIL], channels: JSON_ONLY },
  { name: 'an object', value: { address: CANARY_EMAIL }, channels: JSON_ONLY },
  { name: 'null', value: null, channels: JSON_ONLY },
  { name: 'no @', value: `${M}.example.org`, channels: JSON_ONLY },
  { name: 'two @', value: `${M}@@example.org`, channels: JSON_ONLY },
  { name: 'no dot in the domain', value: `${M}@localhost`, channels: JSON_ONLY },
  { name: 'two addresses, comma', value: `${CANARY_EMAIL},other@example.org`, channels: JSON_ONLY },
  { name: 'display-name form', value: `Zq <${CANARY_EMAIL}>`, channels: ALL },
  { name: 'quoted local part with a space', value: `"${M} x"@example.org`, channels: JSON_ONLY },
  { name: 'longer than 254', value: `${M}${'a'.repeat(250)}@example.org`, channels: ALL },
  { name: 'CRLF header injection', value: `${CANARY_EMAIL}\r\nBcc: victim@example.org`, channels: ALL },
  { name: 'NUL byte', value: `${M}\u0000@example.org`, channels: JSON_ONLY },
  { name: 'tab', value: `${M}\t@example.org`, channels: JSON_ONLY },
  { name: 'leading space', value: ` ${CANARY_EMAIL}`, channels: JSON_ONLY },
  { name: 'shell command substitution', value: `$(touch /tmp/${M})@example.org`, channels: ALL },
  { name: 'SQL injection', value: `${M}'; DROP TABLE requests;--@example.org`, channels: JSON_ONLY },
  { name: 'bidi override (unicode)', value: `${M}\u202e@example.org`, channels: ALL },
  { name: 'zero-width space (unicode)', value: `${M}\u200b@example.org`, channels: ALL },
  { name: 'zero-width joiner (unicode)', value: `${M}\u200d@example.org`, channels: JSON_ONLY },
  { name: 'no-break space (unicode)', value: `${M}\u00a0@example.org`, channels: JSON_ONLY },
  { name: 'line separator (unicode)', value: `${M}\u2028@example.org`, channels: JSON_ONLY },
  { name: 'fullwidth at sign (unicode)', value: `${M}\uff20example.org`, channels: ALL },
  { name: 'byte order mark (unicode)', value: `\ufeff${CANARY_EMAIL}`, channels: JSON_ONLY },
  { name: 'lone surrogate (unicode)', value: `${M}\ud800@example.org`, channels: JSON_ONLY },
  { name: 'an option in disguise', value: `--${M}@example.org`, channels: ['cli'] },
];

/** Request ids: the `{id}` of `/requests/{id}` and `/requests/{id}/retry` (URL-encoded), `status <id>` and `retry <id>`. */
export const HOSTILE_IDS: Hostile<string>[] = [
  { name: 'not a UUID', value: `not-a-uuid-${M}`, channels: ['http'] },
  { name: 'path traversal', value: '../../etc/passwd', channels: ['http', 'cli'] },
  { name: 'windows path traversal', value: '..\\..\\windows\\win.ini', channels: ['http'] },
  { name: 'traversal after a UUID', value: `${UUID}/../../${M}`, channels: ['http'] },
  { name: 'double-encoded traversal', value: '%2e%2e%2f%2e%2e%2f', channels: ['http'] },
  { name: 'CRLF response splitting', value: `${UUID}\r\nSet-Cookie: ${M}=1`, channels: ['http', 'cli'] },
  { name: 'NUL after a UUID', value: `${UUID}\u0000`, channels: ['http'] },
  { name: 'the email as an id', value: CANARY_EMAIL, channels: ['http', 'cli'] },
  { name: 'UUID with a trailing space', value: `${UUID} `, channels: ['http'] },
  { name: 'SQL injection', value: `' OR '1'='1`, channels: ['http'] },
  { name: 'unknown UUID', value: '00000000-0000-4000-8000-000000000000', channels: ['http', 'cli'] },
];

const DAY = 86_400_000;

/**
 * The ledger's submission fields (HTTP body, event detail; two as `--jurisdiction` and `--channel`
 * on the CLI, whose time bounds test/cli/ledger-cli.test.ts tries). Built when called: the time
 * bounds move with the clock.
 */
export function hostileLedgerFields(now = Date.now()): Hostile<Record<string, unknown>>[] {
  return [
    { name: 'jurisdiction unknown', value: { jurisdiction: `lgpd-${M}` }, channels: ALL },
    { name: 'jurisdiction upper case', value: { jurisdiction: 'GDPR' }, channels: JSON_ONLY },
    { name: 'jurisdiction an array', value: { jurisdiction: ['gdpr'] }, channels: JSON_ONLY },
    { name: 'channel unknown', value: { channel: `fax-${M}` }, channels: ALL },
    { name: 'channel the email', value: { channel: CANARY_EMAIL }, channels: JSON_ONLY },
    { name: 'receivedAt without a zone', value: { receivedAt: '2026-01-31T10:00:00' }, channels: JSON_ONLY },
    {
      name: 'receivedAt an impossible date',
      value: { receivedAt: '2026-02-30T10:00:00Z' },
      channels: JSON_ONLY,
    },
    {
      name: 'receivedAt 10 minutes ahead',
      value: { receivedAt: new Date(now + 10 * 60_000).toISOString() },
      channels: JSON_ONLY,
    },
    {
      name: 'receivedAt 401 days back',
      value: { receivedAt: new Date(now - 401 * DAY).toISOString() },
      channels: JSON_ONLY,
    },
    { name: 'receivedAt the email', value: { receivedAt: CANARY_EMAIL }, channels: JSON_ONLY },
    { name: 'receivedAt a number', value: { receivedAt: now }, channels: JSON_ONLY },
    { name: 'source smuggled in', value: { source: 'import' }, channels: JSON_ONLY },
  ];
}

/** Query strings of `GET /requests` and `GET /records` (each value carries the marker where it can). */
export const HOSTILE_QUERIES: Hostile<string>[] = [
  { name: 'the email as a filter', value: `/requests?email=${encodeURIComponent(CANARY_EMAIL)}` },
  { name: 'the email as a parameter name', value: `/requests?${encodeURIComponent(CANARY_EMAIL)}=1` },
  { name: 'the email as a status', value: `/requests?status=${encodeURIComponent(CANARY_EMAIL)}` },
  { name: 'an unknown parameter', value: `/requests?${M}=1` },
  { name: 'a repeated parameter', value: `/requests?type=access&type=${M}` },
  {
    name: 'SQL injection in a filter',
    value: `/requests?jurisdiction=${encodeURIComponent(`' OR '1'='1 ${M}`)}`,
  },
  { name: 'overdue not a boolean', value: `/requests?overdue=${M}` },
  { name: 'limit huge', value: '/requests?limit=99999999999999999999' },
  { name: 'limit negative', value: '/requests?limit=-1' },
  { name: 'since not a time', value: `/requests?since=${M}` },
  {
    name: 'a cursor holding the email',
    value: `/requests?cursor=${Buffer.from(CANARY_EMAIL).toString('base64url')}`,
  },
  {
    name: 'a cursor with a forged key',
    value: `/requests?cursor=${Buffer.from(JSON.stringify({ v: 1, i: 'byReceivedAt', k: { ledgerPartition: 'request', receivedAtKey: CANARY_EMAIL } })).toString('base64url')}`,
  },
  { name: 'a cursor too long', value: `/requests?cursor=${'A'.repeat(5000)}` },
  { name: 'records: the email', value: `/records?email=${encodeURIComponent(CANARY_EMAIL)}` },
  { name: 'records: until the email', value: `/records?until=${encodeURIComponent(CANARY_EMAIL)}` },
  { name: 'records: a list filter', value: '/records?status=FAILED' },
].map((q) => ({ ...q, channels: ['http'] }));

/** `reason` of `POST /requests/{id}/extend` (and `extend --reason`). */
export const HOSTILE_REASONS: Hostile[] = [
  { name: 'empty', value: '', channels: ['http'] },
  { name: 'only spaces', value: '   ', channels: ['http'] },
  { name: 'over 500 characters', value: `${M} `.repeat(100), channels: ['http', 'cli'] },
  { name: 'a number', value: 42, channels: ['http'] },
  { name: 'null', value: null, channels: ['http'] },
  { name: 'an object', value: { text: CANARY_EMAIL }, channels: ['http'] },
];

/** Values of `idempotencyKey` (HTTP body, event detail). */
export const HOSTILE_KEYS: Hostile[] = [
  { name: 'empty', value: '' },
  { name: '129 characters', value: 'k'.repeat(129) },
  { name: 'space', value: `a ${M}` },
  { name: 'path traversal', value: '../../etc/passwd' },
  { name: 'CRLF', value: `a\r\n${M}` },
  { name: 'unicode', value: `schlüssel-${M}` },
  { name: 'a number', value: 42 },
  { name: 'null', value: null },
  { name: 'an array', value: ['k'] },
  { name: 'the email', value: CANARY_EMAIL },
  { name: 'HTML', value: `<script>${M}</script>` },
].map((k) => ({ ...k, channels: JSON_ONLY }));

const nested = (depth: number): unknown => {
  let v: unknown = CANARY_EMAIL;
  for (let i = 0; i < depth; i++) v = { v };
  return v;
};

/** Whole bodies / event details: wrong types, extra and missing fields, deep and oversized JSON. */
export const HOSTILE_BODIES: Hostile[] = [
  { name: 'type missing', value: { email: CANARY_EMAIL } },
  { name: 'email missing', value: { type: 'access' } },
  { name: 'empty object', value: {} },
  { name: 'type in upper case', value: { type: 'ACCESS', email: CANARY_EMAIL } },
  { name: 'type unknown', value: { type: 'erase', email: CANARY_EMAIL } },
  { name: 'type a number', value: { type: 1, email: CANARY_EMAIL } },
  { name: 'dryRun a string', value: { type: 'deletion', email: CANARY_EMAIL, dryRun: 'true' } },
  { name: 'dryRun on access', value: { type: 'access', email: CANARY_EMAIL, dryRun: true } },
  { name: 'unknown field', value: { type: 'access', email: CANARY_EMAIL, role: 'admin' } },
  {
    name: '__proto__ field',
    value: JSON.parse(`{"type":"access","email":"${CANARY_EMAIL}","__proto__":{"admin":true}}`),
  },
  { name: 'status smuggled in', value: { type: 'access', email: CANARY_EMAIL, status: 'COMPLETED' } },
  { name: 'requestId smuggled in', value: { type: 'access', email: CANARY_EMAIL, requestId: UUID } },
  { name: 'the email as a key', value: { type: 'access', email: CANARY_EMAIL, [CANARY_EMAIL]: true } },
  { name: 'an array', value: [{ type: 'access', email: CANARY_EMAIL }] },
  { name: 'null', value: null },
  { name: 'a string', value: CANARY_EMAIL },
  { name: 'deep JSON (200 levels)', value: { type: 'access', email: CANARY_EMAIL, x: nested(200) } },
  { name: 'email deep in JSON', value: { type: 'access', email: nested(200) } },
  { name: 'oversized (70 KB)', value: { type: 'access', email: CANARY_EMAIL, pad: 'x'.repeat(70_000) } },
].map((b) => ({ ...b, channels: JSON_ONLY }));

export const forChannel = <T>(rows: Hostile<T>[], channel: Channel): Hostile<T>[] =>
  rows.filter((r) => !r.channels || r.channels.includes(channel));
