import { describe, expect, it } from 'vitest';
import {
  bucketsFor,
  buildPath,
  ENDPOINT_NAMES,
  ENDPOINTS,
  matchEndpoint,
  rateLimitBuckets,
  requiredScopes,
  scopeSatisfied,
} from './endpoints';

describe('endpoint table', () => {
  it('round-trips every path template through buildPath and matchEndpoint', () => {
    for (const name of ENDPOINT_NAMES) {
      const spec = ENDPOINTS[name];
      const params = Object.fromEntries(
        [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], `X_${m[1]}`]),
      );
      const path = buildPath(name, params as Record<string, string>);
      expect(matchEndpoint(spec.method, path, spec.underApiRoot)).toEqual({ name, params });
    }
  });

  it('encodes parameters so an id cannot add a path segment', () => {
    const path = buildPath('getDirectoryContact', { directoryId: 'POOL_1', contactId: '../../whoami' });
    expect(path).toBe('/directories/POOL_1/contacts/..%2F..%2Fwhoami');
    expect(matchEndpoint('GET', path, true)?.params.contactId).toBe('../../whoami');
    expect(() => buildPath('getErasureRequest', {})).toThrow(/erasureRequestId/);
  });

  it('does not match unknown routes or methods', () => {
    expect(matchEndpoint('GET', '/contacts', true)).toBeUndefined();
    expect(matchEndpoint('DELETE', '/whoami', true)).toBeUndefined();
    expect(matchEndpoint('POST', '/oauth2/token', true)).toBeUndefined();
  });

  it('admits each limited call through its own bucket and the brand bucket', () => {
    expect(bucketsFor('createErasureRequest')).toEqual([
      { bucket: 'createErasureRequest', limitPerMinute: 20 },
      { bucket: 'brand', limitPerMinute: 3000 },
    ]);
    expect(bucketsFor('token')).toEqual([]);
    const buckets = rateLimitBuckets();
    expect(buckets[0]).toMatchObject({ bucket: 'brand', limitPerMinute: 3000 });
    expect(buckets.find((b) => b.bucket === 'searchDirectoryContacts')?.limitPerMinute).toBe(500);
  });

  it('derives the required scopes from the endpoints each capability uses', () => {
    expect(requiredScopes(['deletion'])).toEqual([
      'manage:erasure_requests',
      'read:directories',
      'read:directory_contacts',
    ]);
    expect(requiredScopes()).toEqual([
      'manage:customer_data_requests',
      'manage:erasure_requests',
      'read:directories',
      'read:directory_contacts',
      'read:users',
    ]);
  });

  it('treats manage:X as covering read:X and manage:all as covering everything', () => {
    expect(scopeSatisfied('read:directories', ['manage:directories'])).toBe(true);
    expect(scopeSatisfied('manage:erasure_requests', ['manage:all'])).toBe(true);
    expect(scopeSatisfied('manage:erasure_requests', ['read:erasure_requests'])).toBe(false);
    expect(scopeSatisfied('read:users', [])).toBe(false);
  });

  it('marks creates as unsafe to retry and reads as safe', () => {
    expect(ENDPOINTS.createCustomerDataRequest.retrySafe).toBe(false);
    expect(ENDPOINTS.createErasureRequest.retrySafe).toBe(false);
    expect(ENDPOINTS.searchDirectoryContacts.retrySafe).toBe(true);
  });
});
