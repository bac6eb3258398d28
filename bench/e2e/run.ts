/**
 * Running one `bench:e2e` batch: concurrent privacy requests (every other one a deletion) end to
 * end through the local engine (the real ASL, the real handlers, dynalite + s3rver) against the
 * Qualtrics simulator with its rate limits enforced and its clock compressed by `timeScale`, every
 * wait of the connector scaled the same way (QDSR_WAIT_SCALE = timeScale, which also compresses the
 * limiter's minute). Records what `measure.ts` turns into figures.
 *
 * Requests are created as the CLI creates them (the request store), then all workflows start at
 * once. Each request has its own subject (subjects.ts). What a request costs is counted outside
 * product code (instrument.ts): SDK middleware on the shared DynamoDB and S3 clients, a wrapped
 * handler registry, and an AsyncLocalStorage context per request.
 */
import { writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DEFAULT_QUALTRICS_CONCURRENCY, HANDLERS } from '../../lambdas/catalog';
import { dynamoDocumentClient, s3Client } from '../../lambdas/core/aws-clients';
import { API_ROOT, matchEndpoint } from '../../lambdas/core/qualtrics/endpoints';
import type { RequestType } from '../../lambdas/core/request-store';
import { resetWorkflowDeps, workflowDeps } from '../../lambdas/core/workflow/deps';
import { POLL_MIN_SECONDS } from '../../lambdas/core/workflow/wait';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { startLocalAws } from '../../local/aws';
import { runWorkflow, type StepHandlers } from '../../local/engine/workflows';
import { connectorEnvFor, startSimulator } from '../../local/simulator/index';
import { round } from '../lib/stats';
import { PRICES } from './cost';
import {
  countedHandlers,
  emptyUsage,
  instrumentDynamo,
  instrumentQualtrics,
  instrumentS3,
  unattributed,
  withUsage,
} from './instrument';
import { type BatchRecording, digestRun, measureBatch, type RequestRun } from './measure';
import type { BatchResult } from './result';
import { benchSubject, seedWithSubjects } from './subjects';

export interface BatchSettings {
  batch: number;
  /** Real time = simulated time × timeScale (the simulator, the connector's waits and its limiter). */
  timeScale: number;
}

export const SETTINGS = {
  /**
   * One process runs the engine, every handler, dynalite, s3rver and the simulator on 2 cores; at
   * these scales it stays mostly idle (see eventLoopUtilization), so engine delays stay small in
   * simulated time, and the whole run fits in about 7 minutes.
   */
  batches: [
    { batch: 10, timeScale: 1 },
    { batch: 100, timeScale: 0.5 },
    { batch: 500, timeScale: 0.25 },
  ] as readonly BatchSettings[],
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
  pollMinSeconds: POLL_MIN_SECONDS,
};

export interface BatchRun {
  result: BatchResult;
  /** Admitted Qualtrics calls per bucket (real epoch ms), and the span they fall in, for the plot. */
  admittedByBucket: Map<string, number[]>;
  t0: number;
  t1: number;
}

export interface RunOptions {
  /** With a path, writes every admitted call and every state entered to `<path>.<batch>.json`. */
  tracePath?: string;
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

export async function runBatch(s: BatchSettings, options: RunOptions = {}): Promise<BatchRun> {
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
      const { record } = await withUsage(usage, () =>
        deps.store.create({ source: 'api', type, email: benchSubject(i) }),
      );
      const ms = Math.max(1, Math.ceil(performance.now() - t));
      usage.invocations.api = 1;
      usage.handlerMs += ms;
      usage.gbSeconds += (ms / 1000) * apiMemoryGb;
      runs.push({ type, requestId: record.requestId, usage, transitions: 0 });
    }
    sim.resetCounters();
    const accessCount = runs.filter((r) => r.type === 'access').length;
    process.stderr.write(
      `bench:e2e batch ${s.batch}: ${accessCount} access + ${runs.length - accessCount} deletion, time ×${scale}…\n`,
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
    const traceFrom = options.tracePath ? t0 : undefined;
    try {
      await Promise.all(
        runs.map((r) =>
          withUsage(r.usage, async () => {
            const run = await runWorkflow({
              type: r.type,
              requestId: r.requestId,
              waitScale: scale,
              handlers,
              // The deployed default: Lambda's concurrency as AWS would apply it (no reservation).
              qualtricsConcurrency: DEFAULT_QUALTRICS_CONCURRENCY,
            });
            r.endedAt = Date.now();
            // Never aborted here (no signal is passed).
            r.status = run.status === 'ABORTED' ? 'FAILED' : run.status;
            digestRun(r, run.events, traceFrom, scale);
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

    const counters = sim.counters();
    const recording: BatchRecording = {
      batch: s.batch,
      timeScale: scale,
      targetUtilization: SETTINGS.targetUtilization,
      customerDataJobMs: SETTINGS.customerDataJobMs,
      erasureJobMs: SETTINGS.erasureJobMs,
      pollMinSeconds: SETTINGS.pollMinSeconds,
      runs,
      t0,
      t1,
      admitted: counters.log,
      byEndpoint: counters.byEndpoint,
      sent,
      customerDataJobs: sim.customerDataJobs(),
      erasures: sim.erasures(),
      engine,
      peakRssBytes: peakRss,
      realSeconds: round((Date.now() - began) / 1000, 1)!,
    };
    const { result, admittedByBucket } = measureBatch(recording);
    if (Object.keys(unattributed.ddbOps).length + Object.keys(unattributed.qualtrics).length > 0) {
      process.stderr.write(
        `  note: calls outside every request: ${JSON.stringify({ ddb: unattributed.ddbOps, qualtrics: unattributed.qualtrics })}\n`,
      );
    }
    if (options.tracePath) await writeTrace(`${options.tracePath}.${s.batch}.json`, recording);
    return { result, admittedByBucket, t0, t1 };
  } finally {
    clearInterval(rssTimer);
    undoFetch();
    resetWorkflowDeps();
    await sim.close();
    await aws.close();
  }
}

/** Debugging aid: every admitted call and every state entered, in simulated seconds. */
async function writeTrace(path: string, rec: BatchRecording): Promise<void> {
  const simSec = (t: number) => round((t - rec.t0) / rec.timeScale / 1000, 2);
  await writeFile(
    path,
    JSON.stringify({
      calls: rec.admitted.map((e) => [simSec(e.at), e.endpoint, e.status]),
      jobs: [...rec.customerDataJobs, ...rec.erasures].map((j) => [
        j.id,
        simSec(j.createdAt),
        j.completedAt && simSec(j.completedAt),
      ]),
      runs: rec.runs.map((r) => ({ type: r.type, states: r.trace })),
    }),
  );
}
