import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { emailSha256 } from '../../lambdas/core/privacy';
import { type RequestStore, requestPk } from '../../lambdas/core/request-store';
import { EVENTS_FILE } from '../../local/events-log';
import { connectorEnvFor, type Simulator, startSimulator } from '../../local/simulator';
import { pollStatus } from '../api/harness';
import { BIN, cleanEnv, runCli, withDataDirStore } from './run-cli';

/**
 * The sweep on the laptop with the real local engine (README "The sweep", "Events"): `sweep`
 * sends Due Soon for a CCPA request received 42 days ago, once, into `<data-dir>/events.jsonl`;
 * fails STALLED a request resumed three times already; and `serve` resumes, at start, a request a
 * killed run left waiting on Qualtrics, to COMPLETED with one Qualtrics create. Qualtrics is a
 * simulator in this process (its counters are the test's), every command runs 100× faster.
 */

const DAY = 86_400_000;
const SCALE = 0.01;
const root = mkdtempSync(join(tmpdir(), 'qdsr-sweep-cli-'));
const dataDir = join(root, 'data');
let sim: Simulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // A customer-data job takes 3 s here: long enough to kill a run that waits on it.
  sim = await startSimulator({ timeScale: SCALE, customerDataJobMs: 300_000 });
  env = cleanEnv(connectorEnvFor(sim.url) as Record<string, string>);
});
afterAll(async () => {
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, '--data-dir', dataDir, '--wait-scale', String(SCALE)], env);

/** Opens the data dir in this process (no CLI may run meanwhile). */
const withStore = <T>(use: (store: RequestStore, table: string) => Promise<T>): Promise<T> =>
  withDataDirStore(dataDir, use);

interface SweepJson {
  resumed: string[];
  failed: string[];
  dueSoon: string[];
  overdue: string[];
  emailsForgotten: number;
}

async function sweepJson(): Promise<SweepJson> {
  const r = await cli('sweep', '--json');
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as SweepJson;
  expect(Object.keys(doc)).toEqual(['resumed', 'failed', 'dueSoon', 'overdue', 'emailsForgotten']);
  return doc;
}

const eventLines = () =>
  readFileSync(join(dataDir, EVENTS_FILE), 'utf8')
    .trimEnd()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          'detail-type': string;
          source: string;
          time: string;
          detail: Record<string, unknown>;
        },
    );

describe('qualtrics-dsr sweep', () => {
  const subject = 'due.soon@example.com';
  let dueSoonId: string;
  let stalledId: string;

  beforeAll(async () => {
    await withStore(async (store, table) => {
      // Received 42 days ago under the CCPA (due at 45) and FAILED: not answered, due in 3 days.
      const { record } = await store.create({
        source: 'api',
        type: 'access',
        email: subject,
        jurisdiction: 'ccpa',
        receivedAt: new Date(Date.now() - 42 * DAY).toISOString(),
      });
      dueSoonId = record.requestId;
      await store.fail(dueSoonId, { code: 'QUALTRICS_AUTH', message: 'the OAuth client was refused' });
      // Open, run by no process, and resumed three times already.
      const { record: stalled } = await store.create({
        source: 'cli',
        type: 'deletion',
        email: 'stalled@example.com',
      });
      stalledId = stalled.requestId;
      await store.recordExecution(stalledId, { name: `${stalledId}-4`, attempt: 4 });
      await store.transition(stalledId, 'RUNNING', 'STARTED');
      await dynamoDocumentClient().send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: requestPk(stalledId) },
          UpdateExpression: 'SET resumptions = :three, updatedAt = :long',
          ExpressionAttributeValues: { ':three': 3, ':long': new Date(Date.now() - 3_600_000).toISOString() },
        }),
      );
    });
  });

  it('sends Due Soon for a CCPA request received 42 days ago into events.jsonl (0600), once', async () => {
    const first = await sweepJson();
    expect(first.dueSoon).toEqual([dueSoonId]);
    const lines = eventLines().filter((l) => l['detail-type'] === 'Privacy Request Due Soon');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(Object.keys(line!)).toEqual(['detail-type', 'source', 'time', 'detail']);
    expect(line).toMatchObject({
      source: 'qualtrics-dsr',
      detail: { requestId: dueSoonId, jurisdiction: 'ccpa', maskedEmail: 'd***@example.com' },
    });
    expect(Date.parse(line!.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(statSync(join(dataDir, EVENTS_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, EVENTS_FILE), 'utf8')).not.toContain(subject);

    const second = await sweepJson();
    expect(second.dueSoon).toEqual([]);
    expect(eventLines().filter((l) => l['detail-type'] === 'Privacy Request Due Soon')).toHaveLength(1);
  });

  it('failed STALLED the request it had resumed three times (the first sweep above), and resumes it no more', async () => {
    const doc = await withStore((store) => store.get(stalledId));
    expect(doc).toMatchObject({ status: 'FAILED', resumptions: 3, error: { code: 'STALLED' } });
    expect(doc?.error?.message).toContain(`qualtrics-dsr retry ${stalledId}`);
    const failedEvents = eventLines().filter(
      (l) => l['detail-type'] === 'Privacy Request Failed' && l.detail.requestId === stalledId,
    );
    expect(failedEvents).toHaveLength(0); // STALLED is recorded by the sweep; no workflow ran
  });
});

describe('serve resumes what a killed run left', () => {
  it('a run SIGKILLed while waiting on Qualtrics is resumed by serve at start: COMPLETED, one create', async () => {
    const subject = 'killed.run@example.com';
    const hash = emailSha256(subject);
    const run = spawn(
      process.execPath,
      [BIN, 'access', subject, '--data-dir', dataDir, '--wait-scale', String(SCALE), '--json'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const runExit = new Promise<number | null>((resolve) =>
      run.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
    );
    // Killed once the job exists and has been polled (its id is in the record).
    for (let i = 0; i < 400; i++) {
      const c = sim.counters();
      if (
        (c.bySubject[hash]?.customerDataCreates ?? 0) >= 1 &&
        (c.byEndpoint.getCustomerDataRequest?.requests ?? 0) >= 1
      )
        break;
      await new Promise((r) => setTimeout(r, 25));
    }
    run.kill('SIGKILL');
    expect(await runExit).toBe(-1);
    const left = await withStore((store) => store.findBySubject(subject));
    expect(left).toHaveLength(1);
    expect(['RUNNING', 'WAITING_ON_QUALTRICS']).toContain(left[0]!.status);
    const requestId = left[0]!.requestId;

    const serve = await startServe();
    try {
      const { doc } = await pollStatus(
        serve.url,
        requestId,
        (d) => d.status === 'COMPLETED' || d.status === 'FAILED',
        400,
      );
      expect(doc.status, JSON.stringify(doc.error)).toBe('COMPLETED');
      const steps = (doc.timeline as Array<{ step: string }>).map((t) => t.step);
      expect(steps).toContain('RESUMED');
      expect(sim.counters().bySubject[hash]?.customerDataCreates).toBe(1);
    } finally {
      serve.child.kill('SIGINT');
      await serve.exited;
    }
    expect(serve.output()).toMatch(/sweep: resumed 1 stalled request/);
    expect(serve.output().toLowerCase()).not.toContain(subject);
  });
});

async function startServe(): Promise<{
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<unknown>;
}> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--wait-scale', String(SCALE)],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d) => {
      out += String(d);
      const m = /Local API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, exited, output: () => out };
}
