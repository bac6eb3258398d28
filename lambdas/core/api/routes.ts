import { normalizeRequestId } from '../request-contract';
import { ApiError, badRequest } from './errors';
import { MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES } from './http';

/**
 * The routes of the HTTP API (README "HTTP API"), defined once: the handler matches requests
 * against them, API Gateway's resources and methods are made from them (infra/constructs/api.ts),
 * and the local server names the resource a path hits with them (local/api/server.ts). A route
 * marked `localOnly` exists on the local server alone (`serve`, or a CLI run that owns the data
 * dir): API Gateway's API is built from `SHARED_ROUTES`, and the handler matches a local-only route
 * only when it serves locally. Requests are matched on the path the client sent, segment by
 * segment. Paths are never normalized: `..` is just a segment no route has, and an id is a UUID or
 * nothing, so no path can reach anything but these routes.
 */

export const ROUTES = [
  { name: 'createRequest', method: 'POST', path: '/requests' },
  { name: 'listRequests', method: 'GET', path: '/requests' },
  { name: 'searchRequests', method: 'POST', path: '/requests/search' },
  { name: 'submitBatch', method: 'POST', path: '/requests/batch', maxBodyBytes: MAX_BATCH_BODY_BYTES },
  { name: 'retryFailed', method: 'POST', path: '/requests/retry' },
  { name: 'getRequest', method: 'GET', path: '/requests/{id}' },
  { name: 'getExport', method: 'GET', path: '/requests/{id}/export' },
  { name: 'getEvidence', method: 'GET', path: '/requests/{id}/evidence' },
  { name: 'retryRequest', method: 'POST', path: '/requests/{id}/retry' },
  { name: 'extendRequest', method: 'POST', path: '/requests/{id}/extend' },
  { name: 'records', method: 'GET', path: '/records' },
  { name: 'metrics', method: 'GET', path: '/reports/metrics' },
  { name: 'health', method: 'GET', path: '/health' },
  // The sweep on demand (README "The sweep"): the CLI hands `qualtrics-dsr sweep` to the data dir's owner.
  { name: 'sweep', method: 'POST', path: '/sweep', localOnly: true },
  // The operator page (README "The operator page"): an HTML page for a person on this machine.
  { name: 'operatorPage', method: 'GET', path: '/', localOnly: true },
] as const;

export type Route = (typeof ROUTES)[number];
export type RouteName = Route['name'];
export type LocalOnlyRoute = Extract<Route, { localOnly: true }>;
export type LocalOnlyRouteName = LocalOnlyRoute['name'];

export function isLocalOnlyRoute(name: RouteName): name is LocalOnlyRouteName {
  return ROUTES.some((r) => r.name === name && 'localOnly' in r && r.localOnly);
}

/** The routes API Gateway serves (and builds its resources from): every route but the local-only ones. */
export const SHARED_ROUTES = ROUTES.filter((r) => !isLocalOnlyRoute(r.name));

export interface MatchOptions {
  /** Whether the local-only routes exist (the local server); default false, as in API Gateway. */
  local?: boolean;
}

export interface MatchedRoute {
  name: RouteName;
  /** The request id of `/requests/{id}…` routes, lower-cased. */
  requestId?: string;
}

/** The largest body `method path` accepts: MAX_BODY_BYTES, or its route's own limit. */
export function maxBodyBytesOf(method: string, path: string): number {
  let segments: string[];
  try {
    segments = path.split('?')[0]!.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return MAX_BODY_BYTES;
  }
  const resource = routeResource(segments);
  const route = ROUTES.find((r) => r.path === resource && r.method === method.toUpperCase());
  return route && 'maxBodyBytes' in route ? route.maxBodyBytes : MAX_BODY_BYTES;
}

/** The `{id}` segment of a route's path. */
const ID = '{id}';
const segmentsOf = (path: string): readonly string[] => path.slice(1).split('/');
const MAX_PATH_LENGTH = 2048;

/**
 * The route resource `segments` (decoded) hit: a literal segment wins over `{id}` (so
 * `/requests/search` is never taken for an id), as API Gateway resolves its resources.
 */
export function routeResource(segments: readonly string[], options: MatchOptions = {}): string | undefined {
  const shaped = routesFor(options).filter((r) => sameShape(segmentsOf(r.path), segments));
  const literal = shaped.filter((r) => !r.path.includes(ID));
  return (literal[0] ?? shaped[0])?.path;
}

/** The route for `method path`; throws 404 (no such path), 405 (path without that method) or 400 (bad id). */
export function matchRoute(method: string, path: string, options: MatchOptions = {}): MatchedRoute {
  const notFound = new ApiError(
    404,
    'NOT_FOUND',
    'no such route (see the API reference: /requests, /records, /health)',
  );
  if (path.length > MAX_PATH_LENGTH || !path.startsWith('/')) throw notFound;
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  let segments: string[];
  try {
    segments = trimmed.slice(1).split('/').map(decodeURIComponent);
  } catch {
    throw badRequest('INVALID_PATH', 'the path is not validly percent-encoded');
  }
  const resource = routeResource(segments, options);
  if (resource === undefined) throw notFound;
  const candidates = routesFor(options).filter((r) => r.path === resource);
  const route = candidates.find((r) => r.method === method.toUpperCase());
  if (!route) {
    const allow = candidates.map((r) => r.method).join(', ');
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `this route accepts ${allow} only`, { allow });
  }
  const idIndex = segmentsOf(route.path).indexOf(ID);
  if (idIndex < 0) return { name: route.name };
  const requestId = normalizeRequestId(segments[idIndex]);
  if (!requestId) throw badRequest('INVALID_REQUEST_ID', 'the request id in the path must be a UUID');
  return { name: route.name, requestId };
}

function routesFor(options: MatchOptions): readonly Route[] {
  return options.local ? ROUTES : SHARED_ROUTES;
}

function sameShape(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length !== segments.length) return false;
  return pattern.every((p, i) => p === ID || p === segments[i]);
}
