import { InputError } from '../errors';
import { parseExecutionName } from '../execution-names';
import type { RequestOutcome } from '../ledger';
import { type CompleteInput, RecordUnreadableError, type RequestRecord } from '../request-store';
import { clip, scrubPii } from '../request-store/scrub';
import { exportPrefix } from '../tables';
import { loadRequest, type StepEnv } from './env';
import {
  AccessResult,
  type AccessResultValue,
  DeletionResult,
  type DeletionResultValue,
  type ExecutionEndedEvent,
  type RecordCompletedEvent,
  type RecordFailedEvent,
  type RecordStartedEvent,
} from './inputs';

/** The request-store steps that open and close every workflow. */

export async function recordStarted(
  env: StepEnv,
  { requestId, type }: RecordStartedEvent,
): Promise<{ requestId: string }> {
  const record = await loadRequest(env, requestId);
  if (record.type !== type) {
    throw new InputError(`request ${requestId} is a ${record.type} request, not ${type}`);
  }
  // RUNNING or WAITING_ON_QUALTRICS again: a re-run; COMPLETED or FAILED: the store refuses.
  await env.store.transition(requestId, 'RUNNING', 'STARTED', `${type} workflow started`);
  env.log.info('request started', { type });
  return { requestId };
}

export interface AccessSummary {
  requestId: string;
  type: 'access';
  status: 'COMPLETED';
  startedAt?: string;
  finishedAt?: string;
  counts: AccessResultValue['counts'];
  qualtrics: QualtricsOfSummary<AccessResultValue>;
  export: { bucket: string; prefix: string; manifestKey: string };
}

export interface DeletionSummary extends Omit<DeletionResultValue, 'qualtrics'> {
  requestId: string;
  type: 'deletion';
  status: 'COMPLETED';
  startedAt?: string;
  finishedAt?: string;
  qualtrics: QualtricsOfSummary<DeletionResultValue>;
}

/** A result's Qualtrics ids, and which Qualtrics they are of (`target`, once the request created a job). */
type QualtricsOfSummary<R extends { qualtrics: object }> = { target?: string } & R['qualtrics'];

export async function recordCompleted(
  env: StepEnv,
  { requestId, type, result }: RecordCompletedEvent,
): Promise<AccessSummary | DeletionSummary> {
  const record = await loadRequest(env, requestId);
  if (record.type !== type) {
    throw new InputError(`request ${requestId} is a ${record.type} request, not ${type}`);
  }
  const target = targetOf(record.qualtrics.target);
  const completion =
    type === 'access' ? accessCompletion(env, requestId, result, target) : deletionCompletion(result, target);
  const done = await env.store.complete(requestId, completion.stored);
  const summary = {
    requestId,
    status: 'COMPLETED' as const,
    startedAt: done.startedAt,
    finishedAt: done.finishedAt,
    ...completion.summary,
  };
  await env.events.publish({
    detailType: 'Privacy Request Completed',
    detail: { requestId, type, status: 'COMPLETED', maskedEmail: record.maskedEmail, ...completion.event },
  });
  env.log.info('request completed', { type });
  return summary;
}

/**
 * What a completed workflow's result puts in the record (`stored`), adds to the summary the
 * workflow returns, and adds to the Completed event (ids and counts only).
 */
interface Completion<S> {
  stored: CompleteInput;
  summary: S;
  event: Record<string, unknown>;
}

/** `{target}` when the record knows which Qualtrics the request ran against. */
const targetOf = (target: string | undefined): { target?: string } => (target ? { target } : {});

function accessCompletion(
  env: StepEnv,
  requestId: string,
  result: unknown,
  target: { target?: string },
): Completion<Omit<AccessSummary, 'requestId' | 'status' | 'startedAt' | 'finishedAt'>> {
  const r = parseResult(AccessResult, result);
  return {
    stored: { counts: r.counts, qualtrics: r.qualtrics, outcome: 'data-provided' },
    summary: {
      type: 'access',
      counts: r.counts,
      qualtrics: { ...target, ...r.qualtrics },
      export: { bucket: env.writer.bucket, prefix: exportPrefix(requestId), manifestKey: r.manifestKey },
    },
    event: { counts: r.counts, qualtrics: r.qualtrics },
  };
}

