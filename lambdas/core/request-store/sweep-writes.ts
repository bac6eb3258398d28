import { executionName } from '../execution-names';
import type { RequestStatus } from '../request-contract';
import { REQUESTS_TABLE_INDEXES, TTL_ATTRIBUTE } from '../tables';
import { allItems, type IndexQuery } from './ledger-queries';
import { type SummaryItem, toSummary } from './status-document';
import { epochSeconds, type RequestTable } from './table';
import type { RequestRecord, RequestSummary } from './types';
import { combine, type UpdateSpec } from './update-expression';
import { appendToTimeline, timelineEntry } from './updates';

/**
 * The request store's side of the sweep (README "The sweep"): the open requests and those near or
 * past their due date, read from the `byStatus` index (never a Scan), and the conditional writes
 * that make a resumption and a deadline warning happen once however many sweeps run at once.
 */

/** The statuses of a request whose workflow should still be running. */
export const OPEN_STATUSES = [
  'RECEIVED',
  'RUNNING',
  'WAITING_ON_QUALTRICS',
] as const satisfies readonly RequestStatus[];
/** Not answered: what can be due soon or overdue. */
const UNANSWERED_STATUSES = [...OPEN_STATUSES, 'FAILED'] as const satisfies readonly RequestStatus[];

/** Automatic resumptions of one request before it ends FAILED `STALLED`. */
export const MAX_RESUMPTIONS = 3;

export type DeadlineNotice = 'dueSoon' | 'overdue';

const { byStatus } = REQUESTS_TABLE_INDEXES;

const notExpired = (now: Date) => ({
  expression: '(attribute_not_exists(#ttl) OR #ttl >= :nowEpoch)',
  names: { '#ttl': TTL_ATTRIBUTE },
  values: { ':nowEpoch': epochSeconds(now) },
});

async function* inStatuses(
  table: RequestTable,
  statuses: readonly RequestStatus[],
  now: Date,
  extra: IndexQuery['filters'] = [],
): AsyncGenerator<RequestSummary & { status: RequestStatus }> {
  for (const status of statuses) {
    const q: IndexQuery = {
      index: byStatus,
      partition: status,
      newestFirst: false,
      filters: [notExpired(now), ...extra],
    };
    for await (const item of allItems(table, q)) {
      // The index leaves out its own partition key's value from the projection list: put it back.
      yield toSummary({ ...(item as unknown as SummaryItem), status }, now);
    }
  }
}

/** Every request in RECEIVED, RUNNING or WAITING_ON_QUALTRICS, oldest receipt first per status. */
export function openRequests(table: RequestTable, now: Date): AsyncIterable<RequestSummary> {
  return inStatuses(table, OPEN_STATUSES, now);
}

/** Every request not answered (open or FAILED) whose effective due date is at or before `by`. */
export function unansweredDueBy(table: RequestTable, by: Date, now: Date): AsyncIterable<RequestSummary> {
  return inStatuses(table, UNANSWERED_STATUSES, now, [
    {
      expression: '#due <= :dueBy',
      names: { '#due': 'effectiveDueAt' },
      values: { ':dueBy': by.toISOString() },
    },
  ]);
}

/** The record has not been written since `updatedAt` (the sweep acts on what it saw, or not at all). */
export const unchangedSince = (updatedAt: string): UpdateSpec => ({
  values: { ':seenUpdatedAt': updatedAt },
  condition: 'updatedAt = :seenUpdatedAt',
});

/**
 * Counts a resumption and names the execution that will run the request: attempt + 1 of the one
 * the record names. Only when the record is as the sweep saw it (`seen.updatedAt`) and has been
 * resumed fewer than MAX_RESUMPTIONS times: two sweeps never resume one request twice. The new
 * record, or undefined when it changed meanwhile.
 */
export async function claimResumption(
  table: RequestTable,
  seen: RequestRecord,
  now: Date,
): Promise<RequestRecord | undefined> {
  const attempt = (seen.execution?.attempt ?? 1) + 1;
  const name = executionName(seen.requestId, attempt);
  const count = (seen.resumptions ?? 0) + 1;
  const spec = combine(
    unchangedSince(seen.updatedAt),
    {
      set: ['execution = :execution', 'resumptions = if_not_exists(resumptions, :zero) + :one'],
      values: { ':execution': { name, attempt }, ':zero': 0, ':one': 1, ':maxResumptions': MAX_RESUMPTIONS },
      condition: 'attribute_not_exists(resumptions) OR resumptions < :maxResumptions',
    },
    appendToTimeline(
      timelineEntry(
        now,
        'RESUMED',
        `no live execution ran the request; resumed as ${name} (${count} of ${MAX_RESUMPTIONS} automatic resumptions), reusing every Qualtrics id recorded`,
      ),
    ),
  );
  return table.updateRecord(seen.requestId, 'claimResumption', spec, now);
}

/**
 * Marks the deadline warning of `kind` as sent for the effective due date `dueAt`, before it is
 * published: only one sweep ever gets the mark (a Due Soon per due date, so an extension earns a
 * new one; one Overdue). The mark's time, or undefined when it was set already or the request was
 * answered or its due date changed meanwhile.
 */
export async function markDeadlineNotice(
  table: RequestTable,
  requestId: string,
  kind: DeadlineNotice,
  dueAt: string,
  now: Date,
): Promise<string | undefined> {
  const at = now.toISOString();
  const common: UpdateSpec = {
    names: { '#status': 'status', '#due': 'effectiveDueAt' },
    values: { ':completed': 'COMPLETED', ':due': dueAt },
    condition: '#status <> :completed AND #due = :due',
  };
  const mark: UpdateSpec =
    kind === 'dueSoon'
      ? {
          set: ['dueSoonNotifiedAt = :noticeAt', 'dueSoonNotifiedFor = :due'],
          values: { ':noticeAt': at },
          condition: 'attribute_not_exists(dueSoonNotifiedFor) OR dueSoonNotifiedFor <> :due',
        }
      : {
          set: ['overdueNotifiedAt = :noticeAt'],
          values: { ':noticeAt': at },
          condition: 'attribute_not_exists(overdueNotifiedAt) AND #due < :noticeAt',
        };
  const updated = await table.updateRecord(requestId, `mark ${kind} notice`, combine(common, mark), now);
  return updated ? at : undefined;
}

/** Takes back a mark whose event could not be published, so the next sweep sends it. */
export async function clearDeadlineNotice(
  table: RequestTable,
  requestId: string,
  kind: DeadlineNotice,
  at: string,
): Promise<void> {
  const spec: UpdateSpec =
    kind === 'dueSoon'
      ? {
          remove: ['dueSoonNotifiedAt', 'dueSoonNotifiedFor'],
          values: { ':noticeAt': at },
          condition: 'dueSoonNotifiedAt = :noticeAt',
        }
      : {
          remove: ['overdueNotifiedAt'],
          values: { ':noticeAt': at },
          condition: 'overdueNotifiedAt = :noticeAt',
        };
  await table.updateRecord(requestId, `clear ${kind} notice`, spec);
}
