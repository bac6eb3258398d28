import { isRetryableAwsError } from '../aws-errors';
import { DsrError, ErrorNames, InputError } from '../errors';
import { isRequestId } from '../request-contract';
import type { RequestStatus } from './types';

/** The idempotency key was used before for a different request (type, subject or dry run). */
export class IdempotencyConflictError extends InputError {
  constructor() {
    super('idempotencyKey was already used for a different request');
  }
  override get code(): string {
    return 'IDEMPOTENCY_CONFLICT';
  }
}

export class RequestNotFoundError extends DsrError {
  constructor(readonly requestId: string) {
    super(ErrorNames.RequestNotFound, `request ${safeId(requestId)} not found`, false);
  }
}

/** The record's status forbids the write (a terminal status is left only by `reopenForRetry`). */
export class RequestStateError extends DsrError {
  constructor(
    readonly requestId: string,
    readonly currentStatus: RequestStatus,
    readonly attempted: string,
  ) {
    super(
      ErrorNames.RequestConflict,
      `request ${safeId(requestId)} is ${currentStatus}: cannot ${attempted}`,
      false,
    );
  }
}

/** DynamoDB failed for another reason than a condition; retryable when it was throttling or 5xx. */
export class StorageError extends DsrError {
  constructor(operation: string, cause: unknown) {
    const name = (cause as { name?: string })?.name ?? 'Error';
    const status = (cause as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    // SDK messages may quote key values; keep only the error name and status.
    super(
      ErrorNames.Storage,
      `DynamoDB ${operation} failed: ${name}${status ? ` (HTTP ${status})` : ''}`,
      isRetryableAwsError(cause),
      { cause },
    );
  }
}

/** Request ids are UUIDs; anything else is not echoed (it could be user input). */
function safeId(id: string): string {
  return isRequestId(id) ? id : '(invalid id)';
}
