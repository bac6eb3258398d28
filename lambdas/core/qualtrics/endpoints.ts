/**
 * The Qualtrics endpoint table: the one place that says, for every Qualtrics call this connector
 * makes, its method, path, OAuth scope, rate-limit bucket and published limit, and whether a retry
 * after an ambiguous failure is safe. The client, the simulator, the rate limiter and the scope
 * check all read it; nothing restates it.
 *
 * Limits, and how sure we are of each: docs/qualtrics-api.md#rate-limits. Only the erasure-create
 * limit (20/min) is Qualtrics' own text and the brand-wide one is corroborated; the other
 * per-endpoint limits have a single secondary source, so we run at a fraction of them
 * (QDSR_TARGET_UTILIZATION) and still treat a 429 as possible.
 */

export type HttpMethod = 'GET' | 'POST';

/** A workflow (or check) that uses an endpoint; the scope check derives required scopes from it. */
export type Capability = 'connection' | 'access' | 'deletion';

export interface EndpointSpec {
  readonly method: HttpMethod;
  /** Path template under the API root (`/API/v3`), or under the origin when `underApiRoot` is false. */
  readonly path: string;
  readonly underApiRoot: boolean;
  /** OAuth scope the endpoint needs; null when none (the token endpoint). */
  readonly scope: string | null;
  /** Rate-limit bucket of this endpoint, or null when Qualtrics publishes no per-endpoint limit. */
  readonly bucket: string | null;
  /** Published per-minute limit of the bucket (before our target utilization). */
  readonly limitPerMinute: number | null;
  /** Whether a second attempt after an ambiguous failure is harmless (reads are; creates are not). */
  readonly retrySafe: boolean;
  /** Whether the call counts against the brand-wide limit. */
  readonly brandLimited: boolean;
  readonly usedBy: readonly Capability[];
}

/** Brand-wide limit shared by every API call of a brand (corroborated: docs/qualtrics-api.md#rate-limits). */
export const BRAND_BUCKET = 'brand';
export const BRAND_LIMIT_PER_MINUTE = 3000;

export const ENDPOINTS = {
  token: {
    method: 'POST',
    path: '/oauth2/token',
    underApiRoot: false,
    scope: null,
    bucket: null,
    limitPerMinute: null,
    retrySafe: true,
    brandLimited: false,
    usedBy: ['connection', 'access', 'deletion'],
  },
  whoami: {
    method: 'GET',
    path: '/whoami',
    underApiRoot: true,
    scope: 'read:users',
    bucket: 'whoami',
    limitPerMinute: 3000,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['connection'],
  },
  listDirectories: {
    method: 'GET',
    path: '/directories',
    underApiRoot: true,
    scope: 'read:directories',
    bucket: 'listDirectories',
    limitPerMinute: 3000,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['access', 'deletion'],
  },
  searchDirectoryContacts: {
    method: 'POST',
    path: '/directories/{directoryId}/contacts/search',
    underApiRoot: true,
    scope: 'read:directory_contacts',
    bucket: 'searchDirectoryContacts',
    limitPerMinute: 500,
    // A search is a read even though it is a POST.
    retrySafe: true,
    brandLimited: true,
    usedBy: ['access', 'deletion'],
  },
  getDirectoryContact: {
    method: 'GET',
    path: '/directories/{directoryId}/contacts/{contactId}',
    underApiRoot: true,
    scope: 'read:directory_contacts',
    bucket: 'getDirectoryContact',
    limitPerMinute: 3000,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['access'],
  },
  createCustomerDataRequest: {
    method: 'POST',
    path: '/customer-data-requests',
    underApiRoot: true,
    scope: 'manage:customer_data_requests',
    bucket: 'createCustomerDataRequest',
    limitPerMinute: 100,
    retrySafe: false,
    brandLimited: true,
    usedBy: ['access'],
  },
  getCustomerDataRequest: {
    method: 'GET',
    path: '/customer-data-requests/{customerDataRequestId}',
    underApiRoot: true,
    scope: 'manage:customer_data_requests',
    bucket: 'getCustomerDataRequest',
    limitPerMinute: 100,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['access'],
  },
  downloadCustomerDataFile: {
    method: 'GET',
    path: '/customer-data-requests/{customerDataRequestId}/files/{fileId}',
    underApiRoot: true,
    scope: 'manage:customer_data_requests',
    bucket: 'downloadCustomerDataFile',
    limitPerMinute: 100,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['access'],
  },
  createErasureRequest: {
    method: 'POST',
    path: '/op-erase-personal-data',
    underApiRoot: true,
    scope: 'manage:erasure_requests',
    bucket: 'createErasureRequest',
    limitPerMinute: 20,
    retrySafe: false,
    brandLimited: true,
    usedBy: ['deletion'],
  },
  listErasureRequests: {
    method: 'GET',
    path: '/op-erase-personal-data',
    underApiRoot: true,
    scope: 'manage:erasure_requests',
    bucket: 'listErasureRequests',
    limitPerMinute: 20,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['deletion'],
  },
  getErasureRequest: {
    method: 'GET',
    path: '/op-erase-personal-data/{erasureRequestId}',
    underApiRoot: true,
    scope: 'manage:erasure_requests',
    bucket: 'getErasureRequest',
    limitPerMinute: 20,
    retrySafe: true,
    brandLimited: true,
    usedBy: ['deletion'],
  },
} as const satisfies Record<string, EndpointSpec>;

