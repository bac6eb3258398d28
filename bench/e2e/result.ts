/**
 * What `bench:e2e` records: `bench/results/e2e.json` is `{ settings: RunSettings, batches: BatchResult[] }`.
 * Measured by `measure.ts`, judged by `targets.ts`, rendered by `report.ts`; a report can be made
 * again from the file alone (`npm run bench:e2e -- --report-only`).
 *
 * Every duration is in SIMULATED seconds (real seconds ÷ timeScale) unless named otherwise.
 */
import type { PerRequestFigures } from './cost';

/** `bindingBucket` when the lower bound is the longest Qualtrics job rather than a bucket's calls. */
export const LONGEST_JOB = 'longest job';

export interface TypeFigures extends PerRequestFigures {
  costPer1000RequestsUsd: number;
  costBreakdownPer1000Usd: { stepFunctions: number; lambda: number; dynamoDb: number; s3: number };
}

export interface LagStats {
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
  /** The bucket whose calls make the lower bound, or LONGEST_JOB. */
  bindingBucket: string;
  /**
   * The same bound for a connector held to the target utilization, burst included (every bucket's
   * calls at 75 % of its limit; the last job of a kind cannot be created before its create
   * bucket's pacing allows, then runs its full duration). boundRatio ÷ pacedRatio is what the
   * 75 % margin costs; pacedRatio is what is left: engine, polling and ramp-up.
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
  /** The poll-lag target of each type (`pollLagTargetSec` in targets.ts), for this run's job durations. */
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

/** The run's settings and machine, written beside the batches. */
export interface RunSettings {
  generatedAt: string;
  node: string;
  platform: string;
  cpus: number;
  totalSeconds: number;
  targetUtilization: number;
  deletionShare: number;
  simulator: {
    customerDataJobSec: number;
    erasureJobSec: number;
    customerDataFiles: number;
    subjects: string;
  };
  pollMinSeconds: number;
  units: string;
  prices: unknown;
}

export interface E2eResults {
  settings: RunSettings;
  batches: BatchResult[];
}
