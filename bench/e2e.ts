/**
 * `npm run bench:e2e`: batches of concurrent privacy requests (half access, half deletion) run end
 * to end through the local engine (the real ASL, the real handlers, dynalite + s3rver) against the
 * Qualtrics simulator with its rate limits enforced and its clock compressed by `timeScale`, every
 * wait of the connector scaled the same way (QDSR_WAIT_SCALE = timeScale, which also compresses
 * the limiter's minute). Per batch: makespan against the lower bound Qualtrics' limits allow, 429s,
 * Qualtrics calls per request, per-request AWS usage and its cost, the poll lag, peak RSS.
 * Writes bench/results/e2e.json, e2e.svg and e2e-readme-section.md, and prints a table. Exits
 * non-zero only when it crashes: the acceptance lines are a report, not a gate.
 *
 * Every duration is in SIMULATED seconds (real seconds ÷ timeScale) unless named otherwise.
 *
 * Requests are created as the CLI creates them (the request store), then all workflows start at
 * once. Each request has its own subject (bench/e2e/subjects.ts). What a request costs is counted
 * outside product code (bench/e2e/instrument.ts): SDK middleware on the shared DynamoDB and S3
 * clients, a wrapped handler registry, and an AsyncLocalStorage context per request.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HANDLERS } from '../lambdas/catalog';
import { dynamoDocumentClient, s3Client } from '../lambdas/core/aws-clients';
import {
  API_ROOT,
  BRAND_BUCKET,
  BRAND_LIMIT_PER_MINUTE,
  bucketsFor,
  ENDPOINTS,
  type EndpointName,
  matchEndpoint,
  rateLimitBuckets,
} from '../lambdas/core/qualtrics/endpoints';
import { bucketTable } from '../lambdas/core/rate-limiter/index';
import type { RequestType } from '../lambdas/core/request-store';
import { resetWorkflowDeps, workflowDeps } from '../lambdas/core/workflow/deps';
import { POLL_MIN_SECONDS } from '../lambdas/core/workflow/wait';
import { STEP_HANDLERS } from '../lambdas/handlers';
import { startLocalAws } from '../local/aws';
import { runWorkflow, type StepHandlers, type WorkflowEvent } from '../local/engine/workflows';
import { connectorEnvFor, startSimulator } from '../local/simulator/index';
import { costUsd, figuresOf, type PerRequestFigures, PRICES } from './e2e/cost';
import {
  addUsage,
  countedHandlers,
  emptyUsage,
  instrumentDynamo,
  instrumentQualtrics,
  instrumentS3,
  type RequestUsage,
  unattributed,
  withUsage,
} from './e2e/instrument';
import { benchSubject, seedWithSubjects } from './e2e/subjects';
import { maxInSlidingWindow, percentile, round } from './lib/stats';
import { type LineChart, stackCharts } from './lib/svg-plot';
import { formatTable, markdownTable } from './lib/table';

interface BatchSettings {
  batch: number;
  /** Real time = simulated time × timeScale (the simulator, the connector's waits and its limiter). */
  timeScale: number;
}

const envNumber = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

const SETTINGS = {
  /**
   * One process runs the engine, every handler, dynalite, s3rver and the simulator on 2 cores; at
   * ×0.25 it stays mostly idle (see eventLoopUtilization), so engine delays stay small in
   * simulated time, and the whole run fits in about 6 minutes.
   */
  batches: [
    { batch: 10, timeScale: envNumber('BENCH_E2E_SCALE_10', 1) },
    { batch: 100, timeScale: envNumber('BENCH_E2E_SCALE_100', 0.5) },
    { batch: 500, timeScale: envNumber('BENCH_E2E_SCALE_500', 0.25) },
  ] as BatchSettings[],
  /** Every other request is a deletion. */
  deletionShare: 0.5,
  targetUtilization: 0.75,
  /** The simulator's defaults: a customer-data job takes 20 s, an erasure 30 s (simulated). */
  customerDataJobMs: 20_000,
  erasureJobMs: 30_000,
  customerDataFiles: 2,
  /** Plot: one point per this many simulated seconds. */
  plotStepSec: 5,
  rssSampleMs: 100,
};

const RESULTS_DIR = join(__dirname, 'results');
const POLL_STATE: Record<RequestType, string> = {
  access: 'Get customer-data job progress',
  deletion: 'Get erasure status',
};
/** The create endpoint of each kind of Qualtrics job, for the paced bound. */
const CREATE_OF: Record<RequestType, EndpointName> = {
  access: 'createCustomerDataRequest',
  deletion: 'createErasureRequest',
};

interface RequestRun {
  type: RequestType;
  requestId: string;
  usage: RequestUsage;
  status?: 'SUCCEEDED' | 'FAILED';
  recordStatus?: string;
  endedAt?: number;
  /** StateEntered events: what Step Functions bills as state transitions. */
  transitions: number;
  /** The poll that first saw the Qualtrics job complete: when, and which job. */
  sawComplete?: { at: number; jobId: string };
  /** Only with BENCH_E2E_TRACE. */
  trace?: Array<[number, string]>;
}

interface TypeFigures extends PerRequestFigures {
  costPer1000RequestsUsd: number;
  costBreakdownPer1000Usd: { stepFunctions: number; lambda: number; dynamoDb: number; s3: number };
}

interface LagStats {
  p50: number | null;
  p95: number | null;
  n: number;
}

