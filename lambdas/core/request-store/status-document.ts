import { daysToRespond, isOverdue, ledgerOf, type StoredLedger } from './ledger-attributes';
import type { RequestRecord, RequestStatusDocument, RequestSummary } from './types';

/** An item of the requests table or of a ledger index: the summary attributes at least. */
export type SummaryItem = StoredLedger &
  Pick<RequestRecord, 'requestId' | 'maskedEmail' | 'updatedAt'> &
  Partial<Pick<RequestRecord, 'counts' | 'qualtrics' | 'error'>>;

/**
 * What a list, a search and the records export show of a request: the masked email, never the raw
 * one, the evidence or an extension's reason. `overdue` is judged at `now`.
 */
export function toSummary(r: SummaryItem, now: Date): RequestSummary {
  const q = r.qualtrics ?? {};
  const qualtrics: RequestSummary['qualtrics'] = {};
  if (q.target) qualtrics.target = q.target;
  if (q.customerDataRequestId) qualtrics.customerDataRequestId = q.customerDataRequestId;
  if (q.fileIds) qualtrics.fileIds = q.fileIds;
  if (q.erasureRequestId) qualtrics.erasureRequestId = q.erasureRequestId;
  if (q.erasureStatus) qualtrics.erasureStatus = q.erasureStatus;
  const ledger = ledgerOf(r);
  const doc: RequestSummary = {
    requestId: r.requestId,
    type: r.type,
    status: r.status,
    maskedEmail: r.maskedEmail,
    jurisdiction: ledger.jurisdiction,
    receivedAt: ledger.receivedAt,
    channel: ledger.channel,
    source: ledger.source,
    dueAt: ledger.dueAt,
    extendedDueAt: ledger.extendedDueAt,
    respondedAt: ledger.respondedAt,
    outcome: ledger.outcome,
    daysToRespond: daysToRespond(ledger),
    overdue: isOverdue(r.status, ledger, now),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    counts: r.counts ?? {},
    qualtrics,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
  if (r.dryRun !== undefined) doc.dryRun = r.dryRun;
  return doc;
}

/** What `status` and `GET /requests/{id}` show of a record: its summary and its timeline. */
export function toStatusDocument(r: RequestRecord, now: Date): RequestStatusDocument {
  const { counts, qualtrics, error, ...head } = toSummary(r, now);
  return { ...head, timeline: r.timeline ?? [], counts, qualtrics, error };
}
