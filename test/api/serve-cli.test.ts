import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEEDED_SUBJECT } from '../../local/simulator';
import { isTerminal, pollStatus } from './harness';

/**
 * `qualtrics-dsr serve` as a user runs it: a child process on an OS-chosen port, driven over
 * HTTP, stopped with SIGINT. The data dir persists, so a second `serve` sees the first's requests.
 */

const BIN = join(__dirname, '..', '..', 'bin', 'qualtrics-dsr.js');
const dataDir = mkdtempSync(join(tmpdir(), 'qdsr-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

async function startServe(): Promise<Served> {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('QUALTRICS_') || k.startsWith('QDSR_') || k.startsWith('AWS_')) delete env[k];
  // Waits 500× faster (the built-in simulator's default is 100×): the workflow behind a SIGINT ends sooner.
  const args = ['serve', '--port', '0', '--data-dir', dataDir, '--wait-scale', '0.002'];
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
      out += String(d);
      const m = /Local API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening:\n${err}`)));
  });
  return { child, url, exited, output: () => out };
}

describe('qualtrics-dsr serve', () => {
  let requestId: string;

  it('serves the API on 127.0.0.1, answers 202 at once, and on SIGINT lets the running workflow finish', async () => {
    const s = await startServe();
    try {
      expect(s.output()).toMatch(/Qualtrics: the built-in simulator/);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect(s.output()).toContain(`Operator page: ${s.url}/`);
      const page = await fetch(`${s.url}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await page.text()).toContain('<title>qualtrics-dsr');
      const res = await fetch(`${s.url}/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'access', email: SEEDED_SUBJECT }),
      });
      expect(res.status).toBe(202);
      requestId = ((await res.json()) as { requestId: string }).requestId;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      // At once: the workflow is still running in the background.
      s.child.kill('SIGINT');
    }
    expect(await s.exited).toBe(0);
    expect(s.output().toLowerCase()).not.toContain(SEEDED_SUBJECT);
  });

  it('a second serve on the same data dir shows the request completed, and its export downloads', async () => {
    const s = await startServe();
    try {
      const { doc } = await pollStatus(s.url, requestId, isTerminal, 1);
      expect(doc).toMatchObject({ status: 'COMPLETED', error: null });
      const exp = (await (await fetch(`${s.url}/requests/${requestId}/export`)).json()) as {
        manifestUrl: string;
        files: Array<{ url: string }>;
      };
      expect((await fetch(exp.manifestUrl)).status).toBe(200);
      expect(exp.files.length).toBeGreaterThan(0);
      for (const f of exp.files) expect((await fetch(f.url)).status).toBe(200);
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  });

  it('refuses a port that is taken, with exit code 3 (configuration, README)', async () => {
    const first = await startServe();
    try {
      const port = new URL(first.url).port;
      const env = { ...process.env };
      for (const k of Object.keys(env))
        if (k.startsWith('QUALTRICS_') || k.startsWith('QDSR_')) delete env[k];
      const second = spawn(
        process.execPath,
        [BIN, 'serve', '--port', port, '--data-dir', mkdtempSync(join(tmpdir(), 'qdsr-serve-'))],
        {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      second.stderr?.on('data', (d) => {
        err += String(d);
      });
      const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
      expect(code).toBe(3);
      expect(err).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use.*--port`));
    } finally {
      first.child.kill('SIGINT');
      await first.exited;
    }
  });
});