export interface BatchResult {
  batch: number;
  accessCount: number;
  deletionCount: number;
  timeScale: number;
  completed: number;
  failed: number;
  makespanSec: number;
  /** max(calls in a bucket ÷ its Qualtrics limit at 100 %, over every bucket; the longest job). */
  lowerBoundSec: number;
  boundRatio: number;
  bindingBucket: string;
  /**
   * Supplementary: the same bound for a connector held to the target utilization, burst included
   * (every bucket's calls at 75 % of its limit; the last job of a kind cannot be created before its
   * create bucket's pacing allows, then runs its full duration). boundRatio ÷ pacedRatio is what
   * the 75 % margin costs; pacedRatio is what is left: engine, polling and ramp-up.
   */
  pacedBoundSec: number;
  pacedRatio: number;
  status429: number;
  /** The most calls any bucket admitted in one sliding limit window, ÷ its limit. */
  maxWindowRatio: number;
  maxWindowBucket: string;
  /** When that window ended (its last call), since the batch started. */
  maxWindowEndSec: number;
  /**
   * The same by the instant the connector sent each call (429s included). Above maxWindowRatio
   * only by what the shared event loop bunched up between sending and the simulator's clock.
   */
  maxWindowRatioAsSent: number;
  maxWindowBucketAsSent: string;
  buckets: Array<{ bucket: string; calls: number; limitPerMinute: number; boundSec: number }>;
  longestJobSec: number;
  qualtricsCallsPerRequest: { access: Record<string, number>; deletion: Record<string, number> };
  /** Per request, averaged over the requests of each type. */
  perRequest: { access: TypeFigures | null; deletion: TypeFigures | null };
  costPer1000RequestsUsd: { access: number | null; deletion: number | null };
  pollLagSec: { access: LagStats; deletion: LagStats; all: LagStats };
  /** The acceptance target: 10 % of the job duration + one minimum poll interval, per type. */
  pollLagTargetSec: { access: number; deletion: number };
  peakRssMb: number;
  /**
   * Engine health: the share of real time the process (engine, handlers, dynalite, s3rver and the
   * simulator, all in one) was busy, and its event-loop delay. A busy process delays every step,
   * which compressed time magnifies.
   */
  eventLoopUtilization: number;
  eventLoopDelayP99Ms: number;
  realSeconds: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The most events in any window `(t − windowMs, t]`, and the `t` (an event time) where that is. */
function windowPeak(times: readonly number[], windowMs: number): { count: number; endAt: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, endAt: sorted[0] ?? 0 };
  for (let end = 0, start = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - windowMs) start++;
    if (end - start + 1 > best.count) best = { count: end - start + 1, endAt: sorted[end]! };
  }
  return best;
}

/** Bucket name → its Qualtrics limit per minute (the endpoint table), brand included. */
function bucketLimits(): Map<string, number> {
  const m = new Map<string, number>([[BRAND_BUCKET, BRAND_LIMIT_PER_MINUTE]]);
  for (const b of rateLimitBuckets()) m.set(b.bucket, b.limitPerMinute);
  return m;
}

function endpointOfUrl(method: string, url: URL): string {
  if (url.pathname.startsWith(API_ROOT)) {
    return matchEndpoint(method, url.pathname.slice(API_ROOT.length), true)?.name ?? 'unknown';
  }
  return matchEndpoint(method, url.pathname, false)?.name ?? 'unknown';
}

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** What one run's events say, kept instead of the events (500 runs of events would dominate RSS). */
function digest(r: RequestRun, events: WorkflowEvent[], traceFrom?: number, scale = 1): void {
  r.transitions = events.filter((e) => e.type === 'StateEntered').length;
  const seen = events.find((e) => {
    if (e.type !== 'StateExited' || e.state !== POLL_STATE[r.type]) return false;
    const o = e.output as { job?: { status?: string }; erasure?: { status?: string } } | undefined;
    return (r.type === 'access' ? o?.job?.status : o?.erasure?.status) === 'complete';
  });
  if (seen) {
    const o = seen.output as {
      job?: { customerDataRequestId?: string };
      erasure?: { erasureRequestId?: string };
    };
    const jobId = r.type === 'access' ? o.job?.customerDataRequestId : o.erasure?.erasureRequestId;
    if (jobId) r.sawComplete = { at: seen.at, jobId };
  }
  if (traceFrom !== undefined) {
    r.trace = events
      .filter((e) => e.type === 'StateEntered')
      .map((e) => [round((e.at - traceFrom) / scale / 1000, 2)!, e.state ?? '']);
  }
}

