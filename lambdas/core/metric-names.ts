/**
 * The connector's own CloudWatch metrics (Powertools Metrics, Embedded Metric Format on stdout),
 * named once for the handlers that write them and the stack that alarms on them. No dimensions:
 * an alarm names a metric by namespace and name only.
 */
export const METRICS_NAMESPACE = 'QualtricsDsr';
/** 1 when a scheduled connection check failed, else 0 (lambdas/handlers/connection-check.ts). */
export const CONNECTION_CHECK_FAILED_METRIC = 'ConnectionCheckFailed';
/** Requests not COMPLETED and past their effective due date, at each sweep (lambdas/handlers/sweep.ts). */
export const OVERDUE_REQUESTS_METRIC = 'OverdueRequests';
