import type { MiddlewareObj } from '@middy/core';
import { awsSdkError, isRetryableAwsError, networkErrorCode } from '../core/aws-errors';
import { DsrError, ErrorNames, InputError } from '../core/errors';

/**
 * What a failed step throws to Step Functions. A DsrError keeps its name: it is the error name the
 * ASL's Retry and Catch match. Anything else is replaced by an error whose message cannot carry
 * personal data (an SDK or runtime message may quote a request): AWS SDK failures that are worth
 * another try become `Storage.Unavailable` (retried), the rest `Internal.Error`.
 */

export const INTERNAL_ERROR = 'Internal.Error';

export class InternalError extends Error {
  override readonly name = INTERNAL_ERROR;
  readonly retryable = false;
  constructor(
    message: string,
    /** The replaced error's name, for the log line. */
    readonly originalName: string,
  ) {
    super(message);
  }
}

export function toStepError(e: unknown, step: string): Error {
  if (e instanceof DsrError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  const originalName = typeof name === 'string' && /^[\w.$-]{1,80}$/.test(name) ? name : 'Error';
  if (originalName === 'ZodError') return new InputError(`invalid input to step ${step}`);
  const aws = awsSdkError(e);
  if (aws) {
    const detail = `${aws.name}${aws.status ? `, HTTP ${aws.status}` : ''}`;
    if (isRetryableAwsError(e)) return new DsrError(ErrorNames.Storage, `AWS call failed (${detail})`, true);
    return new InternalError(`AWS call failed in step ${step} (${detail})`, originalName);
  }
  const code = networkErrorCode(e);
  if (code) {
    return new DsrError(ErrorNames.Storage, `AWS call failed (network error ${code})`, true);
  }
  return new InternalError(`internal error in step ${step} (${originalName})`, originalName);
}

/** Replaces `request.error` with its step error (middy then throws it). */
export function stepErrors(step: string): MiddlewareObj {
  return {
    onError: (request) => {
      if (request.error) request.error = toStepError(request.error, step);
    },
  };
}
