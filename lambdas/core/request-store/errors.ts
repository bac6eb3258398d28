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

/**
 * A record whose attributes are not what this version writes (changed outside the connector, or
 * damaged storage). Names the attributes, never their values. Not retryable: it ends the request
 * FAILED (`RECORD_UNREADABLE`) with this reason.
 */
export class RecordUnreadableError extends DsrError {
  constructor(
    readonly requestId: string,
    readonly attributes: readonly string[],
  ) {
    super(
      ErrorNames.RecordUnreadable,
      `the record of request ${safeId(requestId)} is unreadable (${attributes.join(', ')} not as qualtrics-dsr writes them: changed by hand, or its storage is damaged); it cannot be run`,
      false,
    );
  }
  override get code(): string {
    return 'RECORD_UNREADABLE';
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

/** Why an extension is refused (README "Deadlines"); each a 409 of that code. */
export type ExtensionRefusal = 'ALREADY_EXTENDED' | 'OVERDUE' | 'ALREADY_COMPLETED';

const EXTENSION_REFUSALS: Record<ExtensionRefusal, string> = {
  ALREADY_EXTENDED: 'the due date was already extended (an extension is granted once)',
  OVERDUE: 'the request is past its due date: an extension must be announced within the first period',
  ALREADY_COMPLETED: 'the request is COMPLETED',
};

/** An extension the rules refuse: `code` is ALREADY_EXTENDED, OVERDUE or ALREADY_COMPLETED. */
export class ExtensionRefusedError extends DsrError {
  constructor(
    readonly requestId: string,
    readonly refusal: ExtensionRefusal,
  ) {
    super(ErrorNames.RequestConflict, `request ${safeId(requestId)}: ${EXTENSION_REFUSALS[refusal]}`, false);
  }
  override get code(): string {
    return this.refusal;
  }
}

/**
 * The request's raw email was erased (minimization, `QDSR_FORGET_EMAIL_AFTER_DAYS` after it
 * completed): what needs it — a retry, an export — cannot run. A 409 EMAIL_FORGOTTEN.
 */
export class EmailForgottenError extends DsrError {
  constructor(readonly requestId: string) {
    super(
      ErrorNames.RequestConflict,
      `request ${safeId(requestId)} no longer holds the subject's email (erased after it completed); submit a new request`,
      false,
    );
  }
  override get code(): string {
    return 'EMAIL_FORGOTTEN';
  }
}
