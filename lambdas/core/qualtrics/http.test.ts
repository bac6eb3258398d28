import { type AddressInfo, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorNames, QualtricsError } from '../errors';
import {
  apiUrl,
  classifyFailure,
  errorFromResponse,
  followableUrl,
  requestNotSent,
  retryAfterOf,
  sendJson,
} from './http';

describe('classifyFailure', () => {
  const cases: Array<[number, string | undefined, string | undefined, string]> = [
    [429, undefined, undefined, ErrorNames.RateLimited],
    [429, 'AUTH_6.0', undefined, ErrorNames.RateLimited],
    [400, 'ATP_2', undefined, ErrorNames.Auth],
    [401, 'DCD_7', undefined, ErrorNames.Auth],
    [401, 'AUTH_6.0', undefined, ErrorNames.Auth],
    [401, undefined, undefined, ErrorNames.Auth],
    [403, 'AuthZ_2.0', undefined, ErrorNames.MissingScope],
    [403, undefined, undefined, ErrorNames.MissingScope],
    [404, undefined, undefined, ErrorNames.NotFound],
    [400, 'QVAL_1', undefined, ErrorNames.Validation],
    [400, undefined, undefined, ErrorNames.Validation],
    [409, undefined, undefined, ErrorNames.Validation],
    [413, undefined, undefined, ErrorNames.Validation],
    [415, undefined, undefined, ErrorNames.Validation],
    [408, undefined, undefined, ErrorNames.Transient],
    [500, 'SOMETHING', undefined, ErrorNames.Transient],
    [503, undefined, undefined, ErrorNames.Transient],
    [504, undefined, undefined, ErrorNames.Transient],
    [302, undefined, undefined, ErrorNames.UnexpectedResponse],
    // RFC 6749 token endpoint errors
    [401, undefined, 'invalid_client', ErrorNames.Auth],
    [400, undefined, 'invalid_grant', ErrorNames.Auth],
    [400, undefined, 'invalid_scope', ErrorNames.MissingScope],
    [400, undefined, 'unsupported_grant_type', ErrorNames.Validation],
    [503, undefined, 'temporarily_unavailable', ErrorNames.Transient],
  ];
  it.each(cases)('HTTP %s, errorCode %s, oauth error %s → %s', (status, code, oauth, expected) => {
    expect(classifyFailure(status, code, oauth)).toBe(expected);
  });

  it('builds an error that keeps codes and trace id but never the Qualtrics error message', () => {
    const err = errorFromResponse(
      { endpoint: 'searchDirectoryContacts', httpStatus: 400, qualtricsRequestId: 'trace-1' },
      { meta: { error: { errorCode: 'QVAL_9', errorMessage: 'bad value jane.doe@example.com' } } },
    );
    expect(err.name).toBe(ErrorNames.Validation);
    expect(err).toMatchObject({ httpStatus: 400, errorCode: 'QVAL_9', qualtricsRequestId: 'trace-1' });
    expect(err.message).toContain('searchDirectoryContacts');
    expect(err.message).toContain('QVAL_9');
    expect(err.message).not.toContain('jane.doe');
  });
});

describe('retryAfterOf', () => {
  const now = () => Date.parse('2026-01-01T00:00:00Z');
  const h = (v?: string) => new Headers(v === undefined ? {} : { 'retry-after': v });

  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterOf(h('7'), undefined, now)).toBe(7);
    expect(retryAfterOf(h('0'), undefined, now)).toBe(0);
    expect(retryAfterOf(h('Thu, 01 Jan 2026 00:00:30 GMT'), undefined, now)).toBe(30);
    expect(retryAfterOf(h('Wed, 31 Dec 2025 23:00:00 GMT'), undefined, now)).toBe(0);
  });

  it('falls back to meta.error.retryAfter, and is undefined when neither says', () => {
    expect(retryAfterOf(h(), { meta: { error: { retryAfter: 12 } } }, now)).toBe(12);
    expect(retryAfterOf(h(), { meta: { error: { retryAfter: '3' } } }, now)).toBe(3);
    expect(retryAfterOf(h('soon'), { meta: { error: {} } }, now)).toBeUndefined();
    expect(retryAfterOf(h(), undefined, now)).toBeUndefined();
    expect(retryAfterOf(h('5'), { meta: { error: { retryAfter: 12 } } }, now)).toBe(5);
  });
});

