import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { type ConnectionReport, checkConnection } from '../core/connection-check';
import { isDsrError } from '../core/errors';
import { CONNECTION_CHECK_FAILED_METRIC, METRICS_NAMESPACE } from '../core/metric-names';
import { qualtricsSettings, workflowDeps } from '../core/workflow/deps';
import { stepLogger } from '../middleware';

/**
 * The scheduled connection check (docs/qualtrics-api.md#connection-check): token, whoami, granted vs required
 * scopes. It emits `ConnectionCheckFailed` (0 or 1) through Powertools Metrics — one Embedded Metric Format
 * line on stdout, which Lambda's log pipeline turns into a metric — and the stack alarms on it.
 */

export const CONNECTION_CHECK_METRIC = {
  namespace: METRICS_NAMESPACE,
  name: CONNECTION_CHECK_FAILED_METRIC,
} as const;

// The shared logger: JSON lines, silent outside Lambda unless POWERTOOLS_LOG_LEVEL asks, emails scrubbed.
const logger = stepLogger.createChild({ persistentKeys: { handler: 'connectionCheck' } });

// Without the `service` dimension Powertools adds by default: the alarm names the metric by
// namespace and name only, and a metric with a dimension is another metric.
const metrics = new Metrics({ namespace: CONNECTION_CHECK_METRIC.namespace });
metrics.clearDefaultDimensions();

export type ConnectionCheckResult =
  | { ok: true; report: ConnectionReport }
  | { ok: false; report?: ConnectionReport; error: { code: string; message: string } };

/** Writes `ConnectionCheckFailed` (1 or 0) to stdout as one EMF document. */
export function publishConnectionCheckMetric(failed: boolean): void {
  // One empty dimension set (`Dimensions: [[]]`): the metric without dimensions.
  metrics.addDimensions({});
  metrics.addMetric(CONNECTION_CHECK_METRIC.name, MetricUnit.Count, failed ? 1 : 0);
  metrics.publishStoredMetrics();
}

export async function runConnectionCheck(): Promise<ConnectionCheckResult> {
  let result: ConnectionCheckResult;
  try {
    const settings = await qualtricsSettings();
    const { api } = await workflowDeps().qualtrics();
    const report = await checkConnection(api, settings.origin);
    result = report.ok
      ? { ok: true, report }
      : {
          ok: false,
          report,
          error: { code: 'CONNECTION_CHECK_FAILED', message: report.problems.join('; ') },
        };
  } catch (err) {
    // Our errors' messages are PII- and secret-free by construction; anything else is named only.
    const error = isDsrError(err)
      ? { code: err.code, message: err.message }
      : {
          code: 'CONNECTION_CHECK_FAILED',
          message: `the connection check failed (${(err as Error)?.name ?? 'Error'})`,
        };
    result = { ok: false, error };
  }
  publishConnectionCheckMetric(!result.ok);
  if (result.ok) {
    logger.info('connection check passed', { brandId: result.report.qualtrics.brandId });
  } else {
    logger.error('connection check failed', { code: result.error.code, problem: result.error.message });
  }
  // Not thrown: the metric and its alarm report the failure; an async retry would only repeat it.
  return result;
}

export const handler = middy(async () => runConnectionCheck());
