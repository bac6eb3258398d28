import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiWorld, startApiWorld } from './harness';
import { CANARY, CASES, type Case, EMAIL } from './hostile-requests';

// Outside Lambda the handlers log nothing unless asked: ask, so the log scans below see their lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

/**
 * Hostile and malformed input against the HTTP API
 * (docs/threat-model.md#bad-input-a7-a5-across-b1-b2-b3): every case gets a 4xx with a JSON
 * `{"error":{"code","message"}}` that names the problem without quoting the input, nothing is
 * recorded (the requests table keeps its item count), no workflow starts (the starter spy), and the
 * server stays healthy.
 */

let w: ApiWorld;
const logged: string[] = [];
beforeAll(async () => {
  w = await startApiWorld();
  // Both streams: the logger writes warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  await w?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(c: Case): Promise<Answer> {
  if (c.raw !== undefined) return sendRaw(c.raw);
  const url = new URL(w.url);
  const headers: Record<string, string> =
    c.headers ?? (c.json !== undefined || c.body !== undefined ? { 'content-type': 'application/json' } : {});
  const payload =
    c.json !== undefined
      ? Buffer.from(JSON.stringify(c.json))
      : c.body !== undefined
        ? Buffer.from(c.body)
        : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: c.method ?? 'POST',
        path: c.path ?? '/requests',
        headers: c.chunks
          ? { ...headers, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }
          : headers,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before every byte is sent: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    if (c.chunks) {
      for (const chunk of c.chunks) req.write(chunk);
      req.end();
    } else req.end(payload);
  });
}

function sendRaw(raw: string): Promise<Answer> {
  const url = new URL(w.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(raw));
    const parts: Buffer[] = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(parts).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status, headers, text: rest.join('\r\n\r\n') });
    });
  });
}

describe('hostile and malformed input', () => {
  let itemsBefore: number;
  beforeAll(async () => {
    itemsBefore = await w.countRequestItems();
  });

  it(`has at least 40 cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    it(`${c.name} → ${c.status}${c.code ? ` ${c.code}` : ''}`, async () => {
      const answer = await send(c);
      expect(answer.status).toBe(c.status);
      expect(String(answer.headers['content-type'])).toMatch(/^application\/json/);
      const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
      expect(Object.keys(parsed)).toEqual(['error']);
      expect(Object.keys(parsed.error ?? {}).sort()).toEqual(['code', 'message']);
      if (c.code) expect(parsed.error?.code).toBe(c.code);
      expect(typeof parsed.error?.message).toBe('string');
      expect(String(parsed.error?.message).length).toBeGreaterThan(10);
      // Never the input echoed, never a stack trace, never an injected header.
      expect(answer.text.toLowerCase()).not.toContain(CANARY);
      expect(answer.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.headers['x-injected']).toBeUndefined();
    });
  }

  it('recorded nothing, started nothing, logged no input, and the server is still healthy', async () => {
    expect(await w.countRequestItems()).toBe(itemsBefore);
    expect(w.starts).toEqual([]);
    expect(w.redrives).toEqual([]);
    // The API did log each rejection (by route, status and code), just never the input.
    expect(logged.join('')).toContain('"code":"INVALID_BODY"');
    expect(logged.join('').toLowerCase()).not.toContain(CANARY);
    const health = await fetch(`${w.url}/health`);
    expect(health.status).toBe(200);
    // And a valid request is still served.
    const ok = await fetch(`${w.url}/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'deletion', email: EMAIL, dryRun: true }),
    });
    expect(ok.status).toBe(202);
    expect(w.starts).toHaveLength(1);
    await w.workflows.settled(String(((await ok.json()) as { requestId: string }).requestId));
  });
});