async function runBatch(s: BatchSettings): Promise<{ result: BatchResult; plot: LineChart }> {
  const began = Date.now();
  const scale = s.timeScale;
  const aws = await startLocalAws();
  aws.applyEnv();
  const sim = await startSimulator({
    timeScale: scale,
    enforceRateLimits: true,
    retryAfter: true,
    seed: seedWithSubjects(s.batch),
    customerDataJobMs: SETTINGS.customerDataJobMs,
    erasureJobMs: SETTINGS.erasureJobMs,
    customerDataFiles: SETTINGS.customerDataFiles,
  });
  setEnv({
    ...connectorEnvFor(sim.url),
    QDSR_WAIT_SCALE: String(scale),
    QDSR_TARGET_UTILIZATION: String(SETTINGS.targetUtilization),
    QDSR_EVENT_BUS: undefined,
    QDSR_DELETION_DONE: undefined,
  });
  resetWorkflowDeps();
  instrumentDynamo(dynamoDocumentClient());
  instrumentS3(s3Client());
  const sent: Array<{ at: number; endpoint: string }> = [];
  const undoFetch = instrumentQualtrics(sim.url, PRICES.assumedQualtricsLatencyMs, endpointOfUrl, sent);
  const handlers = countedHandlers(STEP_HANDLERS as StepHandlers);
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, SETTINGS.rssSampleMs);

  try {
    const deps = workflowDeps();
    const everyOther = Math.round(1 / SETTINGS.deletionShare);
    const runs: RequestRun[] = [];
    // Intake as the CLI does it (and the API Lambda in AWS): the request record, counted as one invocation.
    const apiMemoryGb = HANDLERS.api.memoryMb / 1024;
    for (let i = 0; i < s.batch; i++) {
      const type: RequestType = i % everyOther === everyOther - 1 ? 'deletion' : 'access';
      const usage = emptyUsage();
      const t = performance.now();
      const { record } = await withUsage(usage, () => deps.store.create({ type, email: benchSubject(i) }));
      const ms = Math.max(1, Math.ceil(performance.now() - t));
      usage.invocations.api = 1;
      usage.handlerMs += ms;
      usage.gbSeconds += (ms / 1000) * apiMemoryGb;
      runs.push({ type, requestId: record.requestId, usage, transitions: 0 });
    }
    sim.resetCounters();
    const accessCount = runs.filter((r) => r.type === 'access').length;
    const deletionCount = runs.length - accessCount;
    process.stderr.write(
      `bench:e2e batch ${s.batch}: ${accessCount} access + ${deletionCount} deletion, time ×${scale}…\n`,
    );

    const t0 = Date.now();
    const elu0 = performance.eventLoopUtilization();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    let done = 0;
    const progress = setInterval(() => {
      const real = (Date.now() - t0) / 1000;
      process.stderr.write(
        `  ${real.toFixed(0)} s real, ${(real / scale).toFixed(0)} s simulated: ${done}/${s.batch} done\n`,
      );
    }, 30_000);
    const traceFrom = process.env.BENCH_E2E_TRACE ? t0 : undefined;
    try {
      await Promise.all(
        runs.map((r) =>
          withUsage(r.usage, async () => {
            const run = await runWorkflow({
              type: r.type,
              requestId: r.requestId,
              waitScale: scale,
              handlers,
            });
            r.endedAt = Date.now();
            r.status = run.status;
            digest(r, run.events, traceFrom, scale);
            done++;
          }),
        ),
      );
    } finally {
      clearInterval(progress);
    }
    const t1 = Math.max(...runs.map((r) => r.endedAt ?? t0));
    loopDelay.disable();
    const engine = {
      eventLoopUtilization: round(performance.eventLoopUtilization(elu0).utilization, 3)!,
      eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 1)!,
    };
    // The final status, outside every request's count (the CLI's own read, not the workflow's).
    const scratch = emptyUsage();
    for (const r of runs) {
      r.recordStatus = (await withUsage(scratch, () => deps.store.get(r.requestId)))?.status;
    }

    // --- Qualtrics: calls per bucket, the bound, 429s, windows ---
    const counters = sim.counters();
    const limits = bucketLimits();
    const timesByBucket = new Map<string, number[]>();
    for (const entry of counters.log) {
      if (entry.status === 429) continue;
      for (const b of bucketsFor(entry.endpoint as EndpointName)) {
        const times = timesByBucket.get(b.bucket) ?? [];
        times.push(entry.at);
        timesByBucket.set(b.bucket, times);
      }
    }
    const buckets = [...timesByBucket]
      .map(([bucket, times]) => {
        const limitPerMinute = limits.get(bucket) ?? Number.POSITIVE_INFINITY;
        const calls = times.length;
        return { bucket, calls, limitPerMinute, boundSec: round((calls / limitPerMinute) * 60, 2)! };
      })
      .sort((a, b) => b.boundSec - a.boundSec);
    const windows = buckets
      .map((b) => {
        const peak = windowPeak(timesByBucket.get(b.bucket) ?? [], 60_000 * scale);
        return { bucket: b.bucket, ratio: peak.count / b.limitPerMinute, endAt: peak.endAt };
      })
      .sort((a, b) => b.ratio - a.ratio);
    const status429 = Object.values(counters.byEndpoint).reduce((n, e) => n + e.status429, 0);
    // The same windows by when the connector sent each call: what the limiter paced, before the
    // one shared event loop (engine, simulator and all) delivered it.
    const sentByBucket = new Map<string, number[]>();
    for (const e of sent) {
      if (e.endpoint === 'token' || e.endpoint === 'unknown') continue;
      for (const b of bucketsFor(e.endpoint as EndpointName)) {
        const times = sentByBucket.get(b.bucket) ?? [];
        times.push(e.at);
        sentByBucket.set(b.bucket, times);
      }
    }
    const sentWindows = [...sentByBucket]
      .map(([bucket, times]) => ({
        bucket,
        ratio: maxInSlidingWindow(times, 60_000 * scale) / (limits.get(bucket) ?? Number.POSITIVE_INFINITY),
      }))
      .sort((a, b) => b.ratio - a.ratio);

    const jobs = sim.customerDataJobs();
    const erasures = sim.erasures();
    const durationSec = (j: { createdAt: number; completedAt?: number }) =>
      j.completedAt === undefined ? 0 : (j.completedAt - j.createdAt) / scale / 1000;
    const longestOf = {
      access: Math.max(0, ...jobs.map(durationSec)),
      deletion: Math.max(0, ...erasures.map(durationSec)),
    };
    const longestJobSec = round(Math.max(longestOf.access, longestOf.deletion), 2)!;
    const top = buckets[0];
    const lowerBoundSec = Math.max(top?.boundSec ?? 0, longestJobSec);
    const makespanSec = round((t1 - t0) / scale / 1000, 2)!;

    // The paced bound (see BatchResult.pacedBoundSec).
    const plans = new Map(
      bucketTable({ targetUtilization: SETTINGS.targetUtilization }).map((b) => [b.bucket, b]),
    );
    const pacedRate = Math.max(0, ...buckets.map((b) => b.boundSec / SETTINGS.targetUtilization));
    const pacedChain = (['access', 'deletion'] as const).map((type) => {
      const plan = plans.get(ENDPOINTS[CREATE_OF[type]].bucket ?? '');
      const creates = counters.byEndpoint[CREATE_OF[type]]?.requests ?? 0;
      if (!plan || creates === 0) return 0;
      return (Math.max(0, creates - plan.burst) * plan.emissionMs) / 1000 + longestOf[type];
    });
    const pacedBoundSec = round(Math.max(pacedRate, ...pacedChain, longestJobSec), 2)!;

    // --- Poll lag: Qualtrics marks the job complete → the poll that saw it ---
    const completedAt = new Map<string, number>();
    for (const j of [...jobs, ...erasures])
      if (j.completedAt !== undefined) completedAt.set(j.id, j.completedAt);
    const lags: Record<RequestType, number[]> = { access: [], deletion: [] };
    for (const r of runs) {
      const at = r.sawComplete ? completedAt.get(r.sawComplete.jobId) : undefined;
      if (r.sawComplete && at !== undefined) lags[r.type].push((r.sawComplete.at - at) / scale / 1000);
    }
    const lagStats = (v: number[]): LagStats => ({
      p50: round(percentile(v, 0.5), 2),
      p95: round(percentile(v, 0.95), 2),
      n: v.length,
    });

    // --- Per request: AWS usage and cost ---
    const perType = (type: RequestType): { figures: TypeFigures | null; calls: Record<string, number> } => {
      const of = runs.filter((r) => r.type === type);
      if (of.length === 0) return { figures: null, calls: {} };
      const total = emptyUsage();
      let transitions = 0;
      for (const r of of) {
        addUsage(total, r.usage);
        transitions += r.transitions;
      }
      const f = figuresOf(total, transitions);
      const avg = Object.fromEntries(
        Object.entries(f).map(([k, v]) => [k, round(v / of.length, 3)!]),
      ) as unknown as PerRequestFigures;
      const cost = costUsd(f);
      const per1000 = (usd: number) => round((usd / of.length) * 1000, 4)!;
      const calls = Object.fromEntries(
        Object.entries(total.qualtrics)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, round(v / of.length, 3)!]),
      );
      return {
        figures: {
          ...avg,
          costPer1000RequestsUsd: per1000(cost.total),
          costBreakdownPer1000Usd: {
            stepFunctions: per1000(cost.stepFunctions),
            lambda: per1000(cost.lambda),
            dynamoDb: per1000(cost.dynamoDb),
            s3: per1000(cost.s3),
          },
        },
        calls,
      };
    };
    const access = perType('access');
    const deletion = perType('deletion');

    const result: BatchResult = {
      batch: s.batch,
      accessCount,
      deletionCount,
      timeScale: scale,
      completed: runs.filter((r) => r.status === 'SUCCEEDED' && r.recordStatus === 'COMPLETED').length,
      failed: runs.filter((r) => r.status !== 'SUCCEEDED' || r.recordStatus !== 'COMPLETED').length,
      makespanSec,
      lowerBoundSec,
      boundRatio: round(makespanSec / lowerBoundSec, 3)!,
      bindingBucket: (top?.boundSec ?? 0) > longestJobSec ? (top?.bucket ?? '–') : 'longest job',
      pacedBoundSec,
      pacedRatio: round(makespanSec / pacedBoundSec, 3)!,
      status429,
      maxWindowRatio: round(windows[0]?.ratio ?? 0, 3)!,
      maxWindowBucket: windows[0]?.bucket ?? '–',
      maxWindowEndSec: round(((windows[0]?.endAt ?? t0) - t0) / scale / 1000, 1)!,
      maxWindowRatioAsSent: round(sentWindows[0]?.ratio ?? 0, 3)!,
      maxWindowBucketAsSent: sentWindows[0]?.bucket ?? '–',
      buckets,
      longestJobSec,
      qualtricsCallsPerRequest: { access: access.calls, deletion: deletion.calls },
      perRequest: { access: access.figures, deletion: deletion.figures },
      costPer1000RequestsUsd: {
        access: access.figures?.costPer1000RequestsUsd ?? null,
        deletion: deletion.figures?.costPer1000RequestsUsd ?? null,
      },
      pollLagSec: {
        access: lagStats(lags.access),
        deletion: lagStats(lags.deletion),
        all: lagStats([...lags.access, ...lags.deletion]),
      },
      pollLagTargetSec: {
        access: (0.1 * SETTINGS.customerDataJobMs) / 1000 + POLL_MIN_SECONDS,
        deletion: (0.1 * SETTINGS.erasureJobMs) / 1000 + POLL_MIN_SECONDS,
      },
      peakRssMb: round(peakRss / 1024 / 1024, 1)!,
      ...engine,
      realSeconds: round((Date.now() - began) / 1000, 1)!,
    };
    if (Object.keys(unattributed.ddbOps).length + Object.keys(unattributed.qualtrics).length > 0) {
      process.stderr.write(
        `  note: calls outside every request: ${JSON.stringify({ ddb: unattributed.ddbOps, qualtrics: unattributed.qualtrics })}\n`,
      );
    }
    if (process.env.BENCH_E2E_TRACE) {
      // Debugging aid: every admitted call and every state entered, in simulated seconds.
      const simSec = (t: number) => round((t - t0) / scale / 1000, 2);
      await writeFile(
        `${process.env.BENCH_E2E_TRACE}.${s.batch}.json`,
        JSON.stringify({
          calls: counters.log.map((e) => [simSec(e.at), e.endpoint, e.status]),
          jobs: [...jobs, ...erasures].map((j) => [
            j.id,
            simSec(j.createdAt),
            j.completedAt && simSec(j.completedAt),
          ]),
          runs: runs.map((r) => ({ type: r.type, states: r.trace })),
        }),
      );
    }
    return { result, plot: plotOf(result, timesByBucket, limits, t0, t1, scale) };
  } finally {
    clearInterval(rssTimer);
    undoFetch();
    resetWorkflowDeps();
    await sim.close();
    await aws.close();
  }
}

