import type { RequestRecord, RequestStatusDocument } from './types';

/** What `status` and `GET /requests/{id}` show of a record: the masked email, never the raw one or the evidence. */
export function toStatusDocument(r: RequestRecord): RequestStatusDocument {
  const q = r.qualtrics ?? {};
  const qualtrics: RequestStatusDocument['qualtrics'] = {};
  if (q.customerDataRequestId) qualtrics.customerDataRequestId = q.customerDataRequestId;
  if (q.fileIds) qualtrics.fileIds = q.fileIds;
  if (q.erasureRequestId) qualtrics.erasureRequestId = q.erasureRequestId;
  if (q.erasureStatus) qualtrics.erasureStatus = q.erasureStatus;
  const doc: RequestStatusDocument = {
    requestId: r.requestId,
    type: r.type,
    status: r.status,
    maskedEmail: r.maskedEmail,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    timeline: r.timeline ?? [],
    counts: r.counts ?? {},
    qualtrics,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
  if (r.dryRun !== undefined) doc.dryRun = r.dryRun;
  return doc;
}
