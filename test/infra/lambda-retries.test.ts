import { describe, expect, it } from 'vitest';
import { readAsl, WORKFLOW_TYPES, walkStates } from '../../statemachines/definitions';

/**
 * Lambda's own errors, as Step Functions reports them: every Task state retries the service
 * exceptions AWS recommends retrying, and retries a throttle (`Lambda.TooManyRequestsException`,
 * the account's or a reservation's concurrency is used up) long enough that a burst of 500
 * requests cannot fail on it. docs/deploy.md ("Lambda concurrency") states the arithmetic.
 */

const SERVICE_EXCEPTIONS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];
const THROTTLED = 'Lambda.TooManyRequestsException';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/** The longest wait of each attempt (ASL defaults: 1 s, 3 attempts, rate 2). */
function attemptCaps(r: Retrier): number[] {
  const caps: number[] = [];
  for (let n = 0; n < (r.MaxAttempts ?? 3); n++) {
    const wait = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** n;
    caps.push(Math.min(wait, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY));
  }
  return caps;
}

/** Mean and standard deviation of the total wait: with full jitter each wait is uniform in [0, cap]. */
function retryBudget(r: Retrier): { mean: number; sd: number } {
  const caps = attemptCaps(r);
  if (r.JitterStrategy !== 'FULL') return { mean: caps.reduce((a, b) => a + b, 0), sd: 0 };
  return {
    mean: caps.reduce((a, b) => a + b / 2, 0),
    sd: Math.sqrt(caps.reduce((a, b) => a + (b * b) / 12, 0)),
  };
}

/** Lambda time a burst of 500 requests needs (docs/deploy.md), on an account limited to 10 at once. */
const BURST_DRAIN_SECONDS = (250 * 8 + 250 * 4) / 10;

describe('Lambda service exceptions and throttles are retried in every Task state', () => {
  for (const type of WORKFLOW_TYPES) {
    it(`${type}: the recommended service exceptions, and a throttle for ≥ 15 minutes at 4 standard deviations`, () => {
      const definition = JSON.parse(readAsl(type));
      let tasks = 0;
      walkStates(definition, (name, state) => {
        if (state.Type !== 'Task') return;
        tasks++;
        const retry = (state.Retry ?? []) as Retrier[];
        // "Record request failed" retries everything (States.ALL), throttles included.
        if (retry.some((r) => r.ErrorEquals.includes('States.ALL'))) return;
        const service = retry.find((r) => SERVICE_EXCEPTIONS.every((e) => r.ErrorEquals.includes(e)));
        expect(service, `${name}: service exceptions`).toBeDefined();
        const throttled = retry.find((r) => r.ErrorEquals.includes(THROTTLED));
        expect(throttled, `${name}: ${THROTTLED}`).toBeDefined();
        const { mean, sd } = retryBudget(throttled as Retrier);
        expect(mean - 4 * sd, name).toBeGreaterThanOrEqual(15 * 60);
        expect(mean - 4 * sd, name).toBeGreaterThan(BURST_DRAIN_SECONDS * 2);
        // A throttle is about capacity, not a broken call: it must not share the short retrier.
        expect(service?.ErrorEquals, name).not.toContain(THROTTLED);
      });
      expect(tasks).toBeGreaterThan(5);
    });
  }

  it('states the budget docs/deploy.md gives: 27.5 minutes on average, 19 at 4 standard deviations', () => {
    const budget = retryBudget({
      ErrorEquals: [THROTTLED],
      IntervalSeconds: 1,
      MaxAttempts: 60,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    });
    expect(budget.mean).toBe(1651.5);
    expect(Math.round(budget.sd)).toBe(128);
    expect(Math.floor((budget.mean - 4 * budget.sd) / 60)).toBe(19);
  });
});
