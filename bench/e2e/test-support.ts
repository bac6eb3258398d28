import type { BatchResult, RunSettings, TypeFigures } from './result';

/** A batch that meets every target; tests override what they judge. */
export function batchResult(overrides: Partial<BatchResult> = {}): BatchResult {
  const figures = (cost: number): TypeFigures => ({
    stateTransitions: 50,
    lambdaInvocations: 20,
    lambdaGbSeconds: 2,
    dynamoDbWrites: 30,
    dynamoDbWriteUnits: 35,
    dynamoDbReads: 20,
    dynamoDbReadUnits: 10,
    s3Puts: 5,
    s3Gets: 1,
    qualtricsCalls: 10,
    costPer1000RequestsUsd: cost,
    costBreakdownPer1000Usd: { stepFunctions: cost * 0.9, lambda: 0.03, dynamoDb: 0.02, s3: 0.01 },
  });
  return {
    batch: 100,
    accessCount: 50,
    deletionCount: 50,
    timeScale: 0.5,
    completed: 100,
    failed: 0,
    makespanSec: 230,
    lowerBoundSec: 160,
    boundRatio: 1.4,
    bindingBucket: 'getErasureRequest',
    pacedBoundSec: 225,
    pacedRatio: 1.02,
    status429: 0,
    maxWindowRatio: 0.8,
    maxWindowBucket: 'getErasureRequest',
    maxWindowEndSec: 120,
    maxWindowRatioAsSent: 0.8,
    maxWindowBucketAsSent: 'getErasureRequest',
    buckets: [{ bucket: 'getErasureRequest', calls: 53, limitPerMinute: 20, boundSec: 159 }],
    longestJobSec: 30,
    qualtricsCallsPerRequest: {
      access: { createCustomerDataRequest: 1, getCustomerDataRequest: 1, token: 0.1 },
      deletion: { createErasureRequest: 1, getErasureRequest: 1.06 },
    },
    perRequest: { access: figures(1.5), deletion: figures(0.9) },
    costPer1000RequestsUsd: { access: 1.5, deletion: 0.9 },
    pollLagSec: {
      access: { p50: 2, p95: 3, n: 50 },
      deletion: { p50: 4, p95: 5, n: 50 },
      all: { p50: 3, p95: 5, n: 100 },
    },
    pollLagTargetSec: { access: 7, deletion: 8 },
    peakRssMb: 250,
    eventLoopUtilization: 0.15,
    eventLoopDelayP99Ms: 20,
    realSeconds: 120,
    ...overrides,
  };
}

/** A batch of 10 bound by its longest job, as the stored runs are. */
export function smallBatch(overrides: Partial<BatchResult> = {}): BatchResult {
  return batchResult({
    batch: 10,
    accessCount: 5,
    deletionCount: 5,
    timeScale: 1,
    makespanSec: 52,
    lowerBoundSec: 30,
    boundRatio: 1.733,
    bindingBucket: 'longest job',
    pacedBoundSec: 46,
    pacedRatio: 1.13,
    maxWindowRatio: 0.4,
    ...overrides,
  });
}

export const RUN_SETTINGS: RunSettings = {
  generatedAt: '2026-01-01T00:00:00.000Z',
  node: 'v20.0.0',
  platform: 'linux-x64',
  cpus: 2,
  totalSeconds: 400,
  targetUtilization: 0.75,
  deletionShare: 0.5,
  simulator: { customerDataJobSec: 20, erasureJobSec: 30, customerDataFiles: 2, subjects: 'one each' },
  pollMinSeconds: 5,
  units: 'simulated seconds',
  prices: {},
};
