import { DsrError, ErrorNames, QualtricsError, ThrottledError } from '../errors';
import type { QualtricsJobKind } from '../request-store';

/**
 * Creating a Qualtrics job or erasure must never be repeated blindly (a second customer-data job,
 * a second erasure). The request record keeps a claim, then the id; these helpers decide, after a
 * failed create, whether Qualtrics certainly did not create anything (the claim may be released so
 * a retry creates) or whether the outcome is unknown (the claim stays, and a retry must not create).
 */

const KIND_WORDS: Record<QualtricsJobKind, string> = {
  customerData: 'customer-data job',
  erasure: 'erasure request',
};

/** Statuses with which Qualtrics answered without creating anything. */
const DEFINITELY_NOT_CREATED_STATUSES = new Set([400, 401, 403, 404, 409, 411, 413, 415, 422, 429, 503]);

export function definitelyNotCreated(e: unknown): boolean {
  // The limiter refused, or could not be asked: the request never left.
  if (e instanceof ThrottledError) return true;
  if (e instanceof DsrError && e.name === ErrorNames.LimiterUnavailable) return true;
  if (e instanceof DsrError && e.name === ErrorNames.Config) return true;
  if (e instanceof QualtricsError) {
    // A failing token request happens before the create is sent.
    if (e.endpoint === 'token') return true;
    return DEFINITELY_NOT_CREATED_STATUSES.has(e.httpStatus);
  }
  return false;
}

/** A claim without an id: an earlier attempt may have created the job. Not retryable. */
export class AmbiguousCreateError extends DsrError {
  constructor(kind: QualtricsJobKind, claimedAt?: string) {
    super(
      ErrorNames.AmbiguousCreate,
      `an earlier attempt to create the Qualtrics ${KIND_WORDS[kind]}${claimedAt ? ` (started ${claimedAt})` : ''} ` +
        'ended without a known outcome; it is not repeated, so that no second one is created. ' +
        'Check Qualtrics before submitting the request again',
      false,
    );
  }
}
