import { InputError } from '../errors';
import { isTerminalStatus } from '../request-contract';
import { RequestStateError, StorageError } from './errors';
import type { RequestTable } from './table';
import type { QualtricsJobKind } from './types';
import { combine } from './update-expression';
import { appendToTimeline, notTerminal, timelineEntry } from './updates';

/**
 * Creating a Qualtrics job (customer-data job or erasure) at most once per request: a create step
 * first claims the right to create, then either records the job's id or, when the create is known
 * not to have reached Qualtrics, releases the claim. A retried step that finds a claim or an id
 * reuses the job instead of creating a second one.
 */

export type ClaimResult =
  | { claimed: true; claimedAt: string }
  | { claimed: false; existingId?: string; claimedAt?: string };

const ID_FIELD = { customerData: 'customerDataRequestId', erasure: 'erasureRequestId' } as const;
const CLAIM_FIELD = {
  customerData: 'customerDataCreateClaimedAt',
  erasure: 'erasureCreateClaimedAt',
} as const;
const CREATED_STEP = { customerData: 'CUSTOMER_DATA_JOB_CREATED', erasure: 'ERASURE_CREATED' } as const;

const fieldsOf = (kind: QualtricsJobKind) => ({ '#claim': CLAIM_FIELD[kind], '#id': ID_FIELD[kind] });

/**
 * Only one caller ever gets `claimed: true`; the others learn the id (once recorded) or the claim's
 * time. The claim also records which Qualtrics the request runs against (`target`), the first time:
 * the jobs it creates live there.
 */
export async function claimQualtricsCreate(
  table: RequestTable,
  requestId: string,
  kind: QualtricsJobKind,
  target?: string,
): Promise<ClaimResult> {
  const now = table.now();
  const claimedAt = now.toISOString();
  const claim = {
    set: ['qualtrics.#claim = :claimedAt'],
    names: fieldsOf(kind),
    values: { ':claimedAt': claimedAt },
    condition: 'attribute_not_exists(qualtrics.#claim) AND attribute_not_exists(qualtrics.#id)',
  };
  const recordTarget = target
    ? { set: ['qualtrics.target = if_not_exists(qualtrics.target, :target)'], values: { ':target': target } }
    : {};
  const updated = await table.updateRecord(
    requestId,
    'claimQualtricsCreate',
    combine(claim, recordTarget, notTerminal),
    now,
  );
  if (updated) return { claimed: true, claimedAt };
  const current = await table.mustGetRecord(requestId);
  const existingId = current.qualtrics?.[ID_FIELD[kind]];
  const existingClaim = current.qualtrics?.[CLAIM_FIELD[kind]];
  if (!existingId && !existingClaim && isTerminalStatus(current.status)) {
    throw new RequestStateError(requestId, current.status, `create a Qualtrics ${kind} job`);
  }
  return { claimed: false, existingId, claimedAt: existingClaim };
}

/** Gives a claim back (only its holder, `claimedAt`, can, and only before an id is recorded). */
export async function releaseQualtricsCreateClaim(
  table: RequestTable,
  requestId: string,
  kind: QualtricsJobKind,
  claimedAt: string,
): Promise<boolean> {
  const updated = await table.updateRecord(requestId, 'releaseQualtricsCreateClaim', {
    remove: ['qualtrics.#claim'],
    names: fieldsOf(kind),
    values: { ':claimedAt': claimedAt },
    condition: 'qualtrics.#claim = :claimedAt AND attribute_not_exists(qualtrics.#id)',
  });
  if (updated) return true;
  await table.mustGetRecord(requestId);
  return false;
}

/** Stores the job's id unless one is stored already; resolves to the id that is stored. */
export async function recordQualtricsId(
  table: RequestTable,
  requestId: string,
  kind: QualtricsJobKind,
  id: string,
): Promise<string> {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    throw new InputError('Qualtrics id must be a non-empty string');
  }
  const now = table.now();
  const record = {
    set: ['qualtrics.#id = :id'],
    names: fieldsOf(kind),
    values: { ':id': id },
    condition: 'attribute_not_exists(qualtrics.#id)',
  };
  const entry = timelineEntry(now, CREATED_STEP[kind], id);
  const updated = await table.updateRecord(
    requestId,
    'recordQualtricsId',
    combine(record, appendToTimeline(entry)),
    now,
  );
  if (updated) return id;
  const current = await table.mustGetRecord(requestId);
  const stored = current.qualtrics?.[ID_FIELD[kind]];
  if (!stored) throw new StorageError('UpdateItem', new Error('Qualtrics id neither stored nor recordable'));
  return stored;
}