/** Bucket names short enough for the plot's legend, and one colour per bucket in every chart. */
const SHORT_NAMES: Record<string, [string, string]> = {
  createErasureRequest: ['erasure create', '#ff7f0e'],
  getErasureRequest: ['erasure poll', '#1f77b4'],
  listErasureRequests: ['erasure list', '#17becf'],
  createCustomerDataRequest: ['data job create', '#8c564b'],
  getCustomerDataRequest: ['data job poll', '#9467bd'],
  downloadCustomerDataFile: ['file download', '#2ca02c'],
  searchDirectoryContacts: ['contact search', '#d62728'],
  getDirectoryContact: ['contact get', '#e377c2'],
  listDirectories: ['directory list', '#bcbd22'],
};

/** Calls in the trailing simulated minute ÷ the bucket's Qualtrics limit, over simulated time. */
function plotOf(
  r: BatchResult,
  timesByBucket: Map<string, number[]>,
  limits: Map<string, number>,
  t0: number,
  t1: number,
  scale: number,
): LineChart {
  const windowMs = 60_000 * scale;
  const stepMs = SETTINGS.plotStepSec * 1000 * scale;
  const series = r.buckets
    .filter((b) => b.bucket !== BRAND_BUCKET)
    .slice(0, 6)
    .map((b) => {
      const times = [...(timesByBucket.get(b.bucket) ?? [])].sort((x, y) => x - y);
      const limit = limits.get(b.bucket) ?? 1;
      const points: Array<[number, number]> = [];
      let lo = 0;
      let hi = 0;
      for (let t = t0; t <= t1 + stepMs; t += stepMs) {
        while (hi < times.length && times[hi]! <= t) hi++;
        while (lo < hi && times[lo]! <= t - windowMs) lo++;
        points.push([round((t - t0) / scale / 60_000, 3)!, round((hi - lo) / limit, 3)!]);
      }
      return {
        name: `${SHORT_NAMES[b.bucket]?.[0] ?? b.bucket} ${b.limitPerMinute}/m`,
        color: SHORT_NAMES[b.bucket]?.[1] ?? '#777777',
        points,
      };
    });
  return {
    title: `batch ${r.batch} (${r.accessCount} access + ${r.deletionCount} deletion): calls in the last minute ÷ Qualtrics' limit`,
    xLabel: 'simulated minutes since the batch started',
    yLabel: 'share of the limit',
    series,
    width: 1000,
    yMax: 1.1,
    referenceLines: [
      { y: 1, label: 'Qualtrics limit', color: '#d62728', dash: '8 4' },
      {
        y: SETTINGS.targetUtilization,
        label: `target (× ${SETTINGS.targetUtilization})`,
        color: '#2ca02c',
        dash: '3 3',
      },
    ],
  };
}

