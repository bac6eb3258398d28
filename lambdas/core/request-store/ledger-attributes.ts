import { daysBetween, dueDates } from '../ledger/due-dates';
import {
  CHANNELS,
  type Channel,
  DEFAULT_CHANNEL,
  FALLBACK_JURISDICTION,
  isJurisdiction,
  type Jurisdiction,
  OUTCOMES,
  type RequestOutcome,
  type RequestSource,
  SOURCES,
} from '../ledger/jurisdictions';
import { recordExpiry } from './retention';
import type { RequestRecord, RequestStatusDocument, RequestType } from './types';

/**
 * The ledger's attributes of a request record: what it was received under, its due dates, its
 * answer, and the keys that put it in the requests table's indexes (lambdas/core/tables.ts).
 */

/** The one partition of `byReceivedAt` (DSR volumes are far below one partition's throughput). */
export const LEDGER_PARTITION = 'request';
/** The one partition of `byEmailForgetAt`. */
export const FORGET_PARTITION = 'email';

/** Sort key of the ledger indexes: receipt time, then id (unique, and a stable order). */
export const receivedAtKey = (receivedAt: string, requestId: string): string => `${receivedAt}#${requestId}`;
export const subjectKey = (emailSha256: string): string => `subject#${emailSha256}`;

/** What the submitter said (defaults applied), for a new record. */
export interface LedgerInput {
  jurisdiction: Jurisdiction;
  receivedAt: Date;
  channel: Channel;
  source: RequestSource;
}

/** The ledger fields a submission sets, with the due date they give. */
type SubmittedLedgerField = 'jurisdiction' | 'receivedAt' | 'channel' | 'source' | 'dueAt';

export type NewLedgerAttributes = Pick<
  RequestRecord,
  SubmittedLedgerField | 'effectiveDueAt' | 'ledgerPartition' | 'receivedAtKey' | 'subjectKey'
>;

export function newLedgerAttributes(
  input: LedgerInput,
  requestId: string,
  emailSha256: string,
): NewLedgerAttributes {
  const receivedAt = input.receivedAt.toISOString();
  const { dueAt } = dueDates(input.jurisdiction, input.receivedAt);
  return {
    jurisdiction: input.jurisdiction,
    receivedAt,
    channel: input.channel,
    source: input.source,
    dueAt,
    effectiveDueAt: dueAt,
    ledgerPartition: LEDGER_PARTITION,
    receivedAtKey: receivedAtKey(receivedAt, requestId),
    subjectKey: subjectKey(emailSha256),
  };
}

/** A record's ledger as readers see it: the status document's ledger fields, and the effective due date. */
export type Ledger = Pick<
  RequestStatusDocument,
  'jurisdiction' | 'receivedAt' | 'channel' | 'source' | 'dueAt' | 'extendedDueAt' | 'respondedAt' | 'outcome'
> & { effectiveDueAt: string };

/** The fields a record made before the ledger may lack (and an index item never has all of). */
export type StoredLedger = Partial<
  Pick<
    RequestRecord,
    SubmittedLedgerField | 'extendedDueAt' | 'respondedAt' | 'outcome' | 'finishedAt' | 'dryRun'
  >
> &
  Pick<RequestRecord, 'createdAt' | 'status'> & { type: RequestType };

const oneOf = <T extends string>(values: readonly T[], value: unknown): value is T =>
  (values as readonly unknown[]).includes(value);

/**
 * The record's ledger; what a record made before the ledger lacks is derived: received when it
 * was created, under GDPR (the stricter deadline), channel unspecified, source api, answered when
 * it finished COMPLETED (the outcome where its record tells it).
 */
