import { type EvidenceDocument, withoutRawEmails } from '../evidence';
import type { RequestRecord } from '../request-store/types';
import { evidenceKey } from '../tables';
import { ApiError } from './errors';

/**
 * `GET /requests/{id}/evidence` and `qualtrics-dsr evidence` (README "Deletion evidence"): the
 * evidence document of a deletion, as stored, without any raw email (evidence written before its
 * emailsNotFound was masked is masked on the way out).
 */
export async function readEvidence(
  deps: {
    store: { get(requestId: string): Promise<RequestRecord | undefined> };
    bundles: { readJson<T = unknown>(key: string): Promise<T | undefined> };
  },
  requestId: string,
): Promise<EvidenceDocument> {
  const record = await deps.store.get(requestId);
  if (!record) throw new ApiError(404, 'REQUEST_NOT_FOUND', 'no request with this id');
  if (record.type !== 'deletion') {
    throw new ApiError(409, 'NO_EVIDENCE', 'only deletion requests have evidence; this is an access request');
  }
  const evidence = await deps.bundles.readJson<EvidenceDocument>(evidenceKey(requestId));
  if (evidence) return withoutRawEmails(evidence);
  if (record.status === 'COMPLETED') {
    throw new ApiError(410, 'EVIDENCE_EXPIRED', 'the evidence of this request is no longer stored');
  }
  throw new ApiError(
    409,
    'EVIDENCE_NOT_READY',
    `the request is ${record.status}; its evidence is written when the deletion completes`,
  );
}
