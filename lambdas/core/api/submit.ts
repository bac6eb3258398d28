import type { CreateRequestInput, RequestRecord, RequestStore } from '../request-store';
import type { WorkflowStarter } from '../workflow-starter';
import { ApiError } from './errors';

/**
 * Records a validated request and starts its workflow: the one path from `POST /requests` and
 * from the EventBridge intake. Never leaves a request RECEIVED without a workflow: when the start
 * fails the request is FAILED (and can be retried).
 */

export interface SubmitDeps {
  store: Pick<RequestStore, 'create' | 'recordExecution' | 'fail'>;
  starter: WorkflowStarter;
}

export interface Submitted {
  record: RequestRecord;
  /** False for a replay of an idempotency key. */
  created: boolean;
  /** The status after the start (the workflow may already have moved it on). */
  status: RequestRecord['status'];
}

export async function submitRequest(deps: SubmitDeps, input: CreateRequestInput): Promise<Submitted> {
  const { record, created } = await deps.store.create(input);
  let status = record.status;
  // A replay of a request whose first call stopped before starting it starts it now; the
  // execution name is deterministic, so a concurrent start of the same request is harmless.
  if (created || (record.status === 'RECEIVED' && !record.execution)) {
    status = await startWorkflow(deps, record);
  }
  return { record, created, status };
}

async function startWorkflow(deps: SubmitDeps, record: RequestRecord): Promise<RequestRecord['status']> {
  let executionName: string;
  try {
    ({ executionName } = await deps.starter.start(record.type, record.requestId));
  } catch (err) {
    await deps.store
      .fail(record.requestId, {
        code: 'WORKFLOW_START_FAILED',
        message: 'the workflow could not be started; retry the request',
      })
      .catch(() => undefined);
    throw new ApiError(
      503,
      'WORKFLOW_START_FAILED',
      `request ${record.requestId} was recorded but its workflow could not be started; it is FAILED and can be retried with POST /requests/${record.requestId}/retry`,
      { 'retry-after': '5' },
      { cause: err },
    );
  }
  try {
    const updated = await deps.store.recordExecution(record.requestId, { name: executionName, attempt: 1 });
    return updated.status;
  } catch {
    // The workflow runs; only the bookkeeping of its name failed (a replay starts the same name again).
    return record.status;
  }
}
