import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { isLocalOnlyRoute, matchRoute, ROUTES, routeResource, SHARED_ROUTES } from './routes';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

function failure(method: string, path: string): [number, string] {
  try {
    matchRoute(method, path);
  } catch (e) {
    if (e instanceof ApiError) return [e.status, e.code];
    throw e;
  }
  throw new Error(`${method} ${path} matched`);
}

describe('matchRoute', () => {
  it('matches the routes of the API', () => {
    expect(matchRoute('POST', '/requests')).toEqual({ name: 'createRequest' });
    expect(matchRoute('GET', `/requests/${ID}`)).toEqual({ name: 'getRequest', requestId: ID });
    expect(matchRoute('GET', `/requests/${ID.toUpperCase()}/export`)).toEqual({
      name: 'getExport',
      requestId: ID,
    });
    expect(matchRoute('POST', `/requests/${ID}/retry`)).toEqual({ name: 'retryRequest', requestId: ID });
    expect(matchRoute('get', '/health/')).toEqual({ name: 'health' });
    expect(matchRoute('GET', '/requests')).toEqual({ name: 'listRequests' });
    expect(matchRoute('POST', '/requests/search')).toEqual({ name: 'searchRequests' });
    expect(matchRoute('POST', `/requests/${ID}/extend`)).toEqual({ name: 'extendRequest', requestId: ID });
    expect(matchRoute('GET', '/records')).toEqual({ name: 'records' });
    expect(matchRoute('GET', '/reports/metrics')).toEqual({ name: 'metrics' });
    expect(matchRoute('GET', `/requests/${ID}/evidence`)).toEqual({ name: 'getEvidence', requestId: ID });
    expect(matchRoute('GET', '/', { local: true })).toEqual({ name: 'operatorPage' });
  });

  it('takes a literal segment before an id: /requests/search is never a request id', () => {
    expect(failure('GET', '/requests/search')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(routeResource(['requests', 'search'])).toBe('/requests/search');
    expect(routeResource(['requests', ID])).toBe('/requests/{id}');
    expect(routeResource(['requests', ID, 'extend'])).toBe('/requests/{id}/extend');
    expect(routeResource(['records', 'x'])).toBeUndefined();
  });

  it('answers 404, 405 or 400, and never resolves a traversal', () => {
    expect(failure('GET', '/nothing')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', '/requests/../health')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', `/requests/${ID}/../../etc/passwd`)).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', 'requests')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', `/requests/..%2F..%2Fetc%2Fpasswd`)).toEqual([400, 'INVALID_REQUEST_ID']);
    expect(failure('GET', `/requests/${ID}%00`)).toEqual([400, 'INVALID_REQUEST_ID']);
    expect(failure('GET', '/requests/%E0%A4%A')).toEqual([400, 'INVALID_PATH']);
    expect(failure('DELETE', `/requests/${ID}`)).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(failure('DELETE', '/requests')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(failure('POST', '/records')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(failure('GET', `/requests/${ID}/extend`)).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('tells which methods a path accepts', () => {
    try {
      matchRoute('PUT', '/health');
    } catch (e) {
      expect((e as ApiError).headers).toEqual({ allow: 'GET' });
      return;
    }
    throw new Error('PUT /health matched');
  });
});

describe('local-only routes', () => {
  it('are the sweep and the operator page, on the local server only: API Gateway is built from the shared ones', () => {
    expect(ROUTES.filter((r) => isLocalOnlyRoute(r.name)).map((r) => r.name)).toEqual([
      'sweep',
      'operatorPage',
    ]);
    expect(ROUTES.filter((r) => !SHARED_ROUTES.includes(r)).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /sweep',
      'GET /',
    ]);
    expect(failure('POST', '/sweep')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', '/')).toEqual([404, 'NOT_FOUND']);
    expect(() => matchRoute('POST', '/', { local: true })).toThrow(/accepts GET only/);
    expect(matchRoute('POST', '/sweep', { local: true })).toEqual({ name: 'sweep' });
    expect(routeResource(['sweep'])).toBeUndefined();
    expect(routeResource(['sweep'], { local: true })).toBe('/sweep');
  });
});
