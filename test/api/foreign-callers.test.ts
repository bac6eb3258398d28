import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../lambdas/core/api';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { type ApiWorld, startApiWorld } from './harness';

/**
 * The local API's own rules, on the server `serve` runs (README "The operator page";
 * docs/threat-model.md): a request naming another Host (DNS rebinding) is answered 421 and a
 * state-changing request from another web origin (CSRF) 403, before the body is read and with
 * nothing recorded or started; its own clients are served. And `GET /` is the operator page.
 */

let w: ApiWorld;
let port: number;

beforeAll(async () => {
  w = await startApiWorld();
  port = w.server.port;
});
afterAll(async () => {
  await w?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** node:http, which lets a test say any Host (fetch always sends the URL's). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString() }),
      );
      res.on('error', reject);
    });
    // The server may answer and close before every byte is sent: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    req.end(body);
  });
}

const own = () => ({ host: `127.0.0.1:${port}` });
const json = { 'content-type': 'application/json' };
const submission = JSON.stringify({ type: 'deletion', email: SEEDED_SUBJECT, dryRun: true });
const codeOf = (a: Answer) => (JSON.parse(a.text) as { error: { code: string } }).error.code;

describe('DNS rebinding: a Host that is not ours is answered 421', () => {
  it('for reads, writes and the page alike, quoting nothing back', async () => {
    for (const [method, path] of [
      ['GET', '/requests'],
      ['GET', '/health'],
      ['GET', '/'],
      ['POST', '/requests'],
    ] as const) {
      const body = method === 'POST' ? submission : undefined;
      const a = await send(method, path, { host: `rebound.example:${port}`, ...json }, body);
      expect(a.status, `${method} ${path}`).toBe(421);
      expect(codeOf(a)).toBe('MISDIRECTED_REQUEST');
      expect(a.text).not.toContain('rebound.example');
    }
    expect((await send('GET', '/requests', { host: `127.0.0.1:${port + 1}` })).status).toBe(421);
    expect(await w.countRequestItems()).toBe(0);
    expect(w.starts).toEqual([]);
  });

  it('serves 127.0.0.1:<port> and localhost:<port>', async () => {
    expect((await send('GET', '/requests', own())).status).toBe(200);
    expect((await send('GET', '/requests', { host: `localhost:${port}` })).status).toBe(200);
  });
});

describe('CSRF: a state-changing request from another origin is answered 403', () => {
  it('POST /requests from a foreign page records and starts nothing', async () => {
    const before = await w.countRequestItems();
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${port + 1}`]) {
      const a = await send('POST', '/requests', { ...own(), ...json, origin }, submission);
      expect(a.status, origin).toBe(403);
      expect(codeOf(a)).toBe('FOREIGN_ORIGIN');
      expect(a.headers.connection).toBe('close');
    }
    expect(await w.countRequestItems()).toBe(before);
    expect(w.starts).toEqual([]);
  });

  it('is refused before the body is read: an oversized body gets 403, not 413', async () => {
    const big = Buffer.alloc(200 * 1024, 'a');
    const a = await send('POST', '/requests', { ...own(), ...json, origin: 'https://evil.example' }, big);
    expect(a.status).toBe(403);
  });

  it('its own origin, localhost, and clients without an Origin are served', async () => {
    const ids: string[] = [];
    for (const headers of [
      { ...own(), origin: `http://127.0.0.1:${port}` },
      { host: `localhost:${port}`, origin: `http://localhost:${port}` },
      own(),
    ]) {
      const a = await send('POST', '/requests', { ...headers, ...json }, submission);
      expect(a.status, JSON.stringify(headers)).toBe(202);
      ids.push((JSON.parse(a.text) as { requestId: string }).requestId);
    }
    // One idempotent request? No key was given: three requests.
    expect(new Set(ids).size).toBe(3);
    await Promise.all(ids.map((id) => w.workflows.settled(id)));
  });

  it('retry and extend from a foreign page are refused too', async () => {
    const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const origin = 'https://evil.example';
    const retry = await send('POST', `/requests/${id}/retry`, { ...own(), ...json, origin }, '{}');
    const extend = await send(
      'POST',
      `/requests/${id}/extend`,
      { ...own(), ...json, origin },
      JSON.stringify({ reason: 'x' }),
    );
    expect([retry.status, extend.status]).toEqual([403, 403]);
    expect(w.redrives).toEqual([]);
    // Reads are not state-changing: a foreign Origin on a GET is served (it cannot read the answer
    // without CORS headers, which this API never sends).
    const read = await send('GET', '/requests', { ...own(), origin });
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('GET / is the operator page', () => {
  it('HTML under a Content-Security-Policy whose hashes are exactly the inline script and style', async () => {
    const a = await send('GET', '/', own());
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(a.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const blocks = (tag: string) =>
      [...a.text.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
    const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const [script] = blocks('script');
    const [style] = blocks('style');
    expect(blocks('script')).toHaveLength(1);
    expect(blocks('style')).toHaveLength(1);
    expect(csp).toContain(`script-src ${sha(script!)}`);
    expect(csp).toContain(`style-src ${sha(style!)}`);
    expect(script).toContain('/requests');
  });

  it('the handler itself (as in AWS) answers GET / 404; POST / is 405', async () => {
    const handle = createApi({} as never);
    const answer = await handle({ method: 'GET', path: '/', headers: {}, body: null });
    expect(answer.statusCode).toBe(404);
    expect((await send('POST', '/', { ...own(), ...json }, '{}')).status).toBe(405);
  });
});
