import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailSha256 } from '../../lambdas/core/privacy';
import { isTerminalStatus, type RequestRecord, type RequestType } from '../../lambdas/core/request-store';
import { errorCode } from '../../lambdas/core/workflow/record';
import { runWorkflow, type WorkflowRun } from '../../local/engine/workflows';
import type { EndpointCounters, Simulator, SimulatorOptions } from '../../local/simulator';
import { canaryEmail, LeakScanner } from '../support/canaries';
import { type ApiCall, type FaultWorld, startFaultWorld } from './fault-world';

/**
 * The fault matrix: 25 concurrent mixed requests (access, deletion, dry run) through the
 * local engine — the real ASL and handlers — against the simulator, while it injects, in turn, each
 * fault below. For every case: every request ends COMPLETED or FAILED with a reason, no request
 * creates a second customer-data job or erasure, every COMPLETED access bundle verifies against its
 * manifest and holds what Qualtrics holds, and the canaries leak nowhere. While DynamoDB is down no
 * call reaches Qualtrics. Then the faults are cleared and every FAILED request is redriven: it
 * completes, reusing the Qualtrics job or erasure already created, unless it failed for a reason a
 * redrive cannot change (Qualtrics failed the job, or a create's outcome is unknown).
 *
 * Time runs 500× faster (simulator clock, polls, limiter, Retry intervals).
 *
 * The cases are split in two suites, Qualtrics faults and storage faults (one file each, so the two
 * halves run in parallel); each suite starts its own world and prints its own table. A test file
 * sets POWERTOOLS_LOG_LEVEL=DEBUG before it imports this module (the loggers read it when made).
 */

const SCALE = 0.002;
const REQUESTS = 25;
/**
 * `perRequest` Qualtrics calls for each request of a case: a case sends about 9 a request, so a
 * fault driven at `calls(4)` comes at the same point of the run whatever REQUESTS is.
 */
const calls = (perRequest: number) => Math.round(perRequest * REQUESTS);
/** A redrive ends FAILED again, by design, only for these: Qualtrics' own verdict, or a create that must not be repeated. */
const REDRIVE_CANNOT_FIX = new Set(['QUALTRICS_JOB_FAILED', 'QUALTRICS_AMBIGUOUS_CREATE']);
/** Each canary subject is a contact in two directories (`canarySeed`). */
const CONTACTS_PER_SUBJECT = 2;

type Kind = 'access' | 'deletion' | 'dry run';
const KINDS: Kind[] = Array.from(
  { length: REQUESTS },
  (_, i) => (['access', 'deletion', 'access', 'deletion', 'dry run'] as const)[i % 5]!,
);

interface Outage {
  start: number;
  end: number;
  /** Real ms it lasted. */
  ms: number;
  /** Requests whose first run was still going when the outage began. */
  inFlight: number;
}

interface CaseContext {
  w: FaultWorld;
  sim: Simulator;
  /** Resolves once the steps have sent `n` Qualtrics API calls in this case, or every run has ended. */
  afterCalls(n: number): Promise<void>;
  /**
   * Takes the proxy down for `ms` real ms, or until the first of the runs has ended (however fast
   * or slow the machine), and reports the outage in logical time.
   */
  outage(which: 'dynamo' | 's3', ms: number | 'until a run ended'): Promise<Outage>;
}

export interface FaultCase {
  name: string;
  /** Seeds the simulator's randomness and tags the case's canary subjects: one per case, fixed. */
  seed: number;
  env?: Record<string, string>;
  simulator?: SimulatorOptions;
  arm?(sim: Simulator): void;
  /** Runs alongside the requests. */
  drive?(ctx: CaseContext): Promise<Outage | undefined>;
  /** How the fault showed itself (asserted > 0: a case whose fault never bit proves nothing). */
  bitten(evidence: Evidence): number;
}