describe('URLs', () => {
  const origin = 'https://iad1.qualtrics.com';

  it('builds API URLs with encoded query values', () => {
    expect(apiUrl(origin, '/directories', { pageSize: 100, skipToken: 'a+b/c=' })).toBe(
      'https://iad1.qualtrics.com/API/v3/directories?pageSize=100&skipToken=a%2Bb%2Fc%3D',
    );
  });

  it('follows a nextPage URL on our origin verbatim', () => {
    const next = 'https://iad1.qualtrics.com/API/v3/directories?pageSize=2&skipToken=abc%3D';
    expect(followableUrl(origin, next, 'listDirectories', 'GET')).toBe(next);
    expect(followableUrl(origin, '/API/v3/directories?skipToken=x', 'listDirectories', 'GET')).toBe(
      'https://iad1.qualtrics.com/API/v3/directories?skipToken=x',
    );
  });

  it('re-bases a nextPage URL on another host onto our origin, so the token stays with us', () => {
    expect(
      followableUrl(origin, 'http://evil.example/API/v3/directories?skipToken=x', 'listDirectories', 'GET'),
    ).toBe('https://iad1.qualtrics.com/API/v3/directories?skipToken=x');
  });

  it('refuses URLs that address another endpoint or another directory', () => {
    expect(followableUrl(origin, `${origin}/API/v3/whoami`, 'listDirectories', 'GET')).toBeUndefined();
    expect(followableUrl(origin, `${origin}/oauth2/token`, 'listDirectories', 'GET')).toBeUndefined();
    const search = `${origin}/API/v3/directories/POOL_2/contacts/search?skipToken=x`;
    expect(
      followableUrl(origin, search, 'searchDirectoryContacts', 'POST', { directoryId: 'POOL_1' }),
    ).toBeUndefined();
    expect(followableUrl(origin, search, 'searchDirectoryContacts', 'POST', { directoryId: 'POOL_2' })).toBe(
      search,
    );
    expect(
      followableUrl(origin, 'https://u:p@iad1.qualtrics.com/API/v3/directories', 'listDirectories', 'GET'),
    ).toBe(undefined);
  });
});

describe('a failed exchange says whether the request was sent', () => {
  const settings = { timeoutMs: 2_000, userAgent: 'test', now: () => Date.now() };
  const post = (url: string) =>
    sendJson(settings, {
      endpoint: 'createCustomerDataRequest',
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as QualtricsError,
    );

  /** A loopback TCP server; `onConnection` decides what the client meets. */
  async function tcpServer(
    onConnection: Parameters<typeof createServer>[1],
  ): Promise<{ server: Server; port: number }> {
    const server = createServer(onConnection);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port };
  }
  const closed = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

  it('refused at the socket (nothing listens): not sent', async () => {
    const { server, port } = await tcpServer(() => undefined);
    await closed(server);
    const e = await post(`http://127.0.0.1:${port}/API/v3/customer-data-requests`);
    expect(e).toBeInstanceOf(QualtricsError);
    expect(e.name).toBe(ErrorNames.Transient);
    expect(e.notSent).toBe(true);
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('a failed TLS handshake (the server speaks plain text): not sent, and the server read no request', async () => {
    let received = '';
    const { server, port } = await tcpServer((socket) => {
      socket.on('data', (d) => {
        received += d.toString('latin1');
      });
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    });
    try {
      const e = await post(`https://127.0.0.1:${port}/API/v3/customer-data-requests`);
      expect(e.notSent).toBe(true);
      // Only a TLS ClientHello reached the server, never the request line.
      expect(received).not.toContain('POST');
    } finally {
      await closed(server);
    }
  });

  it('a connection dropped after the request was written: may have arrived (not "not sent")', async () => {
    let received = '';
    const { server, port } = await tcpServer((socket) => {
      socket.on('data', (d) => {
        received += d.toString('latin1');
        if (received.includes('\r\n\r\n')) socket.destroy();
      });
    });
    try {
      const e = await post(`http://127.0.0.1:${port}/API/v3/customer-data-requests`);
      expect(e.name).toBe(ErrorNames.Transient);
      expect(e.notSent).toBe(false);
      expect(received).toContain('POST /API/v3/customer-data-requests');
    } finally {
      await closed(server);
    }
  });

  it('a timeout is never "not sent"; codes are read along the cause chain', () => {
    expect(
      requestNotSent(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } })),
    ).toBe(true);
    expect(
      requestNotSent(Object.assign(new TypeError('fetch failed'), { cause: { code: 'EAI_AGAIN' } })),
    ).toBe(true);
    expect(
      requestNotSent(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })),
    ).toBe(false);
    expect(
      requestNotSent(Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } })),
    ).toBe(false);
    expect(requestNotSent(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(requestNotSent(undefined)).toBe(false);
  });
});
