import type { DeadlineEventDetail, DeadlineEventType, EventPublisher } from '../events';
import {
  type DeadlineNotice,
  isTerminalStatus,
  MAX_RESUMPTIONS,
  RecordUnreadableError,
  type RequestRecord,
  RequestStateError,
  type RequestStore,
  type RequestSummary,
} from '../request-store';
import type { WorkflowStarter } from '../workflow-starter';

/**
 * The sweep (README "The sweep"): what keeps requests moving when nothing else does. It runs on a
 * schedule (hourly in AWS, every 10 minutes in `serve`) and on demand, and
 *  1. resumes stalled requests — open (RECEIVED, RUNNING, WAITING_ON_QUALTRICS) with no live
 *     execution — as a new execution that reuses every Qualtrics id in the record, at most
 *     MAX_RESUMPTIONS times per request, then fails it `STALLED`;
 *  2. warns of deadlines: `Privacy Request Due Soon` within `dueSoonDays` of the effective due date
 *     and `Privacy Request Overdue` past it, each once per request and due date;
 *  3. erases the raw emails past the minimization window.
 * Whether an execution is live is the runtime's to say (`liveness`): AWS asks Step Functions,
 * the local runtime its own running workflows. On doubt a request is left for the next sweep.
 */

/** Whether a request's workflow is running now. `unknown` (the answer could not be had): leave it. */
export type Liveness = 'live' | 'stalled' | 'unknown';

export interface SweepDeps {
  store: Pick<
    RequestStore,
    | 'openRequests'
    | 'get'
    | 'claimResumption'
    | 'fail'
    | 'unansweredDueBy'
    | 'markDeadlineNotice'
    | 'clearDeadlineNotice'
    | 'forgetEmails'
  >;
  starter: Pick<WorkflowStarter, 'start'>;
  liveness(record: RequestRecord): Promise<Liveness>;
  events: EventPublisher;
  /** `QDSR_DUE_SOON_DAYS`. */
  dueSoonDays: number;
  /** A record written less than this ago is not judged stalled (settings.ts STALL_GRACE_MS). */
  graceMs: number;
  log?: SweepLog;
}

export interface SweepLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface SweepResult {
  /** Stalled requests resumed by this sweep. */
  resumed: string[];
  /** Stalled requests failed `STALLED` by this sweep (resumed MAX_RESUMPTIONS times already). */
  failed: string[];
  /** Requests this sweep sent `Privacy Request Due Soon` for. */
  dueSoon: string[];
  /** Requests this sweep sent `Privacy Request Overdue` for. */
  overdue: string[];
  /** Records whose raw email this sweep erased. */
  emailsForgotten: number;
  /** Requests overdue now (not COMPLETED, past the effective due date): the `OverdueRequests` metric. */
  overdueRequests: number;
}

/** What `qualtrics-dsr sweep --json` prints and `POST /sweep` answers (README "The sweep"). */
export type SweepReport = Omit<SweepResult, 'overdueRequests'>;

export function sweepReport({ overdueRequests: _, ...report }: SweepResult): SweepReport {
  return report;
}

export const STALLED_CODE = 'STALLED';
const DAY_MS = 86_400_000;

const DETAIL_TYPES: Record<DeadlineNotice, DeadlineEventType> = {
  dueSoon: 'Privacy Request Due Soon',
  overdue: 'Privacy Request Overdue',
};

export async function sweep(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const result: SweepResult = {
    resumed: [],
    failed: [],
    dueSoon: [],
    overdue: [],
    emailsForgotten: 0,
    overdueRequests: 0,
  };
  await resumeStalled(deps, now, result);
  await warnOfDeadlines(deps, now, result);
  result.emailsForgotten = await deps.store.forgetEmails();
  deps.log?.info('sweep done', {
    resumed: result.resumed.length,
    failed: result.failed.length,
    dueSoon: result.dueSoon.length,
    overdue: result.overdue.length,
    emailsForgotten: result.emailsForgotten,
    overdueRequests: result.overdueRequests,
  });
  return result;
}

