import { emailSha256, maskEmail, normalizeEmail } from './privacy';
import { scrubPii } from './request-store/scrub';

/**
 * The deletion evidence (README "Deletion evidence"): what the erasure did, kept in the request
 * record while it runs and written to `evidence/<requestId>.json` at the end. It names the subject
 * by hash and masked email only — never the raw email — so it may outlive the record's email
 * (minimization) and be handed out by the API.
 */

/** 2.0: `emailsNotFound` holds masked, hashed entries instead of Qualtrics' raw addresses. */
export const EVIDENCE_SCHEMA_VERSION = '2.0';

/** An address Qualtrics listed as not found, without the address itself. */
export interface EmailNotFound {
  maskedEmail: string;
  /** SHA-256 of the normalized address: equals `subject.emailSha256` when it is the subject. */
  emailSha256: string;
}

/** The evidence kept in the request record (and, completed, in the evidence document). */
export interface ErasureEvidence {
  erasureRequestId: string;
  searchOnly: boolean;
  createdAt: string;
  /** Each status Qualtrics reported (and our own 'submitted'), when we first saw it. */
  statuses: Array<{ at: string; status: string }>;
  /** The emails Qualtrics reported it did not find (known once the erasure ended). */
  emailsNotFound?: EmailNotFound[];
  numEmailsRequested?: number;
  failureReason?: string;
  /** Set by writeEvidence. */
  verification?: unknown;
}

/** `evidence/<requestId>.json`. */
export interface EvidenceDocument extends ErasureEvidence {
  schemaVersion: typeof EVIDENCE_SCHEMA_VERSION;
  requestId: string;
  type: 'deletion';
  subject: { emailSha256: string };
  /** Which Qualtrics the erasure ran against: "simulator" or the origin. */
  qualtrics: { target?: string };
  /** Whether Qualtrics found the subject; null when not known (the erasure had not ended). */
  subjectFound: boolean | null;
  writtenAt: string;
}

/** Qualtrics' emailsNotFound, as the evidence keeps it. */
export function emailsNotFoundEntries(emails: readonly string[]): EmailNotFound[] {
  return emails.map((email) => ({
    maskedEmail: maskEmail(normalizeEmail(email)),
    emailSha256: emailSha256(email),
  }));
}

/** Whether the subject (by hash) is among the entries. */
export function notFoundIncludes(entries: readonly EmailNotFound[], subjectSha256: string): boolean {
  return entries.some((e) => e.emailSha256 === subjectSha256);
}

/**
 * Evidence as it may be shown: `emailsNotFound` entries that are raw addresses (evidence written
 * before schema 2.0) become masked, hashed entries, and any other text shaped like an address is
 * masked. Everything else is kept as stored.
 */
export function withoutRawEmails<T>(evidence: T): T {
  return redact(evidence, '') as T;
}

function redact(value: unknown, key: string): unknown {
  if (key === 'emailsNotFound' && Array.isArray(value)) {
    return value.map((e) =>
      typeof e === 'string' ? (emailsNotFoundEntries([e])[0] as EmailNotFound) : redact(e, ''),
    );
  }
  if (typeof value === 'string') return scrubPii(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, ''));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}
