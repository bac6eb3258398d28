/**
 * Measuring one `bench:e2e` batch: from what the run recorded (each request's usage and events,
 * the simulator's log of admitted calls, the calls as the connector sent them, the Qualtrics jobs)
 * to the figures of a `BatchResult`. No I/O: `run.ts` collects, this computes.
 */
import {
  BRAND_BUCKET,
  BRAND_LIMIT_PER_MINUTE,
  bucketsFor,
  ENDPOINTS,
  type EndpointName,
  rateLimitBuckets,
} from '../../lambdas/core/qualtrics/endpoints';
import { bucketTable } from '../../lambdas/core/rate-limiter/index';
import type { RequestType } from '../../lambdas/core/request-store';
import type { WorkflowEvent } from '../../local/engine/workflows';
import { maxInSlidingWindow, percentile, round } from '../lib/stats';
import { costUsd, figuresOf, type PerRequestFigures } from './cost';
import { addUsage, emptyUsage, type RequestUsage } from './instrument';
import { type BatchResult, type LagStats, LONGEST_JOB, type TypeFigures } from './result';
import { pollLagTargetSec } from './targets';

/** The state whose output first shows a Qualtrics job complete, per request type. */
const POLL_STATE: Record<RequestType, string> = {
  access: 'Get customer-data job progress',
  deletion: 'Get erasure status',
};

/** The create endpoint of each kind of Qualtrics job, for the paced bound. */
const CREATE_OF: Record<RequestType, EndpointName> = {
  access: 'createCustomerDataRequest',
  deletion: 'createErasureRequest',
};

/** One request of a batch, as the run follows it. */
export interface RequestRun {
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
  /** Only when tracing: every state entered, in simulated seconds since the batch started. */
  trace?: Array<[number, string]>;
}

/** What one run's events say, kept instead of the events (500 runs of events would dominate RSS). */
export function digestRun(r: RequestRun, events: WorkflowEvent[], traceFrom?: number, scale = 1): void {
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

/** The most events in any window `(t − windowMs, t]`, and the `t` (an event time) where that is. */
export function windowPeak(times: readonly number[], windowMs: number): { count: number; endAt: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, endAt: sorted[0] ?? 0 };
  for (let end = 0, start = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - windowMs) start++;
    if (end - start + 1 > best.count) best = { count: end - start + 1, endAt: sorted[end]! };
  }
  return best;
}

/** Bucket name → its Qualtrics limit per minute (the endpoint table), brand included. */
export function bucketLimits(): Map<string, number> {
  const m = new Map<string, number>([[BRAND_BUCKET, BRAND_LIMIT_PER_MINUTE]]);
  for (const b of rateLimitBuckets()) m.set(b.bucket, b.limitPerMinute);
  return m;
}

/** Call times per rate-limit bucket (a call counts in its endpoint's bucket and the brand's). */
export function timesByBucket(calls: ReadonlyArray<{ at: number; endpoint: string }>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const c of calls) {
    if (!(c.endpoint in ENDPOINTS)) continue;
    for (const b of bucketsFor(c.endpoint as EndpointName)) {
      const times = out.get(b.bucket) ?? [];
      times.push(c.at);
      out.set(b.bucket, times);
    }
  }
  return out;
}

interface JobTimes {
  id: string;
  createdAt: number;
  completedAt?: number;
}

/** What a run of one batch recorded; every time is real epoch ms. */
export interface BatchRecording {
  batch: number;
  timeScale: number;
  targetUtilization: number;
  /** The simulator's job durations (simulated ms), for the poll-lag targets. */
  customerDataJobMs: number;
  erasureJobMs: number;
  pollMinSeconds: number;
  runs: RequestRun[];
  /** When the workflows started, and when the last one ended. */
  t0: number;
  t1: number;
  /** Every `/API/v3` call the simulator admitted or refused, with its status. */
  admitted: ReadonlyArray<{ at: number; endpoint: string; status: number }>;
  /** The simulator's per-endpoint counters. */
  byEndpoint: Readonly<Record<string, { requests: number; status429: number }>>;
  /** Every Qualtrics request as it left the connector (429s included). */
  sent: ReadonlyArray<{ at: number; endpoint: string }>;
  customerDataJobs: readonly JobTimes[];
  erasures: readonly JobTimes[];
  engine: { eventLoopUtilization: number; eventLoopDelayP99Ms: number };
  peakRssBytes: number;
  realSeconds: number;
}