function deletionCompletion(
  result: unknown,
  target: { target?: string },
): Completion<Omit<DeletionSummary, 'requestId' | 'status' | 'startedAt' | 'finishedAt'>> {
  const r = parseResult(DeletionResult, result);
  const counts: Record<string, number> =
    'contactsRemaining' in r.verification ? { contactsRemaining: r.verification.contactsRemaining } : {};
  return {
    stored: {
      counts,
      qualtrics: { erasureRequestId: r.qualtrics.erasureRequestId, erasureStatus: r.qualtrics.status },
      outcome: deletionOutcome(r),
    },
    summary: { type: 'deletion', ...r, qualtrics: { ...target, ...r.qualtrics } },
    event: {
      dryRun: r.dryRun,
      counts,
      qualtrics: { erasureRequestId: r.qualtrics.erasureRequestId, status: r.qualtrics.status },
    },
  };
}

/**
 * The nature of a deletion's response (the records CSV's `outcome`): a dry run changed nothing;
 * otherwise Qualtrics erased the subject, or found nothing to erase. When the deletion counts as
 * done on submission (QDSR_DELETION_DONE=submitted) whether Qualtrics found the subject is not
 * known yet (`subjectFound` null): the erasure was made, so it is `deleted`.
 */
export function deletionOutcome(r: Pick<DeletionResultValue, 'dryRun' | 'subjectFound'>): RequestOutcome {
  if (r.dryRun) return 'dry-run';
  return r.subjectFound === false ? 'no-data-found' : 'deleted';
}

function parseResult<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError('the workflow result does not have the expected shape');
  return parsed.data;
}

/** `Qualtrics.JobFailed` → `QUALTRICS_JOB_FAILED` (the same rule as DsrError.code). */
export function errorCode(errorName: string): string {
  const code = errorName
    .replace(/[^A-Za-z0-9.]+/g, '_')
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
  return code || 'UNKNOWN';
}

/**
 * The readable part of a Step Functions `Cause`: a Lambda error's cause is JSON with an
 * `errorMessage`; a Fail state's is plain text.
 */
export function causeMessage(cause: unknown): string {
  if (typeof cause === 'string') {
    try {
      const parsed = JSON.parse(cause) as { errorMessage?: unknown };
      if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    } catch {
      // Plain text.
    }
    return cause;
  }
  if (
    cause &&
    typeof cause === 'object' &&
    typeof (cause as { errorMessage?: unknown }).errorMessage === 'string'
  ) {
    return (cause as { errorMessage: string }).errorMessage;
  }
  return '';
}

export async function recordFailed(
  env: StepEnv,
  { requestId, type, error }: RecordFailedEvent,
): Promise<{ requestId: string; status: 'FAILED'; error: { code: string } }> {
  let record: RequestRecord | undefined;
  try {
    record = await env.store.get(requestId);
  } catch (err) {
    // Unreadable: fail() ends it with that reason, whatever the step that met it said.
    if (!(err instanceof RecordUnreadableError)) throw err;
  }
  const code = errorCode(error.Error);
  // Whatever reached the Cause, the subject's email never reaches the record (any case, any encoding).
  const message = clip(scrubPii(causeMessage(error.Cause), record?.email), 1000) || 'no details';
  // Unknown: fail() throws RequestNotFoundError.
  const failed = await env.store.fail(requestId, { code, message });
  await env.events.publish({
    detailType: 'Privacy Request Failed',
    detail: {
      requestId,
      type,
      status: 'FAILED',
      ...(record ? { maskedEmail: record.maskedEmail } : {}),
      errorCode: failed.error?.code ?? code,
    },
  });
  env.log.warn('request failed', { type, errorCode: code });
  return { requestId, status: 'FAILED', error: { code: failed.error?.code ?? code } };
}

/**
 * The safety net for executions that end outside their own Catch (timed out, aborted, or failed
 * in "Record request failed" itself): the request must not stay RUNNING forever. Events for an
 * older attempt, an unknown name, or a request already COMPLETED/FAILED change nothing.
 */
export async function executionEnded(
  env: StepEnv,
  { detail }: ExecutionEndedEvent,
): Promise<{ requestId?: string; changed: boolean }> {
  const requestId = parseExecutionName(detail.name)?.requestId;
  if (!requestId) return { changed: false };
  const record = await env.store.get(requestId);
  if (!record || record.status === 'COMPLETED' || record.status === 'FAILED')
    return { requestId, changed: false };
  if (record.execution?.name && record.execution.name !== detail.name) return { requestId, changed: false };
  const status =
    detail.status === 'TIMED_OUT' ? 'TimedOut' : detail.status === 'ABORTED' ? 'Aborted' : 'Failed';
  await recordFailed(env, {
    requestId,
    type: record.type,
    error: {
      Error: `Execution.${status}`,
      Cause: `the workflow execution ${detail.name} ended ${detail.status.toLowerCase().replace('_', ' ')}${
        detail.error ? ` (${detail.error})` : ''
      } outside its own error handling; retry the request`,
    },
  });
  return { requestId, changed: true };
}
