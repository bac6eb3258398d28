import type { Readable } from 'node:stream';
import type { EndpointName } from './endpoints';

/** Normalized job status (the raw vocabulary is unconfirmed: docs/qualtrics-api.md#job-statuses). */
export type JobStatus = 'inProgress' | 'complete' | 'failed';

export interface WhoAmI {
  brandId: string;
  userId: string;
  userName?: string;
  accountType?: string;
  datacenter?: string;
  /** Personal data of the API user; never logged. */
  firstName?: string;
  lastName?: string;
  email?: string;
}

export interface Directory {
  directoryId: string;
  name?: string;
  contactCount?: number;
  isDefault?: boolean;
}

/** Opaque pagination cursor: either a `nextPage` URL or a `skipToken`. Contains no personal data. */
export type PageCursor = { nextPage: string } | { skipToken: string };

export interface Page<T> {
  elements: T[];
  /** Absent on the last page. */
  next?: PageCursor;
}

/**
 * A contact as returned by search: Qualtrics calls the id `id`, not `contactId`
 * (docs/qualtrics-api.md#directories-and-contacts).
 */
export interface ContactSummary {
  contactId: string;
  /** The whole element as Qualtrics sent it. */
  raw: Record<string, unknown>;
}

export interface CustomerDataProgress {
  status: JobStatus;
  percentComplete?: number;
  fileIds: string[];
  /** Qualtrics' own status string, kept for evidence. */
  rawStatus?: string;
  failureReason?: string;
}

export interface DownloadedFile {
  /** Bytes exactly as Qualtrics served them, streamed. */
  body: Readable;
  contentType: string;
  contentLength?: number;
}

export interface ErasureRequest {
  erasureRequestId: string;
  status: JobStatus;
  rawStatus?: string;
  searchOnly?: boolean;
  /** Personal data: emails Qualtrics did not find. Stays in the evidence record only. */
  emailsNotFound?: string[];
  /** Personal data: the emails the erasure was for (when Qualtrics lists them). Matching only, never stored. */
  emailList?: string[];
  numEmailsRequested?: number;
  failureReason?: string | null;
  created?: string;
  updated?: string;
}

/**
 * Called around every HTTP request the client makes (each page, each token request): the rate
 * limiter implements it, so no caller reaches Qualtrics around the limiter.
 */
export interface CallGate {
  /** Resolves when the call may go out; throws ThrottledError (or LimiterUnavailable) otherwise. */
  before(endpoint: EndpointName): Promise<void>;
  /** Reports the outcome; a 429 pushes the shared buckets back. */
  after(endpoint: EndpointName, outcome: { httpStatus: number; retryAfterSeconds?: number }): Promise<void>;
}

export interface QualtricsApi {
  whoami(): Promise<WhoAmI>;
  /** Scopes granted to the current token (from the token response; empty when Qualtrics omits them). */
  grantedScopes(): Promise<string[] | undefined>;
  listDirectoriesPage(cursor?: PageCursor): Promise<Page<Directory>>;
  listDirectories(): Promise<Directory[]>;
  searchContactsByEmailPage(
    directoryId: string,
    email: string,
    cursor?: PageCursor,
  ): Promise<Page<ContactSummary>>;
  searchContactsByEmail(directoryId: string, email: string): Promise<ContactSummary[]>;
  getContact(directoryId: string, contactId: string): Promise<Record<string, unknown>>;
  createCustomerDataRequest(email: string): Promise<{ customerDataRequestId: string }>;
  getCustomerDataRequest(customerDataRequestId: string): Promise<CustomerDataProgress>;
  downloadCustomerDataFile(customerDataRequestId: string, fileId: string): Promise<DownloadedFile>;
  createErasureRequest(emails: string[], searchOnly: boolean): Promise<{ erasureRequestId: string }>;
  /** A 404/400 before completion means "still running": resolves `{status: 'inProgress'}`, with `found: false`. */
  getErasureRequest(erasureRequestId: string): Promise<ErasureRequest & { found: boolean }>;
  listErasureRequestsPage(cursor?: PageCursor): Promise<Page<ErasureRequest>>;
  listErasureRequests(): Promise<ErasureRequest[]>;
}