/** The figures of one batch, and the admitted calls per bucket (for the plot). */
export function measureBatch(rec: BatchRecording): {
  result: BatchResult;
  admittedByBucket: Map<string, number[]>;
} {
  const scale = rec.timeScale;
  const windowMs = 60_000 * scale;
  const accessCount = rec.runs.filter((r) => r.type === 'access').length;
  const deletionCount = rec.runs.length - accessCount;

  // --- Qualtrics: calls per bucket, the bound, 429s, windows ---
  const limits = bucketLimits();
  const limitOf = (bucket: string) => limits.get(bucket) ?? Number.POSITIVE_INFINITY;
  const admittedByBucket = timesByBucket(rec.admitted.filter((e) => e.status !== 429));
  const buckets = [...admittedByBucket]
    .map(([bucket, times]) => {
      const limitPerMinute = limitOf(bucket);
      const calls = times.length;
      return { bucket, calls, limitPerMinute, boundSec: round((calls / limitPerMinute) * 60, 2)! };
    })
    .sort((a, b) => b.boundSec - a.boundSec);
  const windows = buckets
    .map((b) => {
      const peak = windowPeak(admittedByBucket.get(b.bucket) ?? [], windowMs);
      return { bucket: b.bucket, ratio: peak.count / b.limitPerMinute, endAt: peak.endAt };
    })
    .sort((a, b) => b.ratio - a.ratio);
  const status429 = Object.values(rec.byEndpoint).reduce((n, e) => n + e.status429, 0);
  // The same windows by when the connector sent each call: what the limiter paced, before the
  // one shared event loop (engine, simulator and all) delivered it.
  const sentWindows = [...timesByBucket(rec.sent)]
    .map(([bucket, times]) => ({ bucket, ratio: maxInSlidingWindow(times, windowMs) / limitOf(bucket) }))
    .sort((a, b) => b.ratio - a.ratio);

  const durationSec = (j: JobTimes) =>
    j.completedAt === undefined ? 0 : (j.completedAt - j.createdAt) / scale / 1000;
  const longestOf: Record<RequestType, number> = {
    access: Math.max(0, ...rec.customerDataJobs.map(durationSec)),
    deletion: Math.max(0, ...rec.erasures.map(durationSec)),
  };
  const longestJobSec = round(Math.max(longestOf.access, longestOf.deletion), 2)!;
  const top = buckets[0];
  const lowerBoundSec = Math.max(top?.boundSec ?? 0, longestJobSec);
  const makespanSec = round((rec.t1 - rec.t0) / scale / 1000, 2)!;

  // The paced bound (see BatchResult.pacedBoundSec).
  const plans = new Map(bucketTable({ targetUtilization: rec.targetUtilization }).map((b) => [b.bucket, b]));
  const pacedRate = Math.max(0, ...buckets.map((b) => b.boundSec / rec.targetUtilization));
  const pacedChain = (['access', 'deletion'] as const).map((type) => {
    const plan = plans.get(ENDPOINTS[CREATE_OF[type]].bucket ?? '');
    const creates = rec.byEndpoint[CREATE_OF[type]]?.requests ?? 0;
    if (!plan || creates === 0) return 0;
    return (Math.max(0, creates - plan.burst) * plan.emissionMs) / 1000 + longestOf[type];
  });
  const pacedBoundSec = round(Math.max(pacedRate, ...pacedChain, longestJobSec), 2)!;

  // --- Poll lag: Qualtrics marks the job complete → the poll that saw it ---
  const completedAt = new Map<string, number>();
  for (const j of [...rec.customerDataJobs, ...rec.erasures]) {
    if (j.completedAt !== undefined) completedAt.set(j.id, j.completedAt);
  }
  const lags: Record<RequestType, number[]> = { access: [], deletion: [] };
  for (const r of rec.runs) {
    const at = r.sawComplete ? completedAt.get(r.sawComplete.jobId) : undefined;
    if (r.sawComplete && at !== undefined) lags[r.type].push((r.sawComplete.at - at) / scale / 1000);
  }
  const lagStats = (v: number[]): LagStats => ({
    p50: round(percentile(v, 0.5), 2),
    p95: round(percentile(v, 0.95), 2),
    n: v.length,
  });

  const access = perType(rec.runs, 'access');
  const deletion = perType(rec.runs, 'deletion');
  const done = (r: RequestRun) => r.status === 'SUCCEEDED' && r.recordStatus === 'COMPLETED';
  const result: BatchResult = {
    batch: rec.batch,
    accessCount,
    deletionCount,
    timeScale: scale,
    completed: rec.runs.filter(done).length,
    failed: rec.runs.filter((r) => !done(r)).length,
    makespanSec,
    lowerBoundSec,
    boundRatio: round(makespanSec / lowerBoundSec, 3)!,
    bindingBucket: (top?.boundSec ?? 0) > longestJobSec ? (top?.bucket ?? '–') : LONGEST_JOB,
    pacedBoundSec,
    pacedRatio: round(makespanSec / pacedBoundSec, 3)!,
    status429,
    maxWindowRatio: round(windows[0]?.ratio ?? 0, 3)!,
    maxWindowBucket: windows[0]?.bucket ?? '–',
    maxWindowEndSec: round(((windows[0]?.endAt ?? rec.t0) - rec.t0) / scale / 1000, 1)!,
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
      access: pollLagTargetSec(rec.customerDataJobMs / 1000, rec.pollMinSeconds),
      deletion: pollLagTargetSec(rec.erasureJobMs / 1000, rec.pollMinSeconds),
    },
    peakRssMb: round(rec.peakRssBytes / 1024 / 1024, 1)!,
    ...rec.engine,
    realSeconds: rec.realSeconds,
  };
  return { result, admittedByBucket };
}

/** AWS usage and cost per request of one type, averaged, and its Qualtrics calls per request. */
function perType(
  runs: readonly RequestRun[],
  type: RequestType,
): { figures: TypeFigures | null; calls: Record<string, number> } {
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
}
