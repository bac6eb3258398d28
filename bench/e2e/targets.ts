/**
 * The targets `bench:e2e` is judged by: the one place that states them. The judging below and the
 * README's Performance text (report.ts) both read these numbers.
 *
 * Which makespan ratio a batch is judged by depends on what bounds it. When the lower bound is a
 * bucket's calls (batches of 100 and 500: the erasure polls), `boundRatio` shows how close the
 * connector comes to what Qualtrics' limits allow. When it is the longest single job (batch 10),
 * no connector held to the target utilization can come near it: its creates are paced (an erasure
 * every 4 s at 75 % of 20 a minute) before the last job even starts. Such a batch is judged by
 * `pacedRatio`, makespan over the least a paced connector can take.
 */
import { type BatchResult, LONGEST_JOB } from './result';

export const TARGETS = {
  /** Makespan ÷ the paced bound, for a batch whose lower bound is its longest job. */
  pacedRatioMax: 1.2,
  /** Makespan ÷ the lower bound, for every other batch. */
  boundRatioMax: 1.45,
  /** Calls Qualtrics admitted in any sliding minute of one bucket ÷ that bucket's limit, every batch. */
  maxWindowRatioMax: 0.8,
  /** 429 answers from Qualtrics, every batch. */
  status429Max: 0,
  /** USD per 1,000 access requests (AWS only, Qualtrics excluded). */
  accessCostPer1000UsdMax: 2,
  /** Poll lag p95 ≤ this share of the job's duration plus this many minimum poll intervals. */
  pollLag: { jobDurationShare: 0.1, minPollIntervals: 1 },
} as const;

/** The poll-lag target for a job of `jobSec`, given the workflow's minimum poll interval. */
export function pollLagTargetSec(jobSec: number, pollMinSeconds: number): number {
  return TARGETS.pollLag.jobDurationShare * jobSec + TARGETS.pollLag.minPollIntervals * pollMinSeconds;
}

export type JudgedRatio = 'pacedRatio' | 'boundRatio';

/** The makespan ratio a batch is judged by (see the module comment). */
export function judgedRatio(r: Pick<BatchResult, 'bindingBucket'>): JudgedRatio {
  return r.bindingBucket === LONGEST_JOB ? 'pacedRatio' : 'boundRatio';
}

export function ratioMax(ratio: JudgedRatio): number {
  return ratio === 'pacedRatio' ? TARGETS.pacedRatioMax : TARGETS.boundRatioMax;
}

export type TargetName =
  | 'completed'
  | JudgedRatio
  | 'maxWindowRatio'
  | 'status429'
  | 'accessCost'
  | 'pollLag';

export interface Miss {
  batch: number;
  target: TargetName;
  /** One line for the console and the README, e.g. `batch 10: pacedRatio 1.3 > 1.20`. */
  text: string;
}

/** Two decimals, as the targets are written (1.2 → `1.20`). */
export const fixed2 = (n: number) => n.toFixed(2);

/** Every target a run missed, batch by batch; empty when every target was met. */
export function judge(results: readonly BatchResult[]): Miss[] {
  const misses: Miss[] = [];
  for (const r of results) {
    const miss = (target: TargetName, what: string) =>
      misses.push({ batch: r.batch, target, text: `batch ${r.batch}: ${what}` });
    if (r.failed > 0) miss('completed', `${r.failed} request(s) did not complete`);
    const ratio = judgedRatio(r);
    if (r[ratio] > ratioMax(ratio)) miss(ratio, `${ratio} ${r[ratio]} > ${fixed2(ratioMax(ratio))}`);
    if (r.maxWindowRatio > TARGETS.maxWindowRatioMax) {
      miss(
        'maxWindowRatio',
        `maxWindowRatio ${r.maxWindowRatio} (${r.maxWindowBucket}) > ${fixed2(TARGETS.maxWindowRatioMax)}`,
      );
    }
    if (r.status429 > TARGETS.status429Max)
      miss('status429', `${r.status429} 429s > ${TARGETS.status429Max}`);
    const cost = r.costPer1000RequestsUsd.access;
    if (cost !== null && cost > TARGETS.accessCostPer1000UsdMax) {
      miss('accessCost', `access cost $${cost} per 1,000 > $${fixed2(TARGETS.accessCostPer1000UsdMax)}`);
    }
    for (const type of ['access', 'deletion'] as const) {
      const p95 = r.pollLagSec[type].p95;
      if (p95 !== null && p95 > r.pollLagTargetSec[type]) {
        miss('pollLag', `${type} poll lag p95 ${p95} s > ${r.pollLagTargetSec[type]} s`);
      }
    }
  }
  return misses;
}
