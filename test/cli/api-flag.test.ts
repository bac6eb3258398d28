import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RECORDS_CSV_HEADER } from '../../lambdas/core/ledger';
import { main } from '../../local/cli/main';
import { SEEDED_SUBJECT, type Simulator, startSimulator } from '../../local/simulator';
import { assertNoLeaks, type Proc, spawnCli, startServe, until } from '../durability/processes';
import { CANARY_CLIENT, CANARY_CLIENT_ENV } from '../support/canaries';
import { startClosablePort } from '../support/closable-port';
import { type SigV4Server, startSigV4Server } from '../support/sigv4-server';
import { cleanEnv, leakForms, runCli, withDataDirStore } from './run-cli';

/**
 * The CLI against an HTTP API (README "The CLI against a deployment"): each command that takes
 * `--api`, run as a user runs it (a child process), against a running `serve` (a child process,
 * on a simulator in this process), opening no data dir; and the same through a server that checks SigV4 as
 * API Gateway does (test/support/sigv4-server.ts) in front of that `serve`, signed with the keys in
 * the environment: a wrong secret, no credentials or a wrong stage end with exit 3.
 */

const root = mkdtempSync(join(tmpdir(), 'qdsr-api-flag-'));
const dataDir = join(root, 'served');
/** The CLI runs here: a data dir it opened would appear as ./.qualtrics-dsr. */
const cwd = join(root, 'cwd');
const REGION = 'eu-west-1';
const KEY = {
  accessKeyId: 'AKIDEXAMPLEQDSR00002',
  secretAccessKey: 'qdsr/api-flag/secret+0123456789abcdefgh',
};
const WRONG_SECRET = 'wrong/secret/000000000000000000000000';

let sim: Simulator;
let serve: Proc & { url: string };
let gateway: SigV4Server;
const seeded = {} as Record<'toRetry' | 'toExtend' | 'bulkFailed', string>;

const cli = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) => runCli(args, env, { cwd });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const ids = (doc: Record<string, unknown>) =>
  (doc.requests as Array<{ requestId: string }>).map((r) => r.requestId);