export function ledgerOf(r: StoredLedger): Ledger {
  const receivedAt = typeof r.receivedAt === 'string' ? r.receivedAt : r.createdAt;
  const jurisdiction = isJurisdiction(r.jurisdiction) ? r.jurisdiction : FALLBACK_JURISDICTION;
  const computed = dueDates(jurisdiction, new Date(receivedAt));
  const dueAt = typeof r.dueAt === 'string' ? r.dueAt : computed.dueAt;
  const extendedDueAt = typeof r.extendedDueAt === 'string' ? r.extendedDueAt : null;
  const completed = r.status === 'COMPLETED';
  const respondedAt =
    typeof r.respondedAt === 'string' ? r.respondedAt : completed ? (r.finishedAt ?? null) : null;
  let outcome: RequestOutcome | null = oneOf(OUTCOMES, r.outcome) ? r.outcome : null;
  if (!outcome && completed) {
    if (r.type === 'access') outcome = 'data-provided';
    else if (r.dryRun) outcome = 'dry-run';
  }
  return {
    jurisdiction,
    receivedAt,
    channel: oneOf(CHANNELS, r.channel) ? r.channel : DEFAULT_CHANNEL,
    source: oneOf(SOURCES, r.source) ? r.source : 'api',
    dueAt,
    extendedDueAt,
    effectiveDueAt: extendedDueAt ?? dueAt,
    respondedAt,
    outcome,
  };
}

/** Whether a request is overdue at `now`: not COMPLETED, and past its effective due date. */
export function isOverdue(
  status: RequestRecord['status'],
  ledger: Pick<Ledger, 'effectiveDueAt'>,
  now: Date,
): boolean {
  return status !== 'COMPLETED' && now.getTime() > Date.parse(ledger.effectiveDueAt);
}

export function daysToRespond(ledger: Pick<Ledger, 'receivedAt' | 'respondedAt'>): number | null {
  return ledger.respondedAt ? daysBetween(ledger.receivedAt, ledger.respondedAt) : null;
}

/** What the current retention settings give a record made before the ledger. */
export interface BackfillPolicy {
  retentionDays: number;
  forgetEmailAfterDays: number;
  now: Date;
}

/**
 * An item of the requests table as the ledger wants it: a request record made before the ledger
 * gets its ledger attributes and index keys (derived as `ledgerOf` does) and the current retention;
 * any other item (an idempotency key, a record already complete) is returned as it is. Used by the
 * local runtime's one-time migration of a data dir made before the ledger.
 */
export function withLedgerAttributes<T extends Record<string, unknown>>(item: T, policy: BackfillPolicy): T {
  const r = item as unknown as RequestRecord;
  if (typeof item.pk !== 'string' || !item.pk.startsWith('request#') || typeof r.requestId !== 'string')
    return item;
  if (typeof r.ledgerPartition === 'string') return item;
  const ledger = ledgerOf(r);
  const filled: Record<string, unknown> = {
    ...item,
    jurisdiction: ledger.jurisdiction,
    receivedAt: ledger.receivedAt,
    channel: ledger.channel,
    source: ledger.source,
    dueAt: ledger.dueAt,
    effectiveDueAt: ledger.effectiveDueAt,
    ledgerPartition: LEDGER_PARTITION,
    receivedAtKey: receivedAtKey(ledger.receivedAt, r.requestId),
    ...(typeof r.emailSha256 === 'string' ? { subjectKey: subjectKey(r.emailSha256) } : {}),
    expiresAt: recordExpiry(
      ledger.respondedAt ?? ledger.receivedAt,
      { retentionDays: policy.retentionDays, open: r.status !== 'COMPLETED' && r.status !== 'FAILED' },
      policy.now,
    ),
  };
  if (ledger.respondedAt) {
    filled.respondedAt = ledger.respondedAt;
    if (ledger.outcome) filled.outcome = ledger.outcome;
    if (typeof r.email === 'string') {
      filled.forgetPartition = FORGET_PARTITION;
      filled.forgetEmailAt = new Date(
        Date.parse(ledger.respondedAt) + policy.forgetEmailAfterDays * 86_400_000,
      ).toISOString();
    }
  }
  return filled as T;
}