const COLUMNS = [
  { key: 'batch' },
  { key: 'accessCount', title: 'access' },
  { key: 'deletionCount', title: 'deletion' },
  { key: 'timeScale', title: 'time ×' },
  { key: 'failed' },
  { key: 'makespanSec' },
  { key: 'lowerBoundSec' },
  { key: 'boundRatio' },
  { key: 'bindingBucket', title: 'binding bucket' },
  { key: 'pacedRatio' },
  { key: 'status429' },
  { key: 'maxWindowRatio' },
  { key: 'costAccess', title: 'access $/1000' },
  { key: 'costDeletion', title: 'deletion $/1000' },
  { key: 'lagAccess', title: 'access lag p50/p95' },
  { key: 'lagDeletion', title: 'deletion lag p50/p95' },
  { key: 'peakRssMb' },
  { key: 'eventLoopUtilization', title: 'busy' },
  { key: 'realSeconds', title: 'real s' },
];

function tableRows(results: BatchResult[]): Record<string, unknown>[] {
  const lag = (l: LagStats) => `${l.p50 ?? '–'} / ${l.p95 ?? '–'}`;
  return results.map((r) => ({
    ...r,
    costAccess: r.costPer1000RequestsUsd.access,
    costDeletion: r.costPer1000RequestsUsd.deletion,
    lagAccess: lag(r.pollLagSec.access),
    lagDeletion: lag(r.pollLagSec.deletion),
  }));
}

