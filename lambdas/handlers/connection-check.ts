import middy from '@middy/core';
import { type ConnectionReport, checkConnection } from '../core/connection-check';
import { isDsrError } from '../core/errors';
import { qualtricsSettings, workflowDeps } from '../core/workflow/deps';
import { stepLogger } from '../middleware';

/**
 * The scheduled connection check (BRIEF §4): token, whoami, granted vs required scopes. It emits
 * `ConnectionCheckFailed` (0 or 1) in the CloudWatch Embedded Metric Format — one JSON line on
 * stdout, which Lambda's log pipeline turns into a metric — and the stack alarms on it.
 */

export const CONNECTION_CHECK_METRIC = {
  namespace: 'QualtricsDsr',
  name: 'ConnectionCheckFailed',
} as const;

// The shared logger: JSON lines, silent outside Lambda unless POWERTOOLS_LOG_LEVEL asks, emails scrubbed.
const logger = stepLogger.createChild({ persistentKeys: { handler: 'connectionCheck' } });

export type ConnectionCheckResult =
  | { ok: true; report: ConnectionReport }
  | { ok: false; report?: ConnectionReport; error: { code: string; message: string } };

/** One EMF document: the metric without dimensions, so the alarm needs only namespace and name. */
export function connectionCheckMetricLine(failed: boolean, at: Date = new Date()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: CONNECTION_CHECK_METRIC.namespace,
          Dimensions: [[]],
          Metrics: [{ Name: CONNECTION_CHECK_METRIC.name, Unit: 'Count' }],
        },
      ],
    },
    [CONNECTION_CHECK_METRIC.name]: failed ? 1 : 0,
  });
}

export async function runConnectionCheck(
  write: (line: string) => void = (line) => process.stdout.write(line),
): Promise<ConnectionCheckResult> {
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
  write(`${connectionCheckMetricLine(!result.ok)}\n`);
  if (result.ok) {
    logger.info('connection check passed', { brandId: result.report.qualtrics.brandId });
  } else {
    logger.error('connection check failed', { code: result.error.code, problem: result.error.message });
  }
  // Not thrown: the metric and its alarm report the failure; an async retry would only repeat it.
  return result;
}

export const handler = middy(async () => runConnectionCheck());