async function resumeStalled(deps: SweepDeps, now: Date, result: SweepResult): Promise<void> {
  const settledBefore = now.getTime() - deps.graceMs;
  for await (const summary of deps.store.openRequests()) {
    if (Date.parse(summary.updatedAt) > settledBefore) continue;
    const { requestId } = summary;
    try {
      const record = await deps.store.get(requestId);
      if (!record || isTerminalStatus(record.status) || Date.parse(record.updatedAt) > settledBefore)
        continue;
      // Never on doubt: only a definite "no live execution" counts.
      if ((await deps.liveness(record)) !== 'stalled') continue;
      if ((record.resumptions ?? 0) >= MAX_RESUMPTIONS) {
        await deps.store.fail(requestId, stalledError(record), { unchangedSince: record.updatedAt });
        result.failed.push(requestId);
        deps.log?.warn('stalled request failed', { requestId, resumptions: record.resumptions });
        continue;
      }
      const claimed = await deps.store.claimResumption(record);
      if (!claimed?.execution) continue; // another sweep, or the workflow itself, wrote it meanwhile
      result.resumed.push(requestId);
      deps.log?.info('stalled request resumed', { requestId, execution: claimed.execution.name });
      try {
        await deps.starter.start(record.type, requestId, claimed.execution.attempt);
      } catch (err) {
        // The resumption is counted and the execution named: the next sweep finds it not running
        // and tries again, up to the limit.
        deps.log?.warn('could not start the resumed execution', { requestId, error: errorName(err) });
      }
    } catch (err) {
      if (err instanceof RequestStateError) continue; // changed while we looked: next sweep
      if (err instanceof RecordUnreadableError) {
        // It can never run: it ends FAILED with that reason rather than being tried each sweep.
        await deps.store.fail(requestId, err).catch(() => undefined);
        result.failed.push(requestId);
        continue;
      }
      deps.log?.warn('could not sweep a request', { requestId, error: errorName(err) });
    }
  }
}

function stalledError(record: RequestRecord): { code: string; message: string } {
  const last = record.execution?.name ?? `${record.requestId}-1`;
  return {
    code: STALLED_CODE,
    message:
      `the workflow stopped without an outcome and was resumed ${MAX_RESUMPTIONS} times automatically ` +
      `(last execution ${last}); it is not resumed again. Find the cause in the execution history or the ` +
      `logs, then retry it (POST /requests/${record.requestId}/retry, or qualtrics-dsr retry ${record.requestId}): ` +
      'Qualtrics jobs already created are reused',
  };
}

async function warnOfDeadlines(deps: SweepDeps, now: Date, result: SweepResult): Promise<void> {
  const horizon = new Date(now.getTime() + deps.dueSoonDays * DAY_MS);
  for await (const summary of deps.store.unansweredDueBy(horizon)) {
    const kind: DeadlineNotice = summary.overdue ? 'overdue' : 'dueSoon';
    if (summary.overdue) result.overdueRequests++;
    try {
      await warnOnce(deps, summary, kind, result);
    } catch (err) {
      deps.log?.warn('could not warn of a deadline', { requestId: summary.requestId, error: errorName(err) });
    }
  }
}

/** Marks the warning sent, then publishes it; a failed publish takes the mark back for the next sweep. */
async function warnOnce(
  deps: SweepDeps,
  summary: RequestSummary,
  kind: DeadlineNotice,
  result: SweepResult,
): Promise<void> {
  const effectiveDueAt = summary.extendedDueAt ?? summary.dueAt;
  const at = await deps.store.markDeadlineNotice(summary.requestId, kind, effectiveDueAt);
  if (!at) return;
  const detail: DeadlineEventDetail = {
    requestId: summary.requestId,
    type: summary.type,
    jurisdiction: summary.jurisdiction,
    receivedAt: summary.receivedAt,
    dueAt: summary.dueAt,
    extendedDueAt: summary.extendedDueAt,
    effectiveDueAt,
    maskedEmail: summary.maskedEmail,
  };
  try {
    await deps.events.publish({ detailType: DETAIL_TYPES[kind], detail });
  } catch (err) {
    await deps.store.clearDeadlineNotice(summary.requestId, kind, at).catch(() => undefined);
    throw err;
  }
  result[kind].push(summary.requestId);
}

/** Only an error's name: a message could quote something it should not. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