function acceptance(results: BatchResult[]): string[] {
  const misses: string[] = [];
  for (const r of results) {
    const at = `batch ${r.batch}`;
    if (r.failed > 0) misses.push(`${at}: ${r.failed} request(s) did not complete`);
    if (r.status429 !== 0) misses.push(`${at}: status429 ${r.status429} ≠ 0`);
    if (r.boundRatio > 1.45) misses.push(`${at}: boundRatio ${r.boundRatio} > 1.45`);
    if ((r.costPer1000RequestsUsd.access ?? 0) > 2) {
      misses.push(`${at}: access cost $${r.costPer1000RequestsUsd.access} per 1000 > $2.00`);
    }
    for (const type of ['access', 'deletion'] as const) {
      const p95 = r.pollLagSec[type].p95;
      if (p95 !== null && p95 > r.pollLagTargetSec[type]) {
        misses.push(`${at}: ${type} pollLag p95 ${p95} s > ${r.pollLagTargetSec[type]} s`);
      }
    }
  }
  return misses;
}

/** The README "Performance" section: the command, the table, per-request figures, the plot. */
function readmeSection(
  results: BatchResult[],
  header: { node: string; cpus: number; totalSeconds: number },
): string {
  const rows = results.map((r) => ({
    batch: r.batch,
    mix: `${r.accessCount} + ${r.deletionCount}`,
    scale: r.timeScale,
    makespan: Math.round(r.makespanSec),
    bound: Math.round(r.lowerBoundSec),
    ratio: r.boundRatio,
    binding: r.bindingBucket,
    paced: r.pacedRatio,
    s429: r.status429,
    window: r.maxWindowRatio,
    costA: round(r.costPer1000RequestsUsd.access ?? undefined, 2),
    costD: round(r.costPer1000RequestsUsd.deletion ?? undefined, 2),
    lagA: `${r.pollLagSec.access.p50 ?? '–'} / ${r.pollLagSec.access.p95 ?? '–'}`,
    lagD: `${r.pollLagSec.deletion.p50 ?? '–'} / ${r.pollLagSec.deletion.p95 ?? '–'}`,
    rss: Math.round(r.peakRssMb),
  }));
  const largest = results.at(-1);
  const perRequest = largest
    ? (['access', 'deletion'] as const).flatMap((type) => {
        const f = largest.perRequest[type];
        if (!f) return [];
        const calls = Object.entries(largest.qualtricsCallsPerRequest[type])
          .filter(([k]) => k !== 'token')
          .map(([k, v]) => `${k} ${round(v, 2)}`)
          .join(', ');
        return [
          {
            type,
            transitions: round(f.stateTransitions, 1),
            invocations: round(f.lambdaInvocations, 1),
            gbs: round(f.lambdaGbSeconds, 1),
            writes: `${round(f.dynamoDbWrites, 1)} (${round(f.dynamoDbWriteUnits, 1)} WRU)`,
            reads: round(f.dynamoDbReads, 1),
            puts: round(f.s3Puts, 1),
            cost: round(f.costPer1000RequestsUsd, 2),
            split: (['stepFunctions', 'lambda', 'dynamoDb', 's3'] as const)
              .map((k) => round(f.costBreakdownPer1000Usd[k], 3))
              .join(' / '),
            calls,
          },
        ];
      })
    : [];
  const misses = acceptance(results);
  const lagTargets = results[0]?.pollLagTargetSec;
  return `## Performance

\`npm run bench:e2e\` runs batches of 10, 100 and 500 concurrent privacy requests, half access and
half deletion, each for its own subject, end to end: the real state machines in the local engine,
the real handlers, DynamoDB (dynalite) and S3 (s3rver), against the Qualtrics simulator with its
rate limits enforced (a customer-data job takes 20 s, an erasure 30 s). Time is compressed: the
simulator's clock, every wait of the connector and the limiter's minute run \`time ×\` as long, and
every duration below is in simulated seconds. One process does it all (Node ${header.node}, ${header.cpus} CPUs);
the whole run took ${Math.round(header.totalSeconds)} s.

${markdownTable(rows, [
  { key: 'batch' },
  { key: 'mix', title: 'access + deletion' },
  { key: 'scale', title: 'time ×' },
  { key: 'makespan', title: 'makespan s' },
  { key: 'bound', title: 'lower bound s' },
  { key: 'ratio', title: 'boundRatio' },
  { key: 'binding', title: 'binding bucket' },
  { key: 'paced', title: 'pacedRatio' },
  { key: 's429', title: '429s' },
  { key: 'window', title: 'max window ÷ limit' },
  { key: 'costA', title: 'access $/1000' },
  { key: 'costD', title: 'deletion $/1000' },
  { key: 'lagA', title: 'access poll lag p50 / p95 s' },
  { key: 'lagD', title: 'deletion poll lag p50 / p95 s' },
  { key: 'rss', title: 'peak RSS MB' },
])}

- **lower bound**: no connector can finish sooner than the calls it made in a rate-limit bucket
  divided by Qualtrics' limit for that bucket (at 100 %), nor sooner than the longest Qualtrics job;
  \`boundRatio\` = makespan ÷ that. Running at 75 % of every limit alone makes it 1.33.
  \`pacedRatio\` divides by the same bound for a connector held to 75 % (and to the limiter's burst):
  the last erasure of a batch cannot be created before 4 s × the erasures ahead of it beyond the burst, and then takes
  30 s. What \`pacedRatio\` shows above 1 is engine, polling and ramp-up.
- **max window ÷ limit**: the most calls Qualtrics (the simulator) admitted in any sliding minute of
  one bucket, over its limit. ${windowNote(results)}
- **cost** per 1,000 requests, Qualtrics excluded, from what each request used and public
  us-east-1 prices: Step Functions Standard $0.025 per 1,000 state transitions, Lambda $0.20 per
  million requests plus $0.0000166667 per GB-second at the catalog memory (the measured handler time
  plus ${PRICES.assumedQualtricsLatencyMs} ms per Qualtrics call for a real tenant's latency), DynamoDB on-demand $0.625 per
  million write and $0.125 per million read request units, S3 $0.005 per 1,000 PUT/COPY/LIST and
  $0.0004 per 1,000 GET.
- **poll lag**: from the simulator marking a job complete to the poll that saw it. The target is 10 %
  of the job duration plus one minimum poll interval (${lagTargets?.access} s for access, ${lagTargets?.deletion} s for deletion).

Per request, batch ${largest?.batch}:

${markdownTable(perRequest, [
  { key: 'type' },
  { key: 'transitions', title: 'state transitions' },
  { key: 'invocations', title: 'Lambda invocations' },
  { key: 'gbs', title: 'Lambda GB-s' },
  { key: 'writes', title: 'DynamoDB writes' },
  { key: 'reads', title: 'DynamoDB reads' },
  { key: 'puts', title: 'S3 puts' },
  { key: 'cost', title: '$/1000' },
  { key: 'split', title: 'SFN / Lambda / DynamoDB / S3' },
  { key: 'calls', title: 'Qualtrics calls' },
])}

Plot: [bench/results/e2e.svg](bench/results/e2e.svg), for each batch the calls of the busiest
buckets in the last simulated minute as a share of Qualtrics' limit. Raw figures:
\`bench/results/e2e.json\`.
${
  misses.length === 0
    ? '\nEvery batch met every target (no 429, boundRatio ≤ 1.45, access ≤ $2.00 per 1,000, poll lag p95 within its target).\n'
    : `\nTargets missed in this run:\n\n${misses.map((m) => `- ${m}`).join('\n')}\n${whyMissed(results)}`
}`;
}

