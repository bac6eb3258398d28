import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoDocumentClient } from '../../lambdas/core/aws-clients';
import { handleIntakeEvent, IntakeRejectedError } from '../../lambdas/handlers/intake-event';
import { startLocalAws } from '../../local/aws';
import { type ApiWorld, startApiWorld } from '../api/harness';
import { runCli } from '../cli/run-cli';
import { CANARY_EMAIL, LeakScanner } from '../support/canaries';
import { intakeEvent } from '../support/intake-event';
import {
  type Channel,
  forChannel,
  HOSTILE_BODIES,
  HOSTILE_EMAILS,
  HOSTILE_IDS,
  HOSTILE_KEYS,
  HOSTILE_QUERIES,
  HOSTILE_REASONS,
  type Hostile,
  hostileLedgerFields,
} from './hostile-inputs';

// Every logger at DEBUG (the API's and the intake's are made at import): rejections are logged, never the input.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

/**
 * Bad input across every way in (docs/threat-model.md#bad-input-a7-a5-across-b1-b2-b3): the one
 * table of hostile values (`hostile-inputs.ts`) through the HTTP API, EventBridge intake events and
 * the CLI. Every case is refused — a 4xx with a JSON error, a dropped event with its code, or
 * exit 2 with a one-line reason — without echoing the input; nothing is recorded, no workflow
 * starts, and the server stays healthy. Complements test/api/hostile-inputs.test.ts (the HTTP
 * layer itself: methods, media types, raw requests).
 */

interface Outcome {
  channel: Channel;
  table: string;
  name: string;
  refused: boolean;
}

const outcomes: Outcome[] = [];
const leaks = new LeakScanner();
let w: ApiWorld;
let stopOutput: () => void = () => undefined;
let stopEvents: () => void = () => undefined;
const cliRoot = mkdtempSync(join(tmpdir(), 'qdsr-bad-input-'));
const cliData = join(cliRoot, 'data');

