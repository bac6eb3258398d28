/**
 * The simulator's choices for the erasure API (`op-erase-personal-data`, docs/qualtrics-api.md#erasures),
 * in one place, each with how sure it is (the words of docs/qualtrics-api.md#confidence; "our choice"
 * where Qualtrics is silent).
 *
 *   POST /op-erase-personal-data  body {"emails": [1..500 strings], "searchOnly": boolean}
 *     → 200 {result: {requestId: "OP-<uuid>", user, created}}   shape documented, id format single source
 *     bad body → 400 errorCode QVAL_1                            our choice
 *   GET /op-erase-personal-data/{id}
 *     → 404 envelope (errorCode RESOURCE_NOT_FOUND) until Completed or Failed: "an error until done"
 *       single source, 404 our choice (docs/qualtrics-api.md#erasure-404-until-complete)
 *     → 200 {result: <record>} once Completed or Failed
 *   GET /op-erase-personal-data → {result: {elements: [<record>...], nextPage}}   oldest first: our choice
 *   record: lowercase `requestid` (corroborated), status Pending → InProgress → Completed | Failed
 *     (only Completed is single source; the rest our choice); emailsNotFound is [] until the request ends.
 */

export const ERASURE_ID_PREFIX = 'OP-';
export const MAX_ERASURE_EMAILS = 500; // the UI's bulk limit (documented); the API's is unconfirmed

export const ERASURE_STATUS = {
  pending: 'Pending',
  inProgress: 'InProgress',
  completed: 'Completed',
  failed: 'Failed',
} as const;

export type ErasureStatus = (typeof ERASURE_STATUS)[keyof typeof ERASURE_STATUS];

/** Fraction of an erasure's duration spent `Pending` before it turns `InProgress`. */
export const ERASURE_PENDING_FRACTION = 0.25;

export const ERASURE_FAILURE_REASON = 'Simulated failure: the erasure could not be completed.';

export function parseCreateErasureBody(
  body: unknown,
): { emails: string[]; searchOnly: boolean } | { problem: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problem: 'body must be a JSON object with emails and searchOnly' };
  }
  const { emails, searchOnly } = body as Record<string, unknown>;
  if (!Array.isArray(emails) || emails.length < 1 || emails.length > MAX_ERASURE_EMAILS) {
    return { problem: `emails must be an array of 1 to ${MAX_ERASURE_EMAILS} strings` };
  }
  if (!emails.every((e) => typeof e === 'string' && e.trim().length > 0)) {
    return { problem: 'every entry of emails must be a non-empty string' };
  }
  if (typeof searchOnly !== 'boolean') return { problem: 'searchOnly must be a boolean' };
  return { emails: emails as string[], searchOnly };
}

export interface ErasureRecordView {
  id: string;
  status: ErasureStatus;
  user: string;
  emailList: string[];
  emailsNotFound: string[];
  searchOnly: boolean;
  failureReason: string | null;
  /** Epoch ms. */
  created: number;
  /** Epoch ms of the last status change. */
  updated: number;
}

/**
 * Qualtrics stamps erasures in whole seconds (corroborated). A simulator whose clock runs `timeScale` times
 * real time keeps milliseconds instead (`subSecond`), so its stamps stay as precise, relative to
 * its compressed durations, as whole seconds are to real ones.
 */
export interface StampOptions {
  subSecond?: boolean;
}

function iso(ms: number, o: StampOptions): string {
  const full = new Date(ms).toISOString();
  return o.subSecond ? full : full.replace(/\.\d{3}Z$/, 'Z');
}

export function createErasureResult(r: ErasureRecordView, o: StampOptions = {}): Record<string, unknown> {
  return { requestId: r.id, user: r.user, created: iso(r.created, o) };
}

/** GET-by-id and list element (docs/qualtrics-api.md#erasures). */
export function erasureResult(r: ErasureRecordView, o: StampOptions = {}): Record<string, unknown> {
  return {
    requestid: r.id,
    status: r.status,
    user: r.user,
    numEmailsRequested: r.emailList.length,
    emailsNotFound: [...r.emailsNotFound],
    emailList: [...r.emailList],
    searchOnly: r.searchOnly,
    failureReason: r.failureReason,
    created: iso(r.created, o),
    updated: iso(r.updated, o),
  };
}

/** Whether GET-by-id answers 200 yet (else 404, like "still running"). */
export function erasureVisibleById(status: ErasureStatus): boolean {
  return status === ERASURE_STATUS.completed || status === ERASURE_STATUS.failed;
}
