import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SIMULATOR_CLIENT, startSimulator } from '../local/simulator/index';
import { benchSubject, seedWithSubjects } from './e2e/subjects';
import { type LineChart, stackCharts } from './lib/svg-plot';

/**
 * `npm run bench:load`: a bulk submission to `serve` (README "Performance"). For each batch size,
 * a fresh `serve` (a child process, the way a user runs it) on a fresh data dir, against the
 * Qualtrics simulator (in this process, with one seeded subject per request and its rate limits
 * enforced), with every request POSTed at once, half access and half deletion. Measured: how many
 * ended COMPLETED and FAILED (with their codes), the wall time from the first POST to the last
 * request ending, and serve's resident memory (peak from the kernel, VmHWM; samples over time).
 *
 *   npm run bench:load                      # 1,000 and 2,000 requests → bench/results/load.{json,svg}
 *   npm run bench:load -- --batches 200 --out /tmp/load   # a quick run elsewhere
 */

const BIN = join(__dirname, '..', 'bin', 'qualtrics-dsr.js');
/** The simulator's clock and every wait of the connector: a minute lasts 0.6 s, as `serve` does by default. */
const TIME_SCALE = 0.01;
/** A batch that has not ended by then is reported as it stands. */
const BATCH_DEADLINE_MS = 60 * 60_000;
/** POSTs in flight at once while submitting (the submission is one burst; this bounds open sockets). */
const SUBMIT_CONCURRENCY = 64;

interface BatchResult {
  requests: number;
  completed: number;
  failed: number;
  /** Requests neither COMPLETED nor FAILED at the deadline. */
  unfinished: number;
  failureCodes: Record<string, number>;
  submitSeconds: number;
  wallSeconds: number;
  peakRssMb: number;
  /** [seconds since the first POST, RSS MB, requests ended]. */
  samples: Array<[number, number, number]>;
}

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function startServe(dataDir: string, simUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(QUALTRICS_|QDSR_|AWS_)/.test(k)) delete env[k];
  Object.assign(env, {
    QUALTRICS_BASE_URL: simUrl,
    QUALTRICS_CLIENT_ID: SIMULATOR_CLIENT.clientId,
    QUALTRICS_CLIENT_SECRET: SIMULATOR_CLIENT.clientSecret,
  });
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--wait-scale', String(TIME_SCALE)],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d) => {
      err += String(d);
      const m = /Local API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${err}`)));
  });
  return { child, url };
}

/** Every request with `status`, through the list route's pages. */
async function countStatus(
  url: string,
  status: string,
): Promise<{ count: number; codes: Record<string, number> }> {
  let count = 0;
  const codes: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ status, limit: '500', ...(cursor ? { cursor } : {}) });
    const page = (await (await fetch(`${url}/requests?${q}`)).json()) as {
      requests: Array<{ error: { code: string } | null }>;
      nextCursor: string | null;
    };
    count += page.requests.length;
    for (const r of page.requests) if (r.error) codes[r.error.code] = (codes[r.error.code] ?? 0) + 1;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { count, codes };
}

async function runBatch(requests: number): Promise<BatchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'qdsr-load-'));
  const sim = await startSimulator({ timeScale: TIME_SCALE, seed: seedWithSubjects(requests) });
  const { child, url } = await startServe(join(dir, 'data'), sim.url);
  const pid = child.pid as number;
  try {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const samples: BatchResult['samples'] = [];
    let ended = 0;
    const sampler = setInterval(() => samples.push([seconds(), procStatusMb(pid, 'VmRSS'), ended]), 1000);
    let next = 0;
    await Promise.all(
      Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
        while (next < requests) {
          const i = next++;
          const res = await fetch(`${url}/requests`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: i % 2 === 0 ? 'access' : 'deletion', email: benchSubject(i) }),
          });
          if (res.status !== 202) throw new Error(`POST /requests answered ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    const submitSeconds = seconds();
    let completed = 0;
    let failed = { count: 0, codes: {} as Record<string, number> };
    while (Date.now() - started < BATCH_DEADLINE_MS) {
      completed = (await countStatus(url, 'COMPLETED')).count;
      failed = await countStatus(url, 'FAILED');
      ended = completed + failed.count;
      process.stderr.write(
        `  ${requests}: ${completed} completed, ${failed.count} failed at ${seconds().toFixed(0)} s\n`,
      );
      if (ended >= requests) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const wallSeconds = seconds();
    clearInterval(sampler);
    samples.push([wallSeconds, procStatusMb(pid, 'VmRSS'), ended]);
    return {
      requests,
      completed,
      failed: failed.count,
      unfinished: requests - completed - failed.count,
      failureCodes: failed.codes,
      submitSeconds: round(submitSeconds),
      wallSeconds: round(wallSeconds),
      peakRssMb: procStatusMb(pid, 'VmHWM'),
      samples: samples.map(([t, mb, n]) => [round(t), mb, n]),
    };
  } finally {
    child.kill('SIGKILL');
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

function plot(batches: BatchResult[]): string {
  const charts: LineChart[] = [
    {
      title: "serve's resident memory during a bulk submission",
      xLabel: 'seconds since the first POST',
      yLabel: 'RSS (MB)',
      series: batches.map((b) => ({
        name: `${b.requests} requests`,
        points: b.samples.map(([t, mb]) => [t, mb]),
      })),
    },
    {
      title: 'requests ended (COMPLETED or FAILED)',
      xLabel: 'seconds since the first POST',
      yLabel: 'requests',
      series: batches.map((b) => ({
        name: `${b.requests} requests`,
        points: b.samples.map(([t, , n]) => [t, n]),
      })),
    },
  ];
  return stackCharts(charts);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { batches: { type: 'string', default: '1000,2000' }, out: { type: 'string' } },
  });
  const sizes = String(values.batches)
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  const out = values.out ?? join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  const batches: BatchResult[] = [];
  const wall = Date.now();
  for (const n of sizes) {
    process.stderr.write(`batch of ${n}\n`);
    batches.push(await runBatch(n));
  }
  const result = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    timeScale: TIME_SCALE,
    localConcurrency: Number(process.env.QDSR_LOCAL_CONCURRENCY ?? 32),
    totalSeconds: round((Date.now() - wall) / 1000),
    batches,
  };
  writeFileSync(join(out, 'load.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'load.svg'), plot(batches));
  for (const b of batches) {
    process.stdout.write(
      `${b.requests}: ${b.completed} COMPLETED, ${b.failed} FAILED${b.unfinished ? `, ${b.unfinished} unfinished` : ''}; wall ${b.wallSeconds} s; peak RSS ${b.peakRssMb} MB\n`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`bench:load failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