beforeAll(async () => {
  w = await startApiWorld();
  stopOutput = leaks.captureOutput();
  stopEvents = leaks.subscribeEvents();
});
afterAll(async () => {
  stopEvents();
  stopOutput();
  if (outcomes.length > 0) console.log(formatTable());
  await w?.close();
  rmSync(cliRoot, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
}

/** node:http, so an answer sent before the whole (oversized) body was read still arrives. */
function send(method: string, path: string, body?: string): Promise<Answer> {
  const url = new URL(w.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    req.end(body);
  });
}

function expectRefusedByHttp(answer: Answer, o: Omit<Outcome, 'refused'>): void {
  leaks.scan('http response', answer.text);
  const refused = answer.status >= 400 && answer.status < 500;
  outcomes.push({ ...o, refused });
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.status, answer.text).toBeLessThan(500);
  const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(parsed.error?.code).toMatch(/^[A-Z_]+$/);
  expect(String(parsed.error?.message).length).toBeGreaterThan(10);
  expect(answer.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

/** Refused with its code, thrown so that Lambda parks the event in the dead-letter queue. */
async function expectDroppedEvent(detail: unknown, o: Omit<Outcome, 'refused'>): Promise<void> {
  const result = await handleIntakeEvent(intakeEvent(detail)).catch((e: unknown) => e);
  leaks.scan(
    'event result',
    result instanceof Error ? { name: result.name, message: result.message } : result,
  );
  outcomes.push({ ...o, refused: result instanceof IntakeRejectedError });
  expect(result).toBeInstanceOf(IntakeRejectedError);
  // INVALID_INPUT: a receipt time out of bounds, which the store refuses before recording anything.
  expect((result as IntakeRejectedError).rejection).toMatch(
    /^(INVALID_BODY|INVALID_INPUT|PAYLOAD_TOO_LARGE)$/,
  );
}

async function expectCliExit2(args: string[], o: Omit<Outcome, 'refused'>): Promise<void> {
  // runCli rejects when stdout or stderr carries a canary or an email given as an argument.
  const r = await runCli([...args, '--data-dir', cliData]);
  outcomes.push({ ...o, refused: r.code === 2 });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  // The reason is the last line (`retry` names the Qualtrics it would talk to first).
  const lines = r.stderr.trim().split('\n');
  expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
  expect(lines.at(-1)).toMatch(/^(qualtrics-dsr|error):? .{10,}/);
}

async function recordedByCli(): Promise<number> {
  const aws = await startLocalAws({ dataDir: cliData });
  aws.applyEnv();
  try {
    const out = await dynamoDocumentClient().send(
      new ScanCommand({ TableName: aws.names.requestsTable, Select: 'COUNT' }),
    );
    return out.Count ?? 0;
  } finally {
    await aws.close();
  }
}

const label = (c: Hostile) => c.name;
const LEDGER_FIELDS = hostileLedgerFields();
const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
/** The CLI flag of a ledger field. */
const FLAGS: Record<string, string> = {
  jurisdiction: '--jurisdiction',
  channel: '--channel',
  receivedAt: '--received-at',
};

describe('bad input through every channel', () => {
  let itemsBefore = 0;
  let cliBefore = 0;
  beforeAll(async () => {
    itemsBefore = await w.countRequestItems();
    cliBefore = await recordedByCli();
  });

  it('has at least 40 hostile inputs, each channel at least a handful', () => {
    const rows = [
      ...HOSTILE_EMAILS,
      ...HOSTILE_IDS,
      ...HOSTILE_KEYS,
      ...HOSTILE_BODIES,
      ...LEDGER_FIELDS,
      ...HOSTILE_QUERIES,
      ...HOSTILE_REASONS,
    ];
    expect(rows.length).toBeGreaterThanOrEqual(40);
    for (const ch of ['http', 'event', 'cli'] as const) {
      const n = [HOSTILE_EMAILS, HOSTILE_IDS, HOSTILE_KEYS, HOSTILE_BODIES]
        .map((t) => forChannel(t as Hostile[], ch).length)
        .reduce((a, b) => a + b, 0);
      expect(n, ch).toBeGreaterThanOrEqual(10);
    }
  });

  describe('HTTP API', () => {
    it.each(forChannel(HOSTILE_EMAILS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests, email %s → 4xx',
      async (name, c) => {
        const answer = await send('POST', '/requests', JSON.stringify({ type: 'access', email: c.value }));
        expectRefusedByHttp(answer, { channel: 'http', table: 'email', name });
      },
    );
    it.each(forChannel(HOSTILE_KEYS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests, idempotencyKey %s → 4xx',
      async (name, c) => {
        const body = { type: 'deletion', email: CANARY_EMAIL, idempotencyKey: c.value };
        const answer = await send('POST', '/requests', JSON.stringify(body));
        expectRefusedByHttp(answer, { channel: 'http', table: 'idempotency key', name });
      },
    );
    it.each(forChannel(HOSTILE_BODIES, 'http').map((c) => [label(c), c] as const))(
      'POST /requests, body %s → 4xx',
      async (name, c) => {
        const answer = await send('POST', '/requests', JSON.stringify(c.value));
        expectRefusedByHttp(answer, { channel: 'http', table: 'body', name });
      },
    );
    it.each(forChannel(HOSTILE_IDS, 'http').map((c) => [label(c), c] as const))(
      'GET /requests/{id} and POST /requests/{id}/retry, id %s → 4xx',
      async (name, c) => {
        const id = encodeURIComponent(c.value);
        expectRefusedByHttp(await send('GET', `/requests/${id}`), { channel: 'http', table: 'id', name });
        expectRefusedByHttp(await send('POST', `/requests/${id}/retry`, '{}'), {
          channel: 'http',
          table: 'id (retry)',
          name,
        });
      },
    );
  });

  describe('HTTP API: the ledger', () => {
    it.each(forChannel(LEDGER_FIELDS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests, ledger field %s → 4xx',
      async (name, c) => {
        const body = { type: 'deletion', email: CANARY_EMAIL, dryRun: true, ...c.value };
        const answer = await send('POST', '/requests', JSON.stringify(body));
        expectRefusedByHttp(answer, { channel: 'http', table: 'ledger field', name });
      },
    );
    it.each(forChannel(HOSTILE_QUERIES, 'http').map((c) => [label(c), c] as const))(
      'GET with the query string %s → 4xx',
      async (name, c) => {
        expectRefusedByHttp(await send('GET', c.value), { channel: 'http', table: 'query', name });
      },
    );
    it.each(forChannel(HOSTILE_EMAILS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests/search, email %s → 4xx',
      async (name, c) => {
        const answer = await send('POST', '/requests/search', JSON.stringify({ email: c.value }));
        expectRefusedByHttp(answer, { channel: 'http', table: 'search email', name });
      },
    );
    it.each(forChannel(HOSTILE_REASONS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests/{id}/extend, reason %s → 4xx',
      async (name, c) => {
        const answer = await send('POST', `/requests/${UUID}/extend`, JSON.stringify({ reason: c.value }));
        expectRefusedByHttp(answer, { channel: 'http', table: 'extension reason', name });
      },
    );
    it.each(forChannel(HOSTILE_IDS, 'http').map((c) => [label(c), c] as const))(
      'POST /requests/{id}/extend, id %s → 4xx',
      async (name, c) => {
        const path = `/requests/${encodeURIComponent(c.value)}/extend`;
        const answer = await send('POST', path, JSON.stringify({ reason: 'complex request' }));
        expectRefusedByHttp(answer, { channel: 'http', table: 'id (extend)', name });
      },
    );
  });

  describe('EventBridge intake events', () => {
    it.each(forChannel(LEDGER_FIELDS, 'event').map((c) => [label(c), c] as const))(
      'ledger field %s → dropped',
      (name, c) =>
        expectDroppedEvent(
          { type: 'deletion', email: CANARY_EMAIL, dryRun: true, ...c.value },
          { channel: 'event', table: 'ledger field', name },
        ),
    );
    it.each(forChannel(HOSTILE_EMAILS, 'event').map((c) => [label(c), c] as const))(
      'email %s → dropped',
      (name, c) =>
        expectDroppedEvent({ type: 'access', email: c.value }, { channel: 'event', table: 'email', name }),
    );
    it.each(forChannel(HOSTILE_KEYS, 'event').map((c) => [label(c), c] as const))(
      'idempotencyKey %s → dropped',
      (name, c) =>
        expectDroppedEvent(
          { type: 'deletion', email: CANARY_EMAIL, idempotencyKey: c.value },
          { channel: 'event', table: 'idempotency key', name },
        ),
    );
    it.each(forChannel(HOSTILE_BODIES, 'event').map((c) => [label(c), c] as const))(
      'detail %s → dropped',
      (name, c) => expectDroppedEvent(c.value, { channel: 'event', table: 'body', name }),
    );
  });

  describe('CLI', () => {
    // A child process each (~0.7 s): the string emails and ids only, commands alternating.
    it.each(forChannel(HOSTILE_EMAILS, 'cli').map((c, i) => [label(c), c, i] as const))(
      'access/delete <email> %s → exit 2',
      (name, c, i) =>
        expectCliExit2([i % 2 === 0 ? 'access' : 'delete', String(c.value)], {
          channel: 'cli',
          table: 'email',
          name,
        }),
    );
    it.each(forChannel(HOSTILE_IDS, 'cli').map((c, i) => [label(c), c, i] as const))(
      'status/retry <id> %s → exit 2',
      (name, c, i) =>
        expectCliExit2([i % 2 === 0 ? 'status' : 'retry', c.value], { channel: 'cli', table: 'id', name }),
    );
  });

  describe('CLI: the ledger', () => {
    it.each(forChannel(LEDGER_FIELDS, 'cli').map((c, i) => [label(c), c, i] as const))(
      'access/delete with the ledger flag %s → exit 2',
      (name, c, i) => {
        const [field, value] = Object.entries(c.value)[0]!;
        return expectCliExit2(
          [i % 2 === 0 ? 'access' : 'delete', CANARY_EMAIL, FLAGS[field]!, String(value)],
          {
            channel: 'cli',
            table: 'ledger flag',
            name,
          },
        );
      },
    );
    it.each(
      HOSTILE_EMAILS.filter((c) => ['display-name form', 'CRLF header injection'].includes(c.name)).map(
        (c) => [label(c), c] as const,
      ),
    )('find <email> %s → exit 2', (name, c) =>
      expectCliExit2(['find', String(c.value)], { channel: 'cli', table: 'find email', name }),
    );
    it.each(forChannel(HOSTILE_REASONS, 'cli').map((c) => [label(c), c] as const))(
      'extend --reason %s → exit 2',
      (name, c) =>
        expectCliExit2(['extend', UUID, '--reason', String(c.value)], {
          channel: 'cli',
          table: 'extension reason',
          name,
        }),
    );
    it.each([
      ['list --status', ['list', '--status', `${CANARY_EMAIL}`]],
      ['records --since', ['records', '--since', `zqcanary-yesterday`]],
      ['metrics --year', ['metrics', '--year', `${CANARY_EMAIL}`]],
      ['evidence <id>', ['evidence', `${CANARY_EMAIL}`]],
    ])('%s with a hostile value → exit 2', (name, args) =>
      expectCliExit2(args, { channel: 'cli', table: 'ledger filter', name }),
    );
  });

  it('recorded nothing, started nothing, leaked nothing, and the server is still healthy', async () => {
    expect(outcomes.filter((o) => !o.refused)).toEqual([]);
    expect(await w.countRequestItems()).toBe(itemsBefore);
    expect(await recordedByCli()).toBe(cliBefore);
    expect(w.starts).toEqual([]);
    expect(w.redrives).toEqual([]);
    expect(leaks.scanned.log).toBeGreaterThan(10); // the rejections were logged (by code), and scanned
    expect(leaks.hits).toEqual([]);
    expect((await send('GET', '/health')).status).toBe(200);
    const ok = await send(
      'POST',
      '/requests',
      JSON.stringify({ type: 'deletion', email: CANARY_EMAIL, dryRun: true }),
    );
    expect(ok.status).toBe(202);
    expect(w.starts).toHaveLength(1);
    const requestId = String((JSON.parse(ok.text) as { requestId: string }).requestId);
    await w.workflows.settled(requestId);
    // The ledger shows the canary's request, and no answer carries its email.
    for (const answer of [
      await send('GET', '/requests'),
      await send('POST', '/requests/search', JSON.stringify({ email: CANARY_EMAIL })),
      await send('GET', '/records'),
      await send('GET', `/requests/${requestId}/evidence`),
    ]) {
      expect(answer.status).toBe(200);
      expect(answer.text).toContain(requestId);
      leaks.scan('ledger answer', answer.text);
    }
    const metrics = await send('GET', `/reports/metrics?year=${new Date().getUTCFullYear()}`);
    expect(JSON.parse(metrics.text).byType.deletion.received).toBeGreaterThanOrEqual(1);
    leaks.scan('metrics answer', metrics.text);
    expect(leaks.hits).toEqual([]);
  });
});

function formatTable(): string {
  const rows = new Map<string, { cases: number; refused: number }>();
  for (const o of outcomes) {
    const key = `${o.channel} | ${o.table}`;
    const r = rows.get(key) ?? { cases: 0, refused: 0 };
    r.cases++;
    if (o.refused) r.refused++;
    rows.set(key, r);
  }
  const lines = ['| channel | input | cases | refused (4xx / dropped / exit 2) |', '|---|---|---|---|'];
  for (const [key, r] of rows) lines.push(`| ${key} | ${r.cases} | ${r.refused} |`);
  lines.push(`| all | | ${outcomes.length} | ${outcomes.filter((o) => o.refused).length} |`);
  return `\nBad input: ${new Set(outcomes.map((o) => `${o.table}:${o.name}`)).size} distinct hostile inputs, ${outcomes.length} cases; canary hits: ${leaks.hits.length}\n${lines.join('\n')}\n`;
}
