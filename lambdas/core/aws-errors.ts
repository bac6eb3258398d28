/**
 * What an AWS SDK v3 failure says about trying again. The request store, the step error mapping
 * (middleware) and the Secrets Manager read all ask this one question; they differ only in what
 * they make of the answer.
 */

/**
 * Error names of throttling and of server-side trouble across DynamoDB, S3, Secrets Manager, Step
 * Functions and EventBridge. Some arrive with a 400 (`ThrottlingException`,
 * `ProvisionedThroughputExceededException`), so the name counts as much as the status.
 */
const RETRYABLE_NAME =
  /Throttl|TooManyRequests|ProvisionedThroughputExceeded|RequestLimitExceeded|SlowDown|ServiceUnavailable|InternalError|InternalServerError|RequestTimeout|TimeoutError/i;

/** Node's own transport errors (`code`), for failures that never went through the SDK's retry layer. */
const NETWORK_CODE =
  /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|TimeoutError|AbortError)$/;

export interface AwsSdkErrorInfo {
  name: string;
  /** The HTTP status AWS answered with; undefined when no answer arrived. */
  status?: number;
}

/**
 * An AWS SDK v3 service or transport error: it carries `$metadata` (the SDK adds it to network
 * errors too, once its own retries are spent). Undefined for anything else.
 */
export function awsSdkError(e: unknown): AwsSdkErrorInfo | undefined {
  const err = e as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (!err || typeof err !== 'object' || !('$metadata' in err)) return undefined;
  return {
    name: typeof err.name === 'string' ? err.name : 'Error',
    status: err.$metadata?.httpStatusCode,
  };
}

/**
 * Whether an AWS call that failed with `e` may succeed when repeated later: throttling or a server
 * fault by name, a 5xx or 429, or no answer at all (network error, timeout, connection refused).
 * Any other answer (access denied, not found, validation) will be the same next time.
 */
export function isRetryableAwsError(e: unknown): boolean {
  const err = e as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (typeof err?.name === 'string' && RETRYABLE_NAME.test(err.name)) return true;
  const status = err?.$metadata?.httpStatusCode;
  if (status === undefined) return true;
  return status >= 500 || status === 429;
}

/** The code of a Node transport error (`ECONNRESET`, …) raised outside the SDK: worth another try. */
export function networkErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODE.test(code) ? code : undefined;
}
