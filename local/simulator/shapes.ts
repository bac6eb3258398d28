import { randomUUID } from 'node:crypto';
import type { SeedContact, SeedDirectory, SeedUser } from './seed';

/**
 * Wire shapes of the Qualtrics v3 API as the simulator serves them: the envelope, directories and
 * contacts, pagination and errors of docs/qualtrics-api.md. How sure each is, in the words of
 * docs/qualtrics-api.md#confidence (documented, observed, corroborated, single source, unconfirmed),
 * and "our choice" where Qualtrics is silent and the simulator picks.
 * The unconfirmed customer-data API lives in customer-data-shapes.ts, erasures in erasure-shapes.ts.
 *
 * Pagination (our choice; where the token sits is unconfirmed, docs/qualtrics-api.md#pagination):
 * every paged list answers `result.nextPage` = an absolute URL carrying `skipToken=<base64 of the
 * decimal offset>` (the official search example's `NQ==` = 5) and the request's `pageSize`;
 * `nextPage` is `null` on the last page, never an empty trailing page. There is no separate
 * `result.skipToken`; clients that want the token read it from the URL's query.
 */

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  411: 'Length Required',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `"200 - OK"` (observed: docs/qualtrics-api.md#envelope). */
export function httpStatusText(status: number): string {
  return `${status} - ${REASONS[status] ?? 'Unknown'}`;
}

export function successEnvelope(result: unknown): unknown {
  return { result, meta: { httpStatus: httpStatusText(200), requestId: randomUUID() } };
}

export function errorEnvelope(
  status: number,
  errorMessage: string,
  errorCode: string,
  extra: Record<string, unknown> = {},
): unknown {
  return {
    meta: {
      httpStatus: httpStatusText(status),
      error: { errorMessage, errorCode, ...extra },
      requestId: randomUUID(),
    },
  };
}

/** Unknown route, exactly as probed live: no errorCode, no requestId (observed). */
export const UNKNOWN_ROUTE_BODY = {
  meta: { httpStatus: '404 - Not Found', error: { errorMessage: 'The requested resource does not exist.' } },
};

/**
 * Error codes and messages (docs/qualtrics-api.md#errors). Those marked "our choice" were never
 * observed from Qualtrics.
 */
export const ERRORS = {
  // Observed.
  noAuth: { status: 400, code: 'ATP_2', message: 'Expected authorization in headers, but none provided.' },
  // Observed.
  unknownToken: { status: 401, code: 'DCD_7', message: 'Unrecognized X-API-TOKEN.' },
  // Code single source, message our choice.
  expiredToken: { status: 401, code: 'AUTH_6.0', message: 'Access token expired or revoked.' },
  missingScope: {
    // Our choice: the code for a missing OAuth scope was never observed; AuthZ_2.0 is the permission
    // code (single source).
    status: 403,
    code: 'AuthZ_2.0',
    message: 'This user does not have access to this API endpoint.',
  },
  // Code our choice (QVAL_* single source).
  validation: { status: 400, code: 'QVAL_1', message: 'Invalid request.' },
  // Status documented, body our choice.
  searchTooDeep: {
    status: 400,
    code: 'QVAL_1',
    message: 'Cannot page past the first 10000 contacts; use a contact export.',
  },
  // Our choice.
  notFound: { status: 404, code: 'RESOURCE_NOT_FOUND', message: 'The requested resource was not found.' },
  // Our choice.
  rateLimited: { status: 429, code: 'RATE_LIMIT', message: 'Too many requests' },
  // Our choice.
  tooLarge: { status: 413, code: 'QVAL_2', message: 'Request body too large.' },
  // Simulator-only.
  fault: { code: 'SIM_FAULT', message: 'Simulated server error.' },
} as const;

/** `GET /whoami` result (documented and observed: docs/qualtrics-api.md#connection-check). */
export function whoamiResult(user: SeedUser): Record<string, unknown> {
  return {
    brandId: user.brandId,
    userId: user.userId,
    userName: user.userName,
    accountType: user.accountType,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    datacenter: user.datacenter,
  };
}

/**
 * `GET /directories` element (corroborated: docs/qualtrics-api.md#directories-and-contacts).
 * `contactCount` is always sent (a single source says only with includeCount).
 */
export function directoryElement(d: SeedDirectory): Record<string, unknown> {
  return {
    directoryId: d.directoryId,
    name: d.name,
    contactCount: d.contacts.length,
    isDefault: d.isDefault,
    deduplicationCriteria: {
      email: true,
      firstName: false,
      lastName: false,
      externalDataReference: false,
      phone: false,
    },
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function statsOf(c: SeedContact, lastResponseDate: string | number | null): Record<string, string | null> {
  return {
    AvgTimeToRespond: '0',
    EmailCount: String(c.emailCount),
    InviteCount: String(c.inviteCount),
    LastEmailDate: null,
    LastInviteDate: null,
    LastResponseDate: lastResponseDate === null ? null : String(lastResponseDate),
    MonthEmailCount: '0',
    MonthInviteCount: '0',
    ResponseCount: String(c.responseCount),
    ResponseRate: c.inviteCount > 0 ? String(Math.round((100 * c.responseCount) / c.inviteCount)) : '0',
  };
}

/**
 * Search element (corroborated: docs/qualtrics-api.md#directories-and-contacts): `id`, `phoneNumber`,
 * `externalDataReference`, `unsubscribed`, ISO dates. `embeddedData` only with `includeEmbedded` (its
 * default is unconfirmed; we default to true).
 */
export function searchElement(c: SeedContact, includeEmbedded: boolean): Record<string, unknown> {
  return {
    id: c.contactId,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phoneNumber: c.phone,
    externalDataReference: c.extRef,
    language: c.language,
    unsubscribed: c.unsubscribed,
    unsubscribeDate: iso(c.unsubscribeDate),
    creationDate: iso(c.creationDate),
    lastModified: iso(c.lastModified),
    ...(includeEmbedded ? { embeddedData: { ...c.embeddedData } } : {}),
    segmentMembership: {},
    stats: { ...statsOf(c, null), DataIntegrity: '0', Points: '0' },
  };
}

/**
 * Get-contact result (corroborated: docs/qualtrics-api.md#directories-and-contacts): `contactId`,
 * `phone`, `extRef`; dates as epoch ms (our choice).
 */
export function contactResult(c: SeedContact): Record<string, unknown> {
  const at = c.email.lastIndexOf('@');
  const membership: Record<string, unknown> = {};
  for (const m of c.mailingLists) {
    membership[m.mailingListId] = {
      contactLookupId: m.contactLookupId,
      name: m.name,
      unsubscribed: m.unsubscribed,
      unsubscribeDate: m.unsubscribeDate,
      ownerId: m.ownerId,
    };
  }
  return {
    contactId: c.contactId,
    creationDate: c.creationDate,
    lastModified: c.lastModified,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    emailDomain: at >= 0 ? c.email.slice(at + 1).toLowerCase() : null,
    phone: c.phone,
    extRef: c.extRef,
    language: c.language,
    embeddedData: { ...c.embeddedData },
    skipped: false,
    directoryUnsubscribed: c.unsubscribed,
    directoryUnsubscribeDate: c.unsubscribeDate,
    segmentMembership: {},
    stats: statsOf(c, null),
    mailingListMembership: membership,
  };
}

export function encodeSkipToken(offset: number): string {
  return Buffer.from(String(offset), 'utf8').toString('base64');
}

/** The offset a skipToken carries, or undefined when it is not one of ours. */
export function decodeSkipToken(token: string): number | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (!/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}