/** What the max window figures say against the limiter's own worst case (README text). */
function windowNote(results: BatchResult[]): string {
  const worst = new Map(
    bucketTable({ targetUtilization: SETTINGS.targetUtilization }).map((b) => [
      b.bucket,
      b.worstCasePerPeriod / b.limitPerPeriod,
    ]),
  );
  const over = results.filter((r) => r.maxWindowRatio > (worst.get(r.maxWindowBucket) ?? 1) + 1e-9);
  const share = (limit: number) => {
    const b = bucketTable({ targetUtilization: SETTINGS.targetUtilization }).find(
      (x) => x.limitPerPeriod === limit,
    );
    return b ? round(b.worstCasePerPeriod / b.limitPerPeriod, 2) : '–';
  };
  const base =
    `The limiter admits at most the target, its burst and a 2-s grace in any minute (${share(20)} of the limit for ` +
    `the 20-a-minute buckets, ${share(100)} for the 100-a-minute ones).`;
  if (over.length === 0) return `${base} No batch went past that.`;
  return (
    `${base} ${over.map((r) => `Batch ${r.batch} did (${r.maxWindowBucket}, ${r.maxWindowRatio}, in the minute up to ${r.maxWindowEndSec} s)`).join('; ')}: ` +
    'early in a batch one process runs the first steps of every request (QDSR_LOCAL_CONCURRENCY at a time), and ' +
    'dynalite, in the same event loop, answers the limiter late: a slot is taken relative to when the limiter ' +
    'asked, so an answer that comes seconds late grants a slot seconds in the past, and calls go out bunched. ' +
    'In AWS those writes take milliseconds.'
  );
}

