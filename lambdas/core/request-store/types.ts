import type { Channel, Jurisdiction, RequestOutcome, RequestSource } from '../ledger/jurisdictions';
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
  /** Which Qualtrics the request ran against: "simulator" or the origin; set by its first create. */
  target?: string;
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

/** When a due date was extended; the reason stays in the record, never in output, events or logs. */
export interface RequestExtension {
  at: string;
  reason: string;
}

export interface RequestRecord {
  pk: string;
  requestId: string;
  type: RequestType;
  status: RequestStatus;
  /**
   * The subject's email (normalized). The only place it is stored, besides the export bundle; erased
   * `QDSR_FORGET_EMAIL_AFTER_DAYS` after completion (`emailForgottenAt`).
   */
  email?: string;
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
  /** TTL (epoch seconds): `QDSR_RECORD_RETENTION_DAYS` after respondedAt, or receivedAt if never answered. */
  expiresAt: number;

  // The ledger (README "The request ledger"). Records made before it lack these; readers use
  // `ledgerOf`, which fills them in from what the record has.
  jurisdiction: Jurisdiction;
  /** When the controller received the request (normalized ISO-8601 UTC). */
  receivedAt: string;
  channel: Channel;
  source: RequestSource;
  dueAt: string;
  /** Set once, by an extension. */
  extendedDueAt?: string;
  /** extendedDueAt ?? dueAt, stored so queries can filter on it. */
  effectiveDueAt: string;
  extension?: RequestExtension;
  /** When it reached COMPLETED. */
  respondedAt?: string;
  outcome?: RequestOutcome;
  /** When `email` was erased. */
  emailForgottenAt?: string;

  // The sweep (README "The sweep").
  /** How many times the sweep resumed the request after its workflow stopped without an outcome. */
  resumptions?: number;
  /** When the Due Soon event went out, and for which effective due date (an extension earns a new one). */
  dueSoonNotifiedAt?: string;
  dueSoonNotifiedFor?: string;
  /** When the Overdue event went out. */
  overdueNotifiedAt?: string;

  // Index keys (lambdas/core/tables.ts, REQUESTS_TABLE_INDEXES): only request records carry them.
  ledgerPartition?: string;
  receivedAtKey?: string;
  subjectKey?: string;
  /** Present from completion until the email is forgotten. */
  forgetPartition?: string;
  forgetEmailAt?: string;
}

/** A record that still holds the subject's email (what every workflow step needs). */
export type RecordWithEmail = RequestRecord & { email: string };

/** What `status` / `GET /requests/{id}` return (README): no raw email, no evidence, no extension reason. */
export interface RequestStatusDocument {
  requestId: string;
  type: RequestType;
  status: RequestStatus;
  maskedEmail: string;
  dryRun?: boolean;
  jurisdiction: Jurisdiction;
  receivedAt: string;
  channel: Channel;
  source: RequestSource;
  dueAt: string;
  extendedDueAt: string | null;
  respondedAt: string | null;
  outcome: RequestOutcome | null;
  /** (respondedAt − receivedAt) in days, one decimal. */
  daysToRespond: number | null;
  /** Not COMPLETED and past the effective due date (extendedDueAt ?? dueAt), at the time of reading. */
  overdue: boolean;
  createdAt: string;
  updatedAt: string;
  timeline: TimelineEntry[];
  counts: RequestCounts;
  qualtrics: Pick<
    QualtricsRefs,
    'target' | 'customerDataRequestId' | 'fileIds' | 'erasureRequestId' | 'erasureStatus'
  >;
  error: RequestError | null;
}

/** One request in a list (`GET /requests`, search, records): the status document without its timeline. */
export type RequestSummary = Omit<RequestStatusDocument, 'timeline'>;