export type EndpointName = keyof typeof ENDPOINTS;

export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as EndpointName[];

/**
 * For each endpoint that starts a Qualtrics job, the endpoint the job's status is polled through.
 * Qualtrics gives each status endpoint the same limit as its create endpoint, so the rate limiter
 * starts a job only while the status bucket has room for its polls (`RateLimiter.acquire`).
 */
export const JOB_STATUS_ENDPOINT: Readonly<Partial<Record<EndpointName, EndpointName>>> = {
  createCustomerDataRequest: 'getCustomerDataRequest',
  createErasureRequest: 'getErasureRequest',
};

export function endpoint(name: EndpointName): EndpointSpec {
  return ENDPOINTS[name];
}

/** Every rate-limit bucket with its published per-minute limit, the brand bucket first. */
export function rateLimitBuckets(): Array<{
  bucket: string;
  limitPerMinute: number;
  endpoints: EndpointName[];
}> {
  const out = new Map<string, { bucket: string; limitPerMinute: number; endpoints: EndpointName[] }>();
  out.set(BRAND_BUCKET, {
    bucket: BRAND_BUCKET,
    limitPerMinute: BRAND_LIMIT_PER_MINUTE,
    endpoints: ENDPOINT_NAMES.filter((n) => ENDPOINTS[n].brandLimited),
  });
  for (const name of ENDPOINT_NAMES) {
    const spec: EndpointSpec = ENDPOINTS[name];
    if (spec.bucket === null || spec.limitPerMinute === null) continue;
    const entry = out.get(spec.bucket) ?? {
      bucket: spec.bucket,
      limitPerMinute: spec.limitPerMinute,
      endpoints: [],
    };
    entry.endpoints.push(name);
    out.set(spec.bucket, entry);
  }
  return [...out.values()];
}

/** The buckets one call of `name` must be admitted by: its own bucket (if any), then the brand's. */
export function bucketsFor(name: EndpointName): Array<{ bucket: string; limitPerMinute: number }> {
  const spec: EndpointSpec = ENDPOINTS[name];
  const out: Array<{ bucket: string; limitPerMinute: number }> = [];
  if (spec.bucket !== null && spec.limitPerMinute !== null) {
    out.push({ bucket: spec.bucket, limitPerMinute: spec.limitPerMinute });
  }
  if (spec.brandLimited) out.push({ bucket: BRAND_BUCKET, limitPerMinute: BRAND_LIMIT_PER_MINUTE });
  return out;
}

/** OAuth scopes the connector needs, for the given capabilities (all by default), sorted. */
export function requiredScopes(
  capabilities: readonly Capability[] = ['connection', 'access', 'deletion'],
): string[] {
  const scopes = new Set<string>();
  for (const name of ENDPOINT_NAMES) {
    const spec: EndpointSpec = ENDPOINTS[name];
    if (spec.scope && spec.usedBy.some((c) => capabilities.includes(c))) scopes.add(spec.scope);
  }
  return [...scopes].sort();
}

/**
 * Qualtrics grants broader scopes that imply narrower ones (docs/qualtrics-api.md#scopes): `manage:all`
 * covers everything, `manage:X` covers `read:X`.
 */
export function scopeSatisfied(required: string, granted: readonly string[]): boolean {
  if (granted.includes(required) || granted.includes('manage:all')) return true;
  const [verb, resource] = required.split(':');
  if (verb === 'read' && resource) return granted.includes(`manage:${resource}`);
  return false;
}

/** Fills a path template; every parameter is URI-encoded so an id can never add a path segment. */
export function buildPath(name: EndpointName, params: Record<string, string> = {}): string {
  const spec = ENDPOINTS[name];
  return spec.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
    const value = params[key];
    if (value === undefined || value === '') throw new Error(`missing path parameter ${key} for ${name}`);
    return encodeURIComponent(value);
  });
}

const compiled = ENDPOINT_NAMES.map((name) => {
  const spec: EndpointSpec = ENDPOINTS[name];
  const keys: string[] = [];
  const pattern = spec.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { name, spec, keys, regex: new RegExp(`^${pattern}/?$`) };
});

/**
 * Finds the endpoint a request addresses. `path` is relative to the API root for API endpoints
 * (`/whoami`) and to the origin for the others (`/oauth2/token`); pass `underApiRoot` accordingly.
 */
export function matchEndpoint(
  method: string,
  path: string,
  underApiRoot: boolean,
): { name: EndpointName; params: Record<string, string> } | undefined {
  for (const c of compiled) {
    if (c.spec.method !== method || c.spec.underApiRoot !== underApiRoot) continue;
    const m = c.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.keys.forEach((k, i) => {
      params[k] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { name: c.name, params };
  }
  return undefined;
}

export const API_ROOT = '/API/v3';
