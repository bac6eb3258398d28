import { isDdbRead, isDdbWrite, type RequestUsage, S3_GET_CLASS, S3_PUT_CLASS, sum } from './instrument';

/**
 * Public AWS list prices (us-east-1, on-demand, no free tier) the cost estimate uses. Qualtrics is
 * excluded (a licence, not a per-call price).
 */
export const PRICES = {
  region: 'us-east-1',
  stepFunctionsStandardPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1_000_000,
  // The stack's functions run on arm64 (infra/constructs/functions.ts).
  lambdaPerGbSecond: 0.0000133334,
  dynamoDbPerWriteRequestUnit: 0.625 / 1_000_000,
  dynamoDbPerReadRequestUnit: 0.125 / 1_000_000,
  s3PerPutCopyPostListRequest: 0.005 / 1000,
  s3PerGetRequest: 0.0004 / 1000,
  sources: [
    'https://aws.amazon.com/step-functions/pricing/ (Standard: $0.025 per 1,000 state transitions)',
    'https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests, $0.0000133334 per GB-second, Arm)',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million write request units, $0.125 per million read request units)',
    'https://aws.amazon.com/s3/pricing/ (Standard: $0.005 per 1,000 PUT/COPY/POST/LIST, $0.0004 per 1,000 GET)',
  ],
  /**
   * Qualtrics answers in milliseconds locally; a real tenant takes longer and a Lambda pays for the
   * wait. Added to the measured duration for every Qualtrics call, in the GB-seconds.
   */
  assumedQualtricsLatencyMs: 500,
  excluded: [
    'Qualtrics',
    'S3 storage (GB-month) and KMS requests of the SSE-KMS bucket',
    'CloudWatch Logs ingestion, EventBridge events, API Gateway requests (each < $0.01 per 1,000 requests)',
    'free tiers',
  ],
} as const;

export interface PerRequestFigures {
  stateTransitions: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  dynamoDbWrites: number;
  dynamoDbWriteUnits: number;
  dynamoDbReads: number;
  dynamoDbReadUnits: number;
  s3Puts: number;
  s3Gets: number;
  qualtricsCalls: number;
}

/** Figures of one request (or of a sum of requests) from its counted usage. */
export function figuresOf(usage: RequestUsage, stateTransitions: number): PerRequestFigures {
  return {
    stateTransitions,
    lambdaInvocations: sum(usage.invocations),
    lambdaGbSeconds: usage.gbSeconds + usage.qualtricsWaitGbSeconds,
    dynamoDbWrites: sum(usage.ddbOps, isDdbWrite),
    dynamoDbWriteUnits: usage.ddbWriteUnits,
    dynamoDbReads: sum(usage.ddbOps, isDdbRead),
    dynamoDbReadUnits: usage.ddbReadUnits,
    s3Puts: sum(usage.s3Ops, (k) => S3_PUT_CLASS.has(k)),
    s3Gets: sum(usage.s3Ops, (k) => S3_GET_CLASS.has(k)),
    qualtricsCalls: sum(usage.qualtrics),
  };
}

/** USD for one request with these figures. */
export function costUsd(f: PerRequestFigures): {
  stepFunctions: number;
  lambda: number;
  dynamoDb: number;
  s3: number;
  total: number;
} {
  const stepFunctions = f.stateTransitions * PRICES.stepFunctionsStandardPerTransition;
  const lambda = f.lambdaInvocations * PRICES.lambdaPerRequest + f.lambdaGbSeconds * PRICES.lambdaPerGbSecond;
  const dynamoDb =
    f.dynamoDbWriteUnits * PRICES.dynamoDbPerWriteRequestUnit +
    f.dynamoDbReadUnits * PRICES.dynamoDbPerReadRequestUnit;
  const s3 = f.s3Puts * PRICES.s3PerPutCopyPostListRequest + f.s3Gets * PRICES.s3PerGetRequest;
  return { stepFunctions, lambda, dynamoDb, s3, total: stepFunctions + lambda + dynamoDb + s3 };
}