beforeAll(async () => {
  mkdirSync(cwd);
  // FAILED requests written before serve starts (a retry completes them on the simulator).
  await withDataDirStore(dataDir, async (store) => {
    const failed = async (code: string) => {
      const { record } = await store.create({ source: 'api', type: 'access', email: SEEDED_SUBJECT });
      await store.fail(record.requestId, { code, message: 'stopped' });
      return record.requestId;
    };
    seeded.toRetry = await failed('INTERRUPTED');
    seeded.toExtend = await failed('INTERRUPTED');
    seeded.bulkFailed = await failed('QUALTRICS_AUTH');
  });
  sim = await startSimulator({ timeScale: 0.01, clients: [CANARY_CLIENT] });
  serve = await startServe(dataDir, cleanEnv({ QUALTRICS_BASE_URL: sim.url, ...CANARY_CLIENT_ENV }), [
    '--wait-scale',
    '0.01',
  ]);
  gateway = await startSigV4Server({
    expected: { ...KEY, region: REGION },
    forwardTo: serve.url,
    stage: 'v1',
  });
});
afterAll(async () => {
  await gateway?.close();
  serve?.child.kill('SIGINT');
  await serve?.exited;
  await sim?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('--api against a running serve (unsigned)', () => {
  const api = () => ['--api', serve.url];
  let deletionId: string;

  it('access and delete submit, follow the request to its end, and copy the bundle from the export links', async () => {
    const out = join(root, 'exports');
    const [access, deletion] = await Promise.all([
      cli(['access', SEEDED_SUBJECT, ...api(), '--out', out, '--json']),
      cli(['delete', SEEDED_SUBJECT, '--dry-run', ...api(), '--json']),
    ]);
    expect(access.code, access.stderr).toBe(0);
    const summary = json(access.stdout) as {
      requestId: string;
      status: string;
      export: { localDir: string };
    };
    expect(summary).toMatchObject({ type: 'access', status: 'COMPLETED' });
    expect(summary.export.localDir).toBe(join(out, summary.requestId));
    const manifest = JSON.parse(readFileSync(join(summary.export.localDir, 'manifest.json'), 'utf8')) as {
      files: Array<{ key: string; sha256: string }>;
    };
    for (const f of manifest.files) {
      const bytes = readFileSync(
        join(summary.export.localDir, f.key.slice(`exports/${summary.requestId}/`.length)),
      );
      expect(createHash('sha256').update(bytes).digest('hex'), f.key).toBe(f.sha256);
    }
    expect(access.stderr.split('\n')[0]).toContain(`API: ${serve.url} (a local serve, unsigned)`);
    // The live view's lines: the timeline as it grows.
    expect(access.stderr).toMatch(/WAITING_ON_QUALTRICS: customer-data job/);
    expect(access.stderr).toMatch(/MANIFEST_WRITTEN/);
    const doc = (await (await fetch(`${serve.url}/requests/${summary.requestId}`)).json()) as {
      source: string;
    };
    expect(doc.source).toBe('cli');

    expect(deletion.code, deletion.stderr).toBe(0);
    expect(json(deletion.stdout)).toMatchObject({ type: 'deletion', status: 'COMPLETED', dryRun: true });
    deletionId = json(deletion.stdout).requestId as string;
  });

  it('status, list, find, records, metrics and evidence read the API', async () => {
    const year = String(new Date().getUTCFullYear());
    const [status, list, find, records, metrics, evidence] = await Promise.all([
      cli(['status', deletionId, ...api(), '--json']),
      cli(['list', '--status', 'FAILED', ...api(), '--json']),
      cli(['find', SEEDED_SUBJECT, ...api(), '--json']),
      cli(['records', ...api()]),
      cli(['metrics', '--year', year, ...api(), '--json']),
      cli(['evidence', deletionId, ...api()]),
    ]);
    for (const r of [status, list, find, records, metrics, evidence]) expect(r.code, r.stderr).toBe(0);
    expect(json(status.stdout)).toEqual(await (await fetch(`${serve.url}/requests/${deletionId}`)).json());
    expect(new Set(ids(json(list.stdout)))).toEqual(
      new Set([seeded.toRetry, seeded.toExtend, seeded.bulkFailed]),
    );
    expect(ids(json(find.stdout))).toContain(deletionId);
    expect(ids(json(find.stdout))).toHaveLength(5);
    expect(records.stdout.split('\r\n')[0]).toBe(RECORDS_CSV_HEADER);
    expect(records.stdout).toContain(deletionId);
    expect(json(metrics.stdout)).toEqual(
      await (await fetch(`${serve.url}/reports/metrics?year=${year}`)).json(),
    );
    expect(json(evidence.stdout)).toMatchObject({
      requestId: deletionId,
      type: 'deletion',
      searchOnly: true,
    });
    expect(existsSync(join(cwd, '.qualtrics-dsr'))).toBe(false);
  });

  it('extend, retry and retry --failed change requests through the API and follow them to their end', async () => {
    const extend = await cli([
      'extend',
      seeded.toExtend,
      '--reason',
      'Three systems to search',
      ...api(),
      '--json',
    ]);
    expect(extend.code, extend.stderr).toBe(0);
    expect(json(extend.stdout)).toMatchObject({
      requestId: seeded.toExtend,
      extendedDueAt: expect.any(String),
    });

    const retry = await cli(['retry', seeded.toRetry, ...api(), '--json', '--out', join(root, 'retried')]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(json(retry.stdout)).toMatchObject({ requestId: seeded.toRetry, status: 'COMPLETED' });

    const bulk = await cli(['retry', '--failed', '--error-code', 'QUALTRICS_AUTH', ...api(), '--json']);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(json(bulk.stdout)).toEqual({ retried: [seeded.bulkFailed], skipped: [] });
    const after = (await (await fetch(`${serve.url}/requests/${seeded.bulkFailed}`)).json()) as {
      status: string;
    };
    expect(after.status).toBe('COMPLETED');
    expect(existsSync(join(cwd, '.qualtrics-dsr'))).toBe(false);
  });

  it('Ctrl-C stops following, not the request: exit 130, naming how to follow it through the same API', async () => {
    // The job's first poll takes 3 s: the command is still following when it is stopped.
    sim.faults.set('getCustomerDataRequest', { delayMs: 3_000, times: 1 });
    const run = spawnCli(['access', SEEDED_SUBJECT, ...api(), '--out', join(root, 'stopped')], cleanEnv());
    const [, requestId] = await run.waitForStderr(/request ([0-9a-f-]{36}): access for/);
    await run.waitForStderr(/WAITING_ON_QUALTRICS/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stdout()).toContain(
      `not finished; it goes on where it runs; follow it with: qualtrics-dsr status ${requestId} --api ${serve.url}`,
    );
    const doc = await until(
      async () => (await (await fetch(`${serve.url}/requests/${requestId}`)).json()) as { status: string },
      (d) => d.status === 'COMPLETED',
    );
    expect(doc.status).toBe('COMPLETED');
    assertNoLeaks([run], [SEEDED_SUBJECT]);
  });

  it('an unknown id is exit 2; an API that does not answer is exit 3', async () => {
    const closed = await startClosablePort(serve.url);
    await closed.close();
    try {
      const [unknown, gone] = await Promise.all([
        cli(['status', '3f2504e0-4f89-41d3-9a0c-0305e82c3301', ...api()]),
        cli(['list', '--api', closed.url]),
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown request id');
      expect(gone.code).toBe(3);
      expect(gone.stderr).toMatch(/the API at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
    } finally {
      await closed.dispose();
    }
  });

  it('refuses before any call (exit 2): a bad URL, --api with --data-dir, --api-region alone, --api where it does not go', async () => {
    const refusals: Array<[string[], string]> = [
      [['list', '--api', 'not a url'], '--api is not a URL'],
      [['list', '--api', 'http://dsr.example.com/v1'], '--api off this machine must be https'],
      [
        ['list', ...api(), '--data-dir', join(root, 'other')],
        "option '--api <url>' cannot be used with option '--data-dir <dir>'",
      ],
      [
        ['status', deletionId, ...api(), '--wait-scale', '0.1'],
        "option '--api <url>' cannot be used with option '--wait-scale <factor>'",
      ],
      [['list', '--api-region', REGION], '--api-region goes with --api'],
      ...[['import', 'x.csv'], ['sweep'], ['serve'], ['export', deletionId], ['health']].map(
        (args): [string[], string] => [[...args, ...api()], "error: unknown option '--api'"],
      ),
    ];
    for (const [args, message] of refusals) {
      const { code, stderr } = await inProcess(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain(message);
    }
    expect(existsSync(join(root, 'other'))).toBe(false);
    expect(existsSync(join(cwd, '.qualtrics-dsr'))).toBe(false);
  });
});

/** The CLI in this process (for refusals that end before anything runs): its exit code and stderr. */
async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write);
  const at = process.cwd();
  process.chdir(cwd);
  try {
    return { code: await main(['node', 'qualtrics-dsr', ...args]), stderr: err.join('') };
  } finally {
    process.chdir(at);
    spy.mockRestore();
  }
}

describe('--api through SigV4 (a server that checks signatures as API Gateway does)', () => {
  const api = (stage = 'v1') => ['--api', `${gateway.url}/${stage}`, '--api-region', REGION];
  const keys = (secret: string) =>
    cleanEnv({
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      // Nothing of this machine's own AWS setup: no profile files, no instance metadata.
      AWS_CONFIG_FILE: join(root, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });

  it('signs every call with the keys in the environment: reads, a search, submissions followed to their end', async () => {
    const before = gateway.received.length;
    const env = keys(KEY.secretAccessKey);
    const [status, find, deletion, access] = await Promise.all([
      cli(['status', seeded.toExtend, ...api(), '--json'], env),
      cli(['find', SEEDED_SUBJECT, ...api(), '--json'], env),
      cli(['delete', SEEDED_SUBJECT, '--dry-run', ...api(), '--json'], env),
      cli(['access', SEEDED_SUBJECT, ...api(), '--json', '--out', join(root, 'signed')], env),
    ]);
    for (const r of [status, find, deletion, access]) expect(r.code, r.stderr).toBe(0);
    expect(json(status.stdout)).toMatchObject({ requestId: seeded.toExtend });
    expect(ids(json(find.stdout)).length).toBeGreaterThanOrEqual(5);
    expect(json(deletion.stdout)).toMatchObject({ type: 'deletion', status: 'COMPLETED' });
    const summary = json(access.stdout) as { requestId: string; status: string };
    expect(summary.status).toBe('COMPLETED');
    expect(readdirSync(join(root, 'signed', summary.requestId))).toContain('manifest.json');
    expect(access.stderr.split('\n')[0]).toContain(
      `API: ${gateway.url}/v1 (SigV4, execute-api in ${REGION}, default AWS credentials)`,
    );

    const calls = gateway.received.slice(before);
    expect(calls.map((c) => `${c.method} ${c.url.split('?')[0]!.replace(/[0-9a-f-]{36}/, '{id}')}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/requests/{id}',
        'POST /v1/requests/search',
        'POST /v1/requests',
        'GET /v1/requests/{id}/export',
      ]),
    );
    expect(calls.every((c) => c.verdict.ok)).toBe(true);
    // The email travels in bodies only, never in a URL (URLs land in access logs).
    for (const c of calls) {
      for (const form of leakForms(SEEDED_SUBJECT)) expect(c.url).not.toContain(form);
    }
  });

  it('a wrong secret is refused: exit 3 naming the credentials and execute-api:Invoke, never the secret', async () => {
    const res = await cli(['list', ...api()], keys(WRONG_SECRET));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('the API refused the call (403 INVALID_SIGNATURE');
    expect(res.stderr).toContain('execute-api:Invoke');
    expect(res.stderr).toContain('AWS_ACCESS_KEY_ID');
    expect(res.stderr).not.toContain(WRONG_SECRET);
    expect(gateway.received.at(-1)?.verdict).toMatchObject({ ok: false, code: 'INVALID_SIGNATURE' });
  });

  it('a path API Gateway does not have (the wrong stage): exit 3 naming the ApiUrl and its stage', async () => {
    const res = await cli(['list', ...api('v2')], keys(KEY.secretAccessKey));
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('403 MISSING_AUTHENTICATION_TOKEN');
    expect(res.stderr).toContain("--api must be the stack's ApiUrl, with its stage");
  });

  it('no credentials anywhere: exit 3 naming what to set, before any call', async () => {
    const before = gateway.received.length;
    const env = keys('');
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const res = await cli(['status', seeded.toExtend, ...api()], env);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/no AWS credentials to sign the API call with .*set AWS_PROFILE/);
    expect(gateway.received.length).toBe(before);
    assertNoLeaks([serve], [SEEDED_SUBJECT]);
  });
});
