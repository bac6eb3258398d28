import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { matchRoute } from './routes';

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
  });

  it('answers 404, 405 or 400, and never resolves a traversal', () => {
    expect(failure('GET', '/')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', '/requests/../health')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', `/requests/${ID}/../../etc/passwd`)).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', 'requests')).toEqual([404, 'NOT_FOUND']);
    expect(failure('GET', `/requests/..%2F..%2Fetc%2Fpasswd`)).toEqual([400, 'INVALID_REQUEST_ID']);
    expect(failure('GET', `/requests/${ID}%00`)).toEqual([400, 'INVALID_REQUEST_ID']);
    expect(failure('GET', '/requests/%E0%A4%A')).toEqual([400, 'INVALID_PATH']);
    expect(failure('DELETE', `/requests/${ID}`)).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(failure('GET', '/requests')).toEqual([405, 'METHOD_NOT_ALLOWED']);
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
