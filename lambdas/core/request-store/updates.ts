import { InputError } from '../errors';
import { OUTCOMES, type RequestOutcome } from '../ledger/jurisdictions';
import { type RequestStatus, TERMINAL_STATUSES } from '../request-contract';
import { FORGET_PARTITION } from './ledger-attributes';
import { clip, scrubPii } from './scrub';
import type { QualtricsRefs, RequestCounts, TimelineEntry } from './types';
import type { UpdateSpec } from './update-expression';

/** The parts the request store's writes are made of, each written once. */

/** Longest timeline step (and error code), timeline detail and error message stored. */
export const MAX_STEP = 100;
export const MAX_DETAIL = 500;
export const MAX_ERROR_MESSAGE = 1000;
const COUNT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** One step of the audit trail, scrubbed of addresses and bounded in length. */
export function timelineEntry(at: Date, step: string, detail?: string): TimelineEntry {
  const entry: TimelineEntry = { at: at.toISOString(), step: clip(scrubPii(String(step)), MAX_STEP) };
  if (detail !== undefined && detail !== '') entry.detail = clip(scrubPii(String(detail)), MAX_DETAIL);
  return entry;
}

/** Appends `entry` to the timeline (an item written without one gets a new list). */
export const appendToTimeline = (entry: TimelineEntry): UpdateSpec => ({
  set: ['timeline = list_append(if_not_exists(timeline, :empty), :entry)'],
  values: { ':empty': [], ':entry': [entry] },
});

/** The record is not in a terminal status (which only `reopenForRetry` leaves). */
export const notTerminal: UpdateSpec = {
  names: { '#status': 'status' },
  values: Object.fromEntries(TERMINAL_STATUSES.map((s, i) => [`:terminal${i}`, s])),
  condition: `NOT #status IN (${TERMINAL_STATUSES.map((_, i) => `:terminal${i}`).join(', ')})`,
};

export const setStatus = (status: RequestStatus): UpdateSpec => ({
  set: ['#status = :status'],
  names: { '#status': 'status' },
  values: { ':status': status },
});

/** The record's status is `status`. */
export const statusIs = (status: RequestStatus): UpdateSpec => ({
  names: { '#status': 'status' },
  values: { ':expected': status },
  condition: '#status = :expected',
});

/** Reaching a terminal status: when, and the retention counted from then. */
export const finish = (at: Date, expiresAt: number): UpdateSpec => ({
  set: ['finishedAt = :finishedAt', 'expiresAt = :expiresAt'],
  values: { ':finishedAt': at.toISOString(), ':expiresAt': expiresAt },
});

/**
 * Reaching COMPLETED: when it was answered, how (when the caller says), and when its raw email is
 * to be erased (which puts it in the `byEmailForgetAt` index until then).
 */
export function answer(at: Date, forgetEmailAt: Date, outcome?: RequestOutcome): UpdateSpec {
  if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw new InputError('unknown request outcome');
  return {
    set: [
      'respondedAt = :respondedAt',
      'forgetPartition = :forgetPartition',
      'forgetEmailAt = :forgetEmailAt',
      ...(outcome ? ['outcome = :outcome'] : []),
    ],
    values: {
      ':respondedAt': at.toISOString(),
      ':forgetPartition': FORGET_PARTITION,
      ':forgetEmailAt': forgetEmailAt.toISOString(),
      ...(outcome ? { ':outcome': outcome } : {}),
    },
  };
}

export const setEvidence = (evidence: Record<string, unknown>): UpdateSpec => ({
  set: ['evidence = :evidence'],
  values: { ':evidence': evidence },
});

/** Merges `counts` into the record's counts. */
export function mergeCounts(counts: RequestCounts): UpdateSpec {
  const set: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let i = 0;
  for (const [name, value] of Object.entries(counts)) {
    if (value === undefined) continue;
    if (!COUNT_NAME.test(name)) throw new InputError('count names must be identifiers');
    if (!Number.isSafeInteger(value) || value < 0)
      throw new InputError('counts must be non-negative integers');
    set.push(`counts.#count${i} = :count${i}`);
    names[`#count${i}`] = name;
    values[`:count${i}`] = value;
    i++;
  }
  return { set, names, values };
}

export type QualtricsRefsUpdate = Pick<
  QualtricsRefs,
  'customerDataRequestId' | 'fileIds' | 'erasureRequestId' | 'erasureStatus'
>;

/** Replaces file ids and the erasure status; a job id already stored is kept (a create is recorded once). */
export function setQualtricsRefs(refs: QualtricsRefsUpdate): UpdateSpec {
  const set: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (refs.fileIds !== undefined) {
    if (!Array.isArray(refs.fileIds) || refs.fileIds.some((f) => typeof f !== 'string')) {
      throw new InputError('fileIds must be strings');
    }
    set.push('qualtrics.fileIds = :fileIds');
    values[':fileIds'] = refs.fileIds;
  }
  if (refs.erasureStatus !== undefined) {
    set.push('qualtrics.erasureStatus = :erasureStatus');
    values[':erasureStatus'] = String(refs.erasureStatus);
  }
  for (const field of ['customerDataRequestId', 'erasureRequestId'] as const) {
    const id = refs[field];
    if (id === undefined) continue;
    set.push(`qualtrics.#${field} = if_not_exists(qualtrics.#${field}, :${field})`);
    names[`#${field}`] = field;
    values[`:${field}`] = String(id);
  }
  return { set, names, values };
}
