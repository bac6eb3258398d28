import type { ApiRequest, ApiResponse, SweepReport } from '../../lambdas/core/api';
import { LIST_LIMIT_MAX } from '../../lambdas/core/ledger';
import type { RequestStatus } from '../../lambdas/core/request-contract';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import type { BackgroundWorkflows } from '../api/background-workflows';

/**
 * The local sweep, as far as this process's durability needs it: every request that is neither
 * COMPLETED nor FAILED and that no workflow of this process runs (every workflow of a data dir
 * runs in its owner, so nothing else can be running it) was interrupted — by a crash, a kill, a
 * full disk — and is resumed, through the API's own retry of an interrupted request (its steps
 * reuse every Qualtrics id in the record). Then the emails due are forgotten.
 *
 * Deadline events and a cap on automatic resumptions belong to the full sweep (the same route),
 * which replaces this function.
 */

const OPEN_STATUSES: readonly RequestStatus[] = ['RECEIVED', 'RUNNING', 'WAITING_ON_QUALTRICS'];

export interface LocalSweepDeps {
  handle(req: ApiRequest): Promise<ApiResponse>;
  workflows: Pick<BackgroundWorkflows, 'isRunning'>;
}

export async function sweepLocally(deps: LocalSweepDeps): Promise<SweepReport> {
  const store = workflowDeps().store;
  const stalled: string[] = [];
  for (const status of OPEN_STATUSES) {
    let cursor: string | undefined;
    do {
      const page = await store.list({ status, limit: LIST_LIMIT_MAX, ...(cursor ? { cursor } : {}) });
      for (const r of page.requests)
        if (!(await deps.workflows.isRunning(r.requestId))) stalled.push(r.requestId);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  const resumed: string[] = [];
  const failed: string[] = [];
  for (const requestId of stalled) {
    const res = await deps.handle({
      method: 'POST',
      path: `/requests/${requestId}/retry`,
      headers: {},
      body: null,
      query: {},
    });
    if (res.statusCode === 202) {
      const status = (JSON.parse(res.body) as { status?: string }).status;
      (status === 'FAILED' ? failed : resumed).push(requestId);
    } else if (res.body.includes('"RECORD_UNREADABLE"')) {
      // It can never run: it ends FAILED with that reason instead of being tried again and again.
      await store.fail(requestId, { code: 'RECORD_UNREADABLE', message: 'unreadable record' });
      failed.push(requestId);
    }
    // Anything else (it ended or was resumed meanwhile): nothing to do this time.
  }
  const emailsForgotten = await store.forgetEmails();
  return { resumed, failed, dueSoon: [], overdue: [], emailsForgotten };
}
