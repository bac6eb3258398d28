import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import {
  ApiError,
  inputErrorCode,
  isInputError,
  MAX_BODY_BYTES,
  submitRequest,
  validateCreateRequest,
} from '../core/api';
import { type DsrError, InputError } from '../core/errors';
import type { CreateRequestInput } from '../core/request-store';
import { workflowDeps } from '../core/workflow/deps';
import { workflowStarter } from '../core/workflow-starter';
import { stepLogger } from '../middleware';

/**
 * EventBridge `Privacy Request Submitted` → a request, validated exactly like `POST /requests`,
 * recorded and started. Every failure is thrown, so the event is never silently lost: a failure to
 * record or start is retried by Lambda (the event id is the default idempotency key, so a retried
 * event never makes a second request); an invalid event fails the same way on every attempt and
 * then lands in the intake dead-letter queue, whose alarm tells the operator (docs/deploy.md).
 * The error names the rule the event broke and its code, never a value from it.
 */

export const INTAKE_DETAIL_TYPE = 'Privacy Request Submitted';

// The shared logger: JSON lines, silent outside Lambda unless POWERTOOLS_LOG_LEVEL asks, emails scrubbed.
const logger = stepLogger.createChild({ persistentKeys: { handler: 'intakeEvent' } });

export interface IntakeResult {
  accepted: true;
  requestId: string;
  status: string;
  created: boolean;
}

/** An event no attempt can accept: thrown so that Lambda parks it in the dead-letter queue. */
export class IntakeRejectedError extends InputError {
  constructor(
    readonly rejection: string,
    reason: string,
  ) {
    super(`privacy request event rejected (${rejection}): ${reason}`);
  }
}

export async function handleIntakeEvent(event: EventBridgeEvent<string, unknown>): Promise<IntakeResult> {
  let input: CreateRequestInput;
  try {
    input = intakeInput(event);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // The message names the rule broken but never the value; the code alone is enough to alert on.
    logger.warn('privacy request event rejected', { code: err.code, eventId: safeEventId(event) });
    throw new IntakeRejectedError(err.code, err.message);
  }
  try {
    const { record, created, status } = await submitRequest(
      { store: workflowDeps().store, starter: workflowStarter() },
      input,
    );
    logger.info('privacy request event accepted', { requestId: record.requestId, created, status });
    return { accepted: true, requestId: record.requestId, status, created };
  } catch (err) {
    // Bad input the store caught (an idempotency key reused for another request): reject the event.
    if (err instanceof ApiError ? err.status < 500 : isInputError(err)) {
      const code = err instanceof ApiError ? err.code : inputErrorCode(err as DsrError);
      logger.warn('privacy request event rejected', { code, eventId: safeEventId(event) });
      throw new IntakeRejectedError(code, (err as Error).message);
    }
    logger.error('privacy request event failed', {
      errorName: (err as Error)?.name ?? 'Error',
      code: (err as { code?: unknown })?.code,
    });
    throw err;
  }
}

function intakeInput(event: EventBridgeEvent<string, unknown>): CreateRequestInput {
  if (event?.['detail-type'] !== INTAKE_DETAIL_TYPE) {
    throw new ApiError(400, 'UNSUPPORTED_EVENT', `only "${INTAKE_DETAIL_TYPE}" events start requests`);
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(event.detail) ?? '');
  } catch {
    throw new ApiError(400, 'INVALID_BODY', 'the event detail is not serializable JSON');
  }
  if (size > MAX_BODY_BYTES) {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `the event detail must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const input = validateCreateRequest(event.detail);
  const eventId = safeEventId(event);
  // EventBridge delivers at least once, and a failed invocation is retried with the same event:
  // without a key of its own, the event id makes the request idempotent.
  if (input.idempotencyKey === undefined && eventId) input.idempotencyKey = `event:${eventId}`;
  return { ...input, source: 'event' };
}

function safeEventId(event: EventBridgeEvent<string, unknown>): string | undefined {
  const id = event?.id;
  return typeof id === 'string' && /^[A-Za-z0-9-]{1,100}$/.test(id) ? id : undefined;
}

export const handler = middy(handleIntakeEvent);
