import { normalizeRequestId } from '../request-contract';
import { ApiError, badRequest } from './errors';

/**
 * The routes of BRIEF §4 (plus the retry of a failed request), matched on the path the client
 * sent, segment by segment. Paths are never normalized: `..` is just a segment no route has, and
 * an id is a UUID or nothing, so no path can reach anything but these routes.
 */

export type RouteName = 'createRequest' | 'getRequest' | 'getExport' | 'retryRequest' | 'health';

export interface MatchedRoute {
  name: RouteName;
  /** The request id of `/requests/{id}…` routes, lower-cased. */
  requestId?: string;
}

interface RouteSpec {
  name: RouteName;
  method: string;
  /** Segments; `{id}` is the request id. */
  segments: readonly string[];
}

const ROUTES: readonly RouteSpec[] = [
  { name: 'createRequest', method: 'POST', segments: ['requests'] },
  { name: 'getRequest', method: 'GET', segments: ['requests', '{id}'] },
  { name: 'getExport', method: 'GET', segments: ['requests', '{id}', 'export'] },
  { name: 'retryRequest', method: 'POST', segments: ['requests', '{id}', 'retry'] },
  { name: 'health', method: 'GET', segments: ['health'] },
];

const MAX_PATH_LENGTH = 2048;

/** The route for `method path`; throws 404 (no such path), 405 (path without that method) or 400 (bad id). */
export function matchRoute(method: string, path: string): MatchedRoute {
  const notFound = new ApiError(
    404,
    'NOT_FOUND',
    'no such route (see the API reference: /requests, /health)',
  );
  if (path.length > MAX_PATH_LENGTH || !path.startsWith('/')) throw notFound;
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  let segments: string[];
  try {
    segments = trimmed.slice(1).split('/').map(decodeURIComponent);
  } catch {
    throw badRequest('INVALID_PATH', 'the path is not validly percent-encoded');
  }
  const candidates = ROUTES.filter((r) => sameShape(r.segments, segments));
  if (candidates.length === 0) throw notFound;
  const route = candidates.find((r) => r.method === method.toUpperCase());
  if (!route) {
    const allow = candidates.map((r) => r.method).join(', ');
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `this route accepts ${allow} only`, { allow });
  }
  const idIndex = route.segments.indexOf('{id}');
  if (idIndex < 0) return { name: route.name };
  const requestId = normalizeRequestId(segments[idIndex]);
  if (!requestId) throw badRequest('INVALID_REQUEST_ID', 'the request id in the path must be a UUID');
  return { name: route.name, requestId };
}

function sameShape(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length !== segments.length) return false;
  return pattern.every((p, i) => p === '{id}' || p === segments[i]);
}