/** Why the misses of this run happened, from its own figures (README text). */
function whyMissed(results: BatchResult[]): string {
  const out: string[] = [];
  const create = bucketTable({ targetUtilization: SETTINGS.targetUtilization }).find(
    (b) => b.bucket === 'createErasureRequest',
  );
  const burst = create?.burst ?? 1;
  const emissionSec = (create?.emissionMs ?? 4000) / 1000;
  for (const r of results.filter((x) => x.boundRatio > 1.45)) {
    const drain = r.longestJobSec;
    const createdBy = Math.max(0, r.deletionCount - burst) * emissionSec;
    const pipeline = createdBy + drain;
    const paced =
      `Held to 75 % with a burst of ${burst}, the last of ${r.deletionCount} erasures cannot be created before ` +
      `${createdBy} s and then runs its ${drain} s, so ${pipeline} s (${round(pipeline / r.lowerBoundSec, 2)} × the bound) ` +
      'is the least any connector at the target can take';
    const rest =
      `The batch took ${round(r.makespanSec - pipeline, 0)} s more: the first creates come only once the engine ` +
      "has run the batch's first steps (one process, QDSR_LOCAL_CONCURRENCY steps at a time; at ×" +
      `${r.timeScale} a second of it is ${round(1 / r.timeScale, 1)} simulated seconds), and erasures created ` +
      'before any had ended poll before they are done (each "not yet" is a lower bound the later first polls wait ' +
      'for, but the first ones spend status polls), and new erasures wait while those polls queue (a job starts ' +
      'only while its status polls do not queue).';
    if (r.bindingBucket === 'longest job') {
      out.push(
        `- batch ${r.batch} (boundRatio ${r.boundRatio}): the bound is the longest job, a ${drain}-s erasure. ${paced}. ` +
          `Against a ${drain}-s bound no more than ${burst + Math.floor((0.45 * drain) / emissionSec)} erasures fit ` +
          'under 1.45 at the target rate; a larger burst would let more start together, but on a 20-a-minute ' +
          'endpoint each extra call in a minute is 5 % of the limit, which the limiter keeps as margin. One erasure ' +
          'for several subjects (Qualtrics takes a list of emails) would fit here, but it moves the bound of a ' +
          'larger batch to its file downloads, which cannot start before the first job has ended: at batch 100 ' +
          'that is 20 s of job and 80 s of downloads at 75 %, 1.67 × a 60-s bound. Not done: it would also put ' +
          "several people's emails into one Qualtrics record and one failure. " +
          rest,
      );
      continue;
    }
    const polls = round((r.qualtricsCallsPerRequest.deletion.getErasureRequest ?? 0) * r.deletionCount, 0);
    out.push(
      `- batch ${r.batch} (boundRatio ${r.boundRatio}): the bound is ${r.lowerBoundSec} s of ${r.bindingBucket} calls ` +
        `(${polls} polls of ${r.deletionCount} erasures at 100 % of 20 a minute). ${paced}: that leaves ` +
        `${round(1.45 * r.lowerBoundSec - pipeline, 0)} s for everything else, and below about ` +
        `${Math.ceil((drain - burst * emissionSec) / ((1.45 - 1 / SETTINGS.targetUtilization) * 3))} deletions nothing at all ` +
        `(the last erasure's ${drain} s come on top of the paced creates however large the batch). ${rest}`,
    );
  }
  const lagMisses = results.filter(
    (r) =>
      (r.pollLagSec.access.p95 ?? 0) > r.pollLagTargetSec.access ||
      (r.pollLagSec.deletion.p95 ?? 0) > r.pollLagTargetSec.deletion,
  );
  for (const r of lagMisses) {
    const perJob = (type: RequestType, endpoint: string) =>
      round(r.qualtricsCallsPerRequest[type][endpoint] ?? 0, 2);
    out.push(
      `- poll lag at batch ${r.batch} (access p95 ${r.pollLagSec.access.p95} s, deletion p95 ${r.pollLagSec.deletion.p95} s; ` +
        `${perJob('access', 'getCustomerDataRequest')} customer-data and ${perJob('deletion', 'getErasureRequest')} erasure polls per job): ` +
        "a status endpoint has the create endpoint's limit, so at full speed each job has one poll to spend. Jobs " +
        'started before any of the batch\'s jobs had ended have only a lower bound (a "not yet") to aim their first ' +
        'poll at, and those extra polls queue behind each other; the queue is bounded (jobs are started only while ' +
        'it is short) but it is news late for every job in it. At the start of a batch the engine itself is the ' +
        `bottleneck too: at ×${r.timeScale}, a second of it delays a poll by ${round(1 / r.timeScale, 1)} simulated seconds.`,
    );
  }
  return out.length > 0 ? `\nWhy:\n\n${out.join('\n')}\n` : '';
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.env.BENCH_E2E_README_ONLY) {
    // Only the README section again, from the figures of the last run.
    const last = JSON.parse(await readFile(join(RESULTS_DIR, 'e2e.json'), 'utf8')) as {
      settings: { node: string; cpus: number; totalSeconds: number };
      batches: BatchResult[];
    };
    await writeFile(join(RESULTS_DIR, 'e2e-readme-section.md'), readmeSection(last.batches, last.settings));
    return;
  }
  const only = process.env.BENCH_E2E_BATCHES?.split(',').map(Number);
  const batches = only ? SETTINGS.batches.filter((b) => only.includes(b.batch)) : SETTINGS.batches;
  const began = Date.now();
  const results: BatchResult[] = [];
  const charts: LineChart[] = [];
  for (const b of batches) {
    const { result, plot } = await runBatch(b);
    results.push(result);
    charts.push(plot);
    await sleep(50);
  }
  const header = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    totalSeconds: round((Date.now() - began) / 1000, 1)!,
    targetUtilization: SETTINGS.targetUtilization,
    deletionShare: SETTINGS.deletionShare,
    simulator: {
      customerDataJobSec: SETTINGS.customerDataJobMs / 1000,
      erasureJobSec: SETTINGS.erasureJobMs / 1000,
      customerDataFiles: SETTINGS.customerDataFiles,
      subjects: 'one distinct subject per request (bench/e2e/subjects.ts)',
    },
    pollMinSeconds: POLL_MIN_SECONDS,
    units: 'durations in simulated seconds (real seconds ÷ timeScale), except realSeconds',
    prices: PRICES,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    join(RESULTS_DIR, 'e2e.json'),
    `${JSON.stringify({ settings: header, batches: results }, null, 2)}\n`,
  );
  await writeFile(join(RESULTS_DIR, 'e2e.svg'), stackCharts(charts));
  await writeFile(join(RESULTS_DIR, 'e2e-readme-section.md'), readmeSection(results, header));
  process.stdout.write(`${formatTable(tableRows(results), COLUMNS)}\n`);
  const misses = acceptance(results);
  process.stdout.write(
    misses.length === 0
      ? `acceptance: every target met; ${header.totalSeconds} s\n`
      : `acceptance: ${misses.length} target(s) missed; ${header.totalSeconds} s\n  ${misses.join('\n  ')}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`bench:e2e failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