interface Evidence {
  /** Step attempts that failed because DynamoDB or S3 could not be reached. */
  storageErrors: number;
  status5xx: number;
  status429: number;
  status401: number;
  tokensIssued: number;
  timeouts: number;
  retries: number;
  /** Requests whose execution ended outside its Catch, left open, and closed by the caller. */
  closedByCaller: number;
  /** Requests FAILED because Qualtrics failed their job: customer-data jobs (access) and erasures (deletion). */
  jobFailures: Record<RequestType, number>;
  outage?: Outage;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What Qualtrics does wrong: errors, silence, throttling, revoked tokens, failed jobs. */
export const QUALTRICS_FAULTS: FaultCase[] = [
  {
    name: '20 % 5xx',
    seed: 0,
    arm(sim) {
      sim.faults.set('*', { status: 502, probability: 0.2 });
      sim.faults.set('getCustomerDataRequest', { status: 503, probability: 0.2 });
      sim.faults.set('searchDirectoryContacts', { status: 504, probability: 0.2 });
      // A create answered 500 may have been done: the connector must not blindly repeat it.
      sim.faults.set('createCustomerDataRequest', { status: 500, probability: 0.2 });
      sim.faults.set('createErasureRequest', { status: 500, probability: 0.2 });
    },
    bitten: (e) => e.status5xx,
  },
  {
    name: 'timeouts',
    seed: 1,
    // The client gives up on a call after 400 ms; 5 % of calls (and the first token request) never answer.
    env: { QDSR_QUALTRICS_TIMEOUT_MS: '400' },
    arm(sim) {
      sim.faults.set('*', { hang: true, probability: 0.05 });
      sim.faults.set('token', { hang: true, times: 1 });
    },
    bitten: (e) => e.timeouts,
  },
  {
    name: '429 storms',
    seed: 2,
    // Without Retry-After: the simulator's (whole real seconds) would stall this compressed clock for
    // minutes per storm; the limiter's own penalty (a tenth of its period) applies instead.
    simulator: { retryAfter: false },
    arm(sim) {
      sim.faults.set('*', { status: 429, probability: 0.5, times: calls(1.6) });
    },
    async drive({ sim, afterCalls }) {
      // A second storm mid-run.
      await afterCalls(calls(5));
      sim.faults.set('*', { status: 429, probability: 0.5, times: calls(1.6) });
      return undefined;
    },
    bitten: (e) => e.status429,
  },
  {
    name: 'tokens revoked mid-run',
    seed: 3,
    async drive({ sim, afterCalls }) {
      for (const n of [calls(0.8), calls(3), calls(6)]) {
        await afterCalls(n);
        sim.revokeTokens();
      }
      return undefined;
    },
    bitten: (e) => Math.min(e.status401, e.tokensIssued - 1),
  },
  {
    // Both kinds of job at once: access requests meet only customer-data jobs and deletions only
    // erasures, so each kind still fails on its own path (and must have failed at least once).
    name: 'customer-data jobs and erasures fail',
    seed: 4,
    simulator: { failCustomerDataJobs: true, failErasures: true },
    bitten: (e) => Math.min(e.jobFailures.access, e.jobFailures.deletion),
  },
];

/** What AWS does wrong: S3 or DynamoDB out of reach, within and beyond the Retry budgets. */
export const STORAGE_FAULTS: FaultCase[] = [
  {
    name: 'S3 unavailable for a while',
    seed: 6,
    async drive({ afterCalls, outage }) {
      await afterCalls(calls(4));
      return outage('s3', 1700);
    },
    bitten: (e) => e.storageErrors,
  },
  {
    name: 'DynamoDB unavailable for a while',
    seed: 7,
    async drive({ afterCalls, outage }) {
      await afterCalls(calls(4));
      return outage('dynamo', 350);
    },
    bitten: (e) => e.storageErrors,
  },
  {
    // Longer than every Retry budget, "Record request failed"'s included: down until a run has
    // ended, which it can only do outside its Catch (ending either way needs DynamoDB). The caller
    // closes such requests (as the CLI, `serve` and, in AWS, the executionEnded rule do); the runs
    // still retrying when DynamoDB is back record their own failure or complete.
    name: 'DynamoDB unavailable beyond the Retry budgets',
    seed: 8,
    async drive({ afterCalls, outage }) {
      await afterCalls(calls(4));
      return outage('dynamo', 'until a run ended');
    },
    bitten: (e) => Math.min(e.storageErrors, e.closedByCaller),
  },
];

interface Row {
  case: string;
  evidence: Evidence;
  completed: number;
  failed: number;
  failedByCaller: number;
  nonTerminal: number;
  duplicateCreates: number;
  wrongOutcomes: string[];
  unverifiableBundles: number;
  canaryHits: number;
  /** Items the canary scan saw, by source (log lines, execution event logs, events, status documents…). */
  scanned: Record<string, number>;
  /** Qualtrics API calls the steps sent during the DynamoDB outage, and those not admitted before it. */
  callsDuringOutage?: number;
  unadmittedCallsDuringOutage?: number;
  redriven: number;
  redriveCompleted: number;
  redriveFailedByDesign: number;
  redriveFailedOtherwise: string[];
  failedWithoutReason: number;
  /** Error codes of the requests FAILED after the first runs, with counts. */
  failedCodes: Record<string, number>;
  canaryExamples: string[];
}

interface Planned {
  requestId: string;
  type: RequestType;
  kind: Kind;
  email: string;
}

/** The world of the suite this module runs in (a test file runs one suite). */
let w: FaultWorld;

async function runCase(c: FaultCase): Promise<Row> {
  const emails = KINDS.map((_, i) => canaryEmail(`c${c.seed}r${i}`));
  const sim = await w.newSimulator(emails, { randomSeed: 11 + c.seed, ...c.simulator });
  w.setEnv({ QDSR_QUALTRICS_TIMEOUT_MS: undefined, ...c.env });
  const scanner = new LeakScanner();
  const stopOutput = scanner.captureOutput();
  const stopEvents = scanner.subscribeEvents();
  try {
    const planned: Planned[] = [];
    for (const [i, kind] of KINDS.entries()) {
      const type: RequestType = kind === 'access' ? 'access' : 'deletion';
      const { record } = await w.store.create({
        source: 'api',
        type,
        email: emails[i]!,
        ...(type === 'deletion' ? { dryRun: kind === 'dry run' } : {}),
      });
      planned.push({ requestId: record.requestId, type, kind, email: emails[i]! });
    }

    // First runs, all at once, with the fault armed (and driven while they run).
    const callsAtStart = w.apiCalls.length;
    let running = planned.length;
    const ended = new Set<string>();
    const afterCalls = async (n: number) => {
      while (w.apiCalls.length - callsAtStart < n && running > 0) await sleep(5);
    };
    const outage = async (which: 'dynamo' | 's3', length: number | 'until a run ended'): Promise<Outage> => {
      const proxy = which === 'dynamo' ? w.dynamo : w.s3;
      const start = w.tick();
      const startedAt = Date.now();
      proxy.down();
      const inFlight = planned.length - ended.size;
      if (length === 'until a run ended') while (ended.size === 0) await sleep(5);
      else await sleep(length);
      const end = w.tick();
      proxy.up();
      return { start, end, ms: Date.now() - startedAt, inFlight };
    };
    c.arm?.(sim);
    const driving = c.drive?.({ w, sim, afterCalls, outage });
    const firstRuns = await Promise.all(
      planned.map(async (p) => {
        const run = await runOnce(p);
        ended.add(p.requestId);
        running--;
        return run;
      }),
    );
    const outageSeen = await driving;
    const calls = w.apiCalls.slice(callsAtStart);
    const counters = sim.counters();

    // The caller's part (as `runToEnd` does): an execution that ended outside its Catch leaves
    // its request FAILED with the execution's error. Then the checks.
    let failedByCaller = 0;
    const records = new Map<string, RequestRecord>();
    for (const [i, p] of planned.entries()) {
      const run = firstRuns[i];
      const { record, marked } = await settle(p, run);
      if (marked) failedByCaller++;
      records.set(p.requestId, record);
      scanRun(scanner, run);
    }
    const evidence: Evidence = {
      status5xx: sum(counters.byEndpoint, 'status5xx'),
      status429: sum(counters.byEndpoint, 'status429'),
      status401: sum(counters.byEndpoint, 'status4xx'),
      tokensIssued: counters.tokensIssued,
      timeouts: firstRuns.reduce((n, r) => n + countFailures(r, /no response from Qualtrics within/), 0),
      storageErrors: firstRuns.reduce(
        (n, r) => n + countFailures(r, /Storage\.Unavailable|RateLimiter\.Unavailable/),
        0,
      ),
      retries: firstRuns.reduce(
        (n, r) => n + (r?.events.filter((e) => e.type === 'StateRetried').length ?? 0),
        0,
      ),
      jobFailures: {
        access: jobFailuresOf(records, 'access'),
        deletion: jobFailuresOf(records, 'deletion'),
      },
      closedByCaller: failedByCaller,
      ...(outageSeen ? { outage: outageSeen } : {}),
    };
    const first = await check(planned, records, sim, scanner);

    let callsDuringOutage: number | undefined;
    let unadmittedCallsDuringOutage: number | undefined;
    if (outageSeen && c.name.startsWith('DynamoDB')) {
      const during = calls.filter((call) => call.at > outageSeen.start && call.at < outageSeen.end);
      callsDuringOutage = during.length;
      unadmittedCallsDuringOutage = unadmitted(during, outageSeen.start).length;
    }

    // Redrive every FAILED request with the fault cleared.
    sim.faults.clear();
    sim.setOptions({ failCustomerDataJobs: false, failErasures: false });
    w.setEnv({ QDSR_QUALTRICS_TIMEOUT_MS: undefined });
    const failed = planned.filter((p) => records.get(p.requestId)?.status === 'FAILED');
    const redriveCodes = new Map<string, string>();
    const redriveRuns = await Promise.all(
      failed.map(async (p) => {
        await w.store.reopenForRetry(p.requestId);
        return runOnce(p);
      }),
    );
    for (const [i, p] of failed.entries()) {
      const { record } = await settle(p, redriveRuns[i]);
      records.set(p.requestId, record);
      redriveCodes.set(p.requestId, record.error?.code ?? '');
      scanRun(scanner, redriveRuns[i]);
    }
    const after = await check(planned, records, sim, scanner);
    const redriveFailed = failed.filter((p) => records.get(p.requestId)?.status === 'FAILED');
    const byDesign = redriveFailed.filter((p) => REDRIVE_CANNOT_FIX.has(redriveCodes.get(p.requestId) ?? ''));

    return {
      case: c.name,
      evidence,
      completed: first.completed,
      failed: first.failed,
      failedByCaller,
      nonTerminal: first.nonTerminal + after.nonTerminal,
      duplicateCreates: after.duplicateCreates,
      wrongOutcomes: [...first.wrong, ...after.wrong],
      unverifiableBundles: first.unverifiable + after.unverifiable,
      canaryHits: scanner.count(),
      scanned: { ...scanner.scanned },
      callsDuringOutage,
      unadmittedCallsDuringOutage,
      redriven: failed.length,
      redriveCompleted: failed.length - redriveFailed.length,
      redriveFailedByDesign: byDesign.length,
      redriveFailedOtherwise: redriveFailed
        .filter((p) => !byDesign.includes(p))
        .map((p) => `${p.kind}: ${redriveCodes.get(p.requestId)}`),
      failedWithoutReason: first.withoutReason + after.withoutReason,
      failedCodes: first.codes,
      canaryExamples: scanner.hits.slice(0, 5).map((h) => `${h.source}: ${h.what}: ${h.excerpt}`),
    };
  } finally {
    stopEvents();
    stopOutput();
  }
}

async function runOnce(p: Planned): Promise<WorkflowRun | undefined> {
  try {
    return await runWorkflow({
      type: p.type,
      requestId: p.requestId,
      waitScale: SCALE,
      handlers: w.handlers,
    });
  } catch {
    // The engine itself failed: the caller marks the request (settle).
    return undefined;
  }
}

/** The caller's safety net: a request its execution left open is marked FAILED with the execution's error. */
async function settle(
  p: Planned,
  run: WorkflowRun | undefined,
): Promise<{ record: RequestRecord; marked: boolean }> {
  const record = await w.store.get(p.requestId);
  if (!record) throw new Error(`request ${p.requestId} vanished`);
  if (isTerminalStatus(record.status)) return { record, marked: false };
  if (run?.status === 'SUCCEEDED') return { record, marked: false }; // counted as non-terminal below
  const name = run?.error?.Error ?? 'Execution.Failed';
  const marked = await w.store.fail(p.requestId, {
    code: errorCode(name),
    message: `the workflow execution failed (${name})`,
  });
  return { record: marked, marked: true };
}

function scanRun(scanner: LeakScanner, run: WorkflowRun | undefined): void {
  if (!run) return;
  scanner.scan('execution events', run.events);
  scanner.scan('execution output', run.output);
  scanner.scan('error', run.error);
}

interface Checked {
  completed: number;
  failed: number;
  nonTerminal: number;
  withoutReason: number;
  duplicateCreates: number;
  unverifiable: number;
  wrong: string[];
  codes: Record<string, number>;
}

async function check(
  planned: Planned[],
  records: Map<string, RequestRecord>,
  sim: Simulator,
  scanner: LeakScanner,
): Promise<Checked> {
  const out: Checked = {
    completed: 0,
    failed: 0,
    nonTerminal: 0,
    withoutReason: 0,
    duplicateCreates: 0,
    unverifiable: 0,
    wrong: [],
    codes: {},
  };
  const bySubject = sim.counters().bySubject;
  for (const p of planned) {
    const record = records.get(p.requestId)!;
    // What the API and `status` show of it: never a canary.
    scanner.scan('status document', await w.store.getStatusDocument(p.requestId));
    const creates = bySubject[emailSha256(p.email)] ?? { customerDataCreates: 0, erasureCreates: 0 };
    if (creates.customerDataCreates > 1 || creates.erasureCreates > 1) out.duplicateCreates++;
    if (record.status === 'FAILED') {
      out.failed++;
      const code = record.error?.code ?? 'none';
      out.codes[code] = (out.codes[code] ?? 0) + 1;
      if (!record.error?.code || !record.error.message) out.withoutReason++;
      continue;
    }
    if (record.status !== 'COMPLETED') {
      out.nonTerminal++;
      continue;
    }
    out.completed++;
    const left = sim.contactsWithEmail(p.email).length;
    if (p.kind === 'access') {
      if (creates.customerDataCreates !== 1)
        out.wrong.push(`access completed with ${creates.customerDataCreates} jobs`);
      if (record.counts.contactsFound !== CONTACTS_PER_SUBJECT)
        out.wrong.push(`access found ${record.counts.contactsFound} contacts`);
      const verified = await w.writer.verifyBundle(p.requestId);
      if (!verified.ok) out.unverifiable++;
    } else {
      if (creates.erasureCreates !== 1)
        out.wrong.push(`${p.kind} completed with ${creates.erasureCreates} erasures`);
      const expectedLeft = p.kind === 'dry run' ? CONTACTS_PER_SUBJECT : 0;
      if (left !== expectedLeft) out.wrong.push(`${p.kind} completed leaving ${left} contacts`);
      if (record.counts.contactsRemaining !== expectedLeft)
        out.wrong.push(`${p.kind} reports ${record.counts.contactsRemaining} contacts remaining`);
    }
  }
  return out;
}

/**
 * Fail closed: the calls sent while DynamoDB was down that the limiter did not admit. A call may
 * go out during the outage only on an admission of its own (one call per admission) asked for
 * before the outage began (its writes reached DynamoDB before it), or granted from reservations
 * alone (slots DynamoDB granted earlier; no write needed). Anything else went around the limiter.
 */
function unadmitted(during: ApiCall[], outageStart: number): ApiCall[] {
  return during.filter((call) => {
    const a = call.admission;
    return !a || !(a.askedAt < outageStart || a.byReservation);
  });
}

function jobFailuresOf(records: Map<string, RequestRecord>, type: RequestType): number {
  return [...records.values()].filter((r) => r.type === type && r.error?.code === 'QUALTRICS_JOB_FAILED')
    .length;
}

function countFailures(run: WorkflowRun | undefined, cause: RegExp): number {
  return (
    run?.events.filter((e) => e.type === 'StateFailed' && cause.test(JSON.stringify(e.error ?? ''))).length ??
    0
  );
}

function sum(byEndpoint: Record<string, EndpointCounters>, field: keyof EndpointCounters): number {
  return Object.values(byEndpoint).reduce((n, e) => n + e[field], 0);
}

function formatTable(title: string, all: Row[]): string {
  const head = [
    'case',
    'fault seen',
    'COMPLETED',
    'FAILED (codes)',
    'by caller',
    'non-terminal',
    'dup creates',
    'wrong',
    'bad bundles',
    'canary hits in items scanned',
    'calls in DDB outage (unadmitted)',
    'redriven → COMPLETED / FAILED by design / other',
  ];
  const body = all.map((r) => [
    r.case,
    faultSeen(r.evidence),
    r.completed,
    `${r.failed}${
      r.failed
        ? ` (${Object.entries(r.failedCodes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''
    }`,
    r.failedByCaller,
    r.nonTerminal,
    r.duplicateCreates,
    r.wrongOutcomes.length,
    r.unverifiableBundles,
    `${r.canaryHits} in ${Object.values(r.scanned).reduce((a, b) => a + b, 0)}`,
    r.callsDuringOutage === undefined ? '–' : `${r.callsDuringOutage} (${r.unadmittedCallsDuringOutage})`,
    `${r.redriven} → ${r.redriveCompleted} / ${r.redriveFailedByDesign} / ${r.redriveFailedOtherwise.length}`,
  ]);
  const lines = [head, ...body].map((cells) => `| ${cells.join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  return `\nFault matrix, ${title}: ${REQUESTS} concurrent requests per case (${KINDS.filter((k) => k === 'access').length} access, ${KINDS.filter((k) => k === 'deletion').length} deletion, ${KINDS.filter((k) => k === 'dry run').length} dry run)\n${lines.join('\n')}\n`;
}

function faultSeen(e: Evidence): string {
  const parts: string[] = [];
  if (e.status5xx) parts.push(`${e.status5xx}×5xx`);
  if (e.status429) parts.push(`${e.status429}×429`);
  if (e.status401) parts.push(`${e.status401}×401, ${e.tokensIssued} tokens`);
  if (e.timeouts) parts.push(`${e.timeouts} timeouts`);
  if (e.jobFailures.access) parts.push(`${e.jobFailures.access} customer-data jobs failed by Qualtrics`);
  if (e.jobFailures.deletion) parts.push(`${e.jobFailures.deletion} erasures failed by Qualtrics`);
  if (e.outage)
    parts.push(`${e.outage.ms} ms down, ${e.outage.inFlight} in flight, ${e.storageErrors} step errors`);
  parts.push(`${e.retries} retries`);
  return parts.join(', ');
}

/** One suite of the matrix: a world of its own, a test per case, and the table of outcomes. */
export function describeFaultMatrix(title: string, cases: readonly FaultCase[]): void {
  describe(`fault matrix: ${title}`, () => {
    const rows: Row[] = [];
    beforeAll(async () => {
      w = await startFaultWorld(SCALE);
    });
    afterAll(async () => {
      if (rows.length > 0) console.log(formatTable(title, rows));
      await w?.close();
    });

    for (const c of cases) {
      it(`${c.name}: every request terminal with a reason, nothing created twice, every bundle whole, no leak`, async () => {
        const row = await runCase(c);
        rows.push(row);
        expect(c.bitten(row.evidence), 'the fault actually hit the run').toBeGreaterThan(0);
        expect(row.nonTerminal).toBe(0);
        expect(row.failedWithoutReason).toBe(0);
        expect(row.duplicateCreates).toBe(0);
        expect(row.unverifiableBundles).toBe(0);
        expect(row.wrongOutcomes).toEqual([]);
        expect(row.canaryExamples).toEqual([]);
        expect(row.canaryHits).toBe(0);
        // The scan saw every kind of output there was to see.
        for (const source of ['log', 'execution events', 'event', 'status document'])
          expect(row.scanned[source] ?? 0, source).toBeGreaterThan(0);
        expect(row.redriveFailedOtherwise).toEqual([]);
        if (c.name.startsWith('DynamoDB')) expect(row.unadmittedCallsDuringOutage).toBe(0);
      }, 120_000);
    }
  });
}
