import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { eventPublisherFromEnv } from '../core/events';
import { METRICS_NAMESPACE, OVERDUE_REQUESTS_METRIC } from '../core/metric-names';
import { requestStoreFromEnv } from '../core/request-store';
import { dueSoonDaysFromEnv, STALL_GRACE_MS, type SweepResult, sweep } from '../core/sweep';
import { stepFunctionsLiveness } from '../core/sweep/step-functions-liveness';
import { stepFunctionsStarterFromEnv } from '../core/workflow-starter';
import { stepLogger } from '../middleware';

/**
 * The sweep, hourly on an EventBridge schedule (README "The sweep"): resumes stalled requests
 * (Step Functions says their execution is not RUNNING), warns of deadlines, erases the emails due,
 * and writes `OverdueRequests` (the stack alarms on it). A failure is thrown: the schedule's retry,
 * or the next hour, sweeps again (every write it makes is conditional, so nothing happens twice).
 */

const logger = stepLogger.createChild({ persistentKeys: { handler: 'sweep' } });

// As the connection check's: no `service` dimension, so the alarm's metric is this one.
const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
metrics.clearDefaultDimensions();

/** Writes `OverdueRequests` to stdout as one EMF document. */
export function publishOverdueRequestsMetric(count: number): void {
  metrics.addDimensions({});
  metrics.addMetric(OVERDUE_REQUESTS_METRIC, MetricUnit.Count, count);
  metrics.publishStoredMetrics();
}

export async function runSweep(now: Date = new Date()): Promise<SweepResult> {
  const client = new SFNClient({});
  const starter = stepFunctionsStarterFromEnv(process.env, client);
  const result = await sweep(
    {
      store: requestStoreFromEnv(),
      starter,
      liveness: stepFunctionsLiveness(client, (type) => starter.stateMachineArn(type)),
      events: eventPublisherFromEnv(),
      dueSoonDays: dueSoonDaysFromEnv(),
      graceMs: STALL_GRACE_MS,
      log: {
        info: (message, fields) => logger.info(message, fields ?? {}),
        warn: (message, fields) => logger.warn(message, fields ?? {}),
      },
    },
    now,
  );
  publishOverdueRequestsMetric(result.overdueRequests);
  return result;
}

export const handler = middy(async () => runSweep());
