import type { RequestStatus, RequestType } from '../request-contract';

/** The request record (one DynamoDB item per privacy request) and the documents derived from it. */

export {
  isTerminalStatus,
  REQUEST_STATUSES,
  REQUEST_TYPES,
  type RequestStatus,
  type RequestType,
  TERMINAL_STATUSES,
} from '../request-contract';

/** One step of the audit trail. `detail` is PII-free (ids, counts, codes). */
export interface TimelineEntry {
  at: string;
  step: string;
  detail?: string;
}

/** Open-ended, but these are the counts the summaries and the manifest use. */
export interface RequestCounts {
  directoriesSearched?: number;
  contactsFound?: number;
  files?: number;
  contactsRemaining?: number;
  [name: string]: number | undefined;
}

export type QualtricsJobKind = 'customerData' | 'erasure';

export interface QualtricsRefs {
  customerDataRequestId?: string;
  fileIds?: string[];
  erasureRequestId?: string;
  erasureStatus?: string;
  /** When a create step claimed the right to create the job (see `claimQualtricsCreate`). */
  customerDataCreateClaimedAt?: string;
  erasureCreateClaimedAt?: string;
}

export interface RequestError {
  code: string;
  message: string;
}

export interface RequestRecord {
  pk: string;
  requestId: string;
  type: RequestType;
  status: RequestStatus;
  /** The subject's email (normalized). The only place it is stored, besides the export bundle. */
  email: string;
  maskedEmail: string;
  emailSha256: string;
  dryRun?: boolean;
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
  /** First move to RUNNING. */
  startedAt?: string;
  /** Move to COMPLETED or FAILED. */
  finishedAt?: string;
  timeline: TimelineEntry[];
  counts: RequestCounts;
  qualtrics: QualtricsRefs;
  error?: RequestError;
  /** Deletion evidence (erasure id, statuses with timestamps, emailsNotFound). Never in output. */
  evidence?: Record<string, unknown>;
  execution?: { name: string; attempt: number };
  /** TTL (epoch seconds). */
  expiresAt: number;
}

/** What `status` / `GET /requests/{id}` return (BRIEF §3): no raw email, no evidence. */
export interface RequestStatusDocument {
  requestId: string;
  type: RequestType;
  status: RequestStatus;
  maskedEmail: string;
  dryRun?: boolean;
  createdAt: string;
  updatedAt: string;
  timeline: TimelineEntry[];
  counts: RequestCounts;
  qualtrics: Pick<QualtricsRefs, 'customerDataRequestId' | 'fileIds' | 'erasureRequestId' | 'erasureStatus'>;
  error: RequestError | null;
}
