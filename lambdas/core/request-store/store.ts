import { randomUUID } from 'node:crypto';
import { InputError } from '../errors';
import {
  DEFAULT_CHANNEL,
  DEFAULT_FORGET_EMAIL_AFTER_DAYS,
  FALLBACK_JURISDICTION,
  type Jurisdiction,
  type LedgerQuery,
  type LedgerRange,
  metricsRange,
  parseInstant,
  type RequestOutcome,
  receivedAtProblem,
  type YearMetrics,
  yearMetrics,
} from '../ledger';
import { emailSha256, maskEmail, normalizeEmail } from '../privacy';
import {
  isTerminalStatus,
  type NewRequest,
  newRequest,
  REQUEST_STATUSES,
  validate,
} from '../request-contract';
import {
  type ClaimResult,
  claimQualtricsCreate,
  recordQualtricsId,
  releaseQualtricsCreateClaim,
} from './create-claims';
import { RecordUnreadableError, RequestNotFoundError, RequestStateError, StorageError } from './errors';
import { extendDueDate } from './extension';
import { claimIdempotencyKey } from './idempotency-keys';
import { ledgerOf, newLedgerAttributes } from './ledger-attributes';
import { findBySubject, ledgerRecords, listRequests } from './ledger-queries';
import { forgetEmails, requireEmail } from './minimization';
import { recordExpiry } from './retention';
import { clip, scrubPii } from './scrub';
import { toStatusDocument } from './status-document';
import {
  claimResumption,
  clearDeadlineNotice,
  type DeadlineNotice,
  markDeadlineNotice,
  openRequests,
  unansweredDueBy,
  unchangedSince,
} from './sweep-writes';
import { RequestTable, type RequestTableOptions, requestPk } from './table';
import type {
  QualtricsJobKind,
  RequestCounts,
  RequestError,
  RequestRecord,
  RequestStatus,
  RequestStatusDocument,
  RequestSummary,
} from './types';
import { combine, type UpdateSpec } from './update-expression';
import {
  answer,
  appendToTimeline,
  finish,
  MAX_ERROR_MESSAGE,
  MAX_STEP,
  mergeCounts,
  notTerminal,
  type QualtricsRefsUpdate,
  setEvidence,
  setQualtricsRefs,
  setStatus,
  statusIs,
  timelineEntry,
} from './updates';

export interface RequestStoreOptions extends RequestTableOptions {
  /** Days after completion the raw email is erased (`forgetEmails`). Default 30. */
  forgetEmailAfterDays?: number;
  /** The jurisdiction of a request submitted without one. Default gdpr. */
  defaultJurisdiction?: Jurisdiction;
}

/**
 * A new request as `create` takes it: validated here against the request contract (which requires
 * `source`, set by the entry point), receivedAt within its bounds at the store's clock.
 */
export type CreateRequestInput = NewRequest;

/** A page of the ledger. */
export interface LedgerPage {
  requests: RequestSummary[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

export interface CompleteInput {
  /**
   * The nature of the response (access: data-provided; deletion: deleted, no-data-found or
   * dry-run). Absent: data-provided for access, dry-run for a dry run, none otherwise.
   */
  outcome?: RequestOutcome;
  counts?: RequestCounts;
  /** Ids already stored are kept (a create is recorded once); file ids and erasure status are replaced. */
  qualtrics?: QualtricsRefsUpdate;
  evidence?: Record<string, unknown>;
}

/**
 * The requests table: one item per privacy request, plus one item per idempotency key. Every
 * operation is a single conditional write (dynalite has no transactions), so concurrent or
 * retried steps cannot corrupt a record or leave a terminal status. The DynamoDB mechanics are in
 * `table.ts`, the expressions in `updates.ts`; this class says what each operation means.
 */
export class RequestStore {
  private readonly table: RequestTable;
  private readonly forgetEmailAfterDays: number;
  private readonly defaultJurisdiction: Jurisdiction;

  constructor(opts: RequestStoreOptions) {
    this.table = new RequestTable(opts);
    this.forgetEmailAfterDays = opts.forgetEmailAfterDays ?? DEFAULT_FORGET_EMAIL_AFTER_DAYS;
    this.defaultJurisdiction = opts.defaultJurisdiction ?? FALLBACK_JURISDICTION;
  }

  /**
   * Records a new request (RECEIVED). With an idempotency key already used for the same request
   * (type, subject, dry run), returns that request unchanged: the replay's ledger fields
   * (jurisdiction, receivedAt, channel, source) are ignored, the first submission's stand.
   */
  async create(input: CreateRequestInput): Promise<{ record: RequestRecord; created: boolean }> {
    const checked = validate(newRequest, input);
    if (!checked.ok) throw new InputError(checked.problems.join('; '));
    const { type, idempotencyKey } = checked.value;
    const now = this.table.now();
    const receivedAt = checked.value.receivedAt ? (parseInstant(checked.value.receivedAt) as Date) : now;
    const tooFar = receivedAtProblem(receivedAt, now);
    if (tooFar) throw new InputError(tooFar);
    const email = normalizeEmail(checked.value.email);
    const hash = emailSha256(email);
    const dryRun = type === 'deletion' ? Boolean(checked.value.dryRun) : undefined;
    let requestId: string = randomUUID();
    const ledgerInput = {
      jurisdiction: checked.value.jurisdiction ?? this.defaultJurisdiction,
      receivedAt,
      channel: checked.value.channel ?? DEFAULT_CHANNEL,
      source: checked.value.source,
    };
    const expiresAt = recordExpiry(
      receivedAt.toISOString(),
      { retentionDays: this.table.retentionDays, open: true },
      now,
    );

    if (idempotencyKey !== undefined) {
      const keyed = { requestId, type, emailSha256: hash, dryRun, expiresAt };
      const existing = await claimIdempotencyKey(this.table, idempotencyKey, keyed, now);
      if (existing) {
        const record = await this.get(existing);
        if (record) return { record, created: false };
        // The first caller stopped between its two writes; finish its request under its id.
        requestId = existing;
      }
    }

    const at = now.toISOString();
    const record: RequestRecord = {
      pk: requestPk(requestId),
      requestId,
      type,
      status: 'RECEIVED',
      email,
      maskedEmail: maskEmail(email),
      emailSha256: hash,
      dryRun,
      idempotencyKey,
      createdAt: at,
      updatedAt: at,
      timeline: [timelineEntry(now, 'RECEIVED', `${type} request received${dryRun ? ' (dry run)' : ''}`)],
      counts: {},
      qualtrics: {},
      expiresAt,
      ...newLedgerAttributes(ledgerInput, requestId, hash),
    };
    if (!(await this.table.putItem(record, 'attribute_not_exists(pk)'))) {
      // A concurrent caller with the same idempotency key completed the recovery first.
      const winner = await this.get(requestId);
      if (!winner) throw new StorageError('PutItem', new Error('request neither written nor readable'));
      return { record: winner, created: false };
    }
    return { record: stripUndefined(record), created: true };
  }

  /** The record, or undefined when unknown or past its retention (TTL deletion is lazy). Ids in any case. */
  async get(requestId: string): Promise<RequestRecord | undefined> {
    return this.table.getRecord(requestId);
  }

  async getStatusDocument(requestId: string): Promise<RequestStatusDocument | undefined> {
    const r = await this.get(requestId);
    return r ? toStatusDocument(r, this.table.now()) : undefined;
  }

  /**
   * One page of the ledger, newest receipt first, filtered by `query` (README "The request
   * ledger"). Never a Scan: a Query of the index that serves the filters. Throws
   * InvalidCursorError (an InputError) for a cursor this listing did not return.
   */
  async list(query: LedgerQuery): Promise<LedgerPage> {
    return listRequests(this.table, query, this.table.now());
  }

  /** Every request for the subject with this email (matched on its hash), newest receipt first. */
  async findBySubject(email: string): Promise<RequestSummary[]> {
    return findBySubject(this.table, email, this.table.now());
  }

  /**
   * Every request received in `range` (since inclusive, until exclusive), oldest receipt first
   * (the records CSV's order), read page by page as the caller iterates.
   */
  records(range: LedgerRange = {}): AsyncIterable<RequestSummary> {
    return ledgerRecords(this.table, range, this.table.now());
  }

  /** The metrics of the requests received in `year` (UTC), read from the byReceivedAt index. */
  metrics(year: number): Promise<YearMetrics> {
    return yearMetrics(year, this.records(metricsRange(year)));
  }

  /**
   * Extends the due date once (README "Deadlines"): ExtensionRefusedError when it was extended
   * already, is past its first due date (OVERDUE) or is COMPLETED. `reason` (1–500 characters) is
   * kept in the record only.
   */
  async extend(requestId: string, reason: string): Promise<RequestRecord> {
    return extendDueDate(this.table, requestId, reason);
  }

  /**
   * Erases the raw email of every COMPLETED request whose minimization date has come
   * (`QDSR_FORGET_EMAIL_AFTER_DAYS` after completion); the hash and masked email stay. The number
   * of records changed.
   */
  async forgetEmails(): Promise<number> {
    return forgetEmails(this.table, this.table.now());
  }

  /** Requests whose workflow should be running (RECEIVED, RUNNING, WAITING_ON_QUALTRICS), from `byStatus`. */
  openRequests(): AsyncIterable<RequestSummary> {
    return openRequests(this.table, this.table.now());
  }

  /** Requests not answered (open or FAILED) whose effective due date is at or before `by`. */
  unansweredDueBy(by: Date): AsyncIterable<RequestSummary> {
    return unansweredDueBy(this.table, by, this.table.now());
  }

  /**
   * For the sweep: counts a resumption of `seen` (a record as read, still unchanged) and names its
   * next execution; undefined when the record changed meanwhile or was resumed MAX_RESUMPTIONS
   * times already (README "The sweep").
   */
  claimResumption(seen: RequestRecord): Promise<RequestRecord | undefined> {
    return claimResumption(this.table, seen, this.table.now());
  }

  /** Marks a deadline warning sent for `dueAt` (once); the mark's time, or undefined when it was set. */
  markDeadlineNotice(requestId: string, kind: DeadlineNotice, dueAt: string): Promise<string | undefined> {
    return markDeadlineNotice(this.table, requestId, kind, dueAt, this.table.now());
  }

  /** Takes back the mark of a warning that could not be published, so the next sweep sends it. */
  clearDeadlineNotice(requestId: string, kind: DeadlineNotice, at: string): Promise<void> {
    return clearDeadlineNotice(this.table, requestId, kind, at);
  }

  /** Moves to `status` and records the step. A terminal status is left only by `reopenForRetry`. */
  async transition(
    requestId: string,
    status: RequestStatus,
    step: string,
    detail?: string,
  ): Promise<RequestRecord> {
    if (!REQUEST_STATUSES.includes(status)) throw new InputError('unknown request status');
    const now = this.table.now();
    const parts: UpdateSpec[] = [
      setStatus(status),
      appendToTimeline(timelineEntry(now, step, detail)),
      notTerminal,
    ];
    if (status === 'RUNNING') {
      parts.push({
        set: ['startedAt = if_not_exists(startedAt, :startedAt)'],
        values: { ':startedAt': now.toISOString() },
      });
    }
    if (status === 'COMPLETED') throw new InputError('a request is completed by complete()');
    if (status === 'FAILED') {
      const current = await this.table.mustGetRecord(requestId);
      parts.push(finish(now, this.unansweredExpiry(current, now)));
    }
    const updated = await this.table.updateRecord(requestId, 'transition', combine(...parts), now);
    if (updated) return updated;
    const current = await this.table.mustGetRecord(requestId);
    if (current.status === status) return current; // a retried step: already there
    throw new RequestStateError(requestId, current.status, `move to ${status}`);
  }

  /** For a redrive of a failed execution: FAILED → RUNNING (the error stays in the timeline). */
  async reopenForRetry(requestId: string): Promise<RequestRecord> {
    const current = await this.table.mustGetRecord(requestId);
    // A retry needs the subject's email: a record that no longer holds it cannot be run again.
    requireEmail(current);
    if (current.status !== 'FAILED')
      throw new RequestStateError(requestId, current.status, 'reopen for retry');
    const now = this.table.now();
    const detail = current.error ? `retrying after ${current.error.code}` : 'retrying';
    const parts: UpdateSpec[] = [
      setStatus('RUNNING'),
      appendToTimeline(timelineEntry(now, 'REOPENED', detail)),
      { remove: ['#error', 'finishedAt'], names: { '#error': 'error' } },
      statusIs('FAILED'),
    ];
    if (current.execution)
      parts.push({ set: ['execution.attempt = execution.attempt + :one'], values: { ':one': 1 } });
    const updated = await this.table.updateRecord(requestId, 'reopen', combine(...parts), now);
    if (updated) return updated;
    const after = await this.table.mustGetRecord(requestId);
    throw new RequestStateError(requestId, after.status, 'reopen for retry');
  }

  /**
   * For a request interrupted before it ended (not COMPLETED or FAILED, and no execution runs it:
   * the caller knows): records the resumption and counts the next attempt, so the next execution
   * picks up where the last one stopped. Conditional on the status and attempt the caller saw, so
   * two callers never both resume it (the second gets RequestStateError).
   */
  async reopenInterrupted(
    requestId: string,
    seen: Pick<RequestRecord, 'status' | 'execution'>,
  ): Promise<RequestRecord> {
    if (isTerminalStatus(seen.status)) {
      throw new RequestStateError(requestId, seen.status, 'resume an interrupted request');
    }
    const current = await this.table.mustGetRecord(requestId);
    requireEmail(current);
    const now = this.table.now();
    const parts: UpdateSpec[] = [
      appendToTimeline(timelineEntry(now, 'RESUMED', 'resuming an interrupted request')),
      statusIs(seen.status),
    ];
    if (seen.execution) {
      parts.push({
        set: ['execution.attempt = execution.attempt + :one'],
        values: { ':one': 1, ':attempt': seen.execution.attempt },
        condition: 'execution.attempt = :attempt',
      });
    } else {
      parts.push({ condition: 'attribute_not_exists(execution)' });
    }
    const updated = await this.table.updateRecord(requestId, 'resume', combine(...parts), now);
    if (updated) return updated;
    const after = await this.table.mustGetRecord(requestId);
    throw new RequestStateError(requestId, after.status, 'resume an interrupted request');
  }

  async appendTimeline(requestId: string, step: string, detail?: string): Promise<RequestRecord> {
    const now = this.table.now();
    const entry = timelineEntry(now, step, detail);
    return this.mustUpdate(requestId, 'appendTimeline', appendToTimeline(entry), now);
  }

  /** Merges the given counts into the record's counts. */
  async setCounts(requestId: string, counts: RequestCounts): Promise<RequestRecord> {
    const now = this.table.now();
    const spec = mergeCounts(counts);
    if (!spec.set?.length) return this.table.mustGetRecord(requestId);
    return this.mustUpdate(requestId, 'setCounts', spec, now);
  }

  /**
   * Claims the right to create the Qualtrics job of `kind` (customer-data job or erasure). Only one
   * caller ever gets `claimed: true`; the others learn the id (once recorded) or when it was claimed,
   * so a retried create step reuses the job instead of creating a second one.
   */
  claimQualtricsCreate(requestId: string, kind: QualtricsJobKind, target?: string): Promise<ClaimResult> {
    return claimQualtricsCreate(this.table, requestId, kind, target);
  }

  /**
   * Gives a claim back when the create is known not to have reached Qualtrics (e.g. a 429 or a
   * 400), so the retried step may create. Only the holder of `claimedAt` can release it.
   */
  releaseQualtricsCreateClaim(
    requestId: string,
    kind: QualtricsJobKind,
    claimedAt: string,
  ): Promise<boolean> {
    return releaseQualtricsCreateClaim(this.table, requestId, kind, claimedAt);
  }

  /** Stores the Qualtrics job id unless one is stored already; returns the id that is stored. */
  recordQualtricsId(requestId: string, kind: QualtricsJobKind, id: string): Promise<string> {
    return recordQualtricsId(this.table, requestId, kind, id);
  }

  /** Replaces the job's file ids and/or the erasure status (the ids go through `recordQualtricsId`). */
  async updateQualtrics(
    requestId: string,
    refs: Pick<QualtricsRefsUpdate, 'fileIds' | 'erasureStatus'>,
  ): Promise<RequestRecord> {
    const spec = setQualtricsRefs(refs);
    if (!spec.set?.length) return this.table.mustGetRecord(requestId);
    return this.mustUpdate(requestId, 'updateQualtrics', spec);
  }

  async recordExecution(
    requestId: string,
    execution: { name: string; attempt?: number },
  ): Promise<RequestRecord> {
    return this.mustUpdate(requestId, 'recordExecution', {
      set: ['execution = :execution'],
      values: { ':execution': { name: execution.name, attempt: execution.attempt ?? 1 } },
    });
  }

  async recordEvidence(requestId: string, evidence: Record<string, unknown>): Promise<RequestRecord> {
    return this.mustUpdate(requestId, 'recordEvidence', setEvidence(evidence));
  }

  /** → COMPLETED. Completing a completed request returns it unchanged (a retried last step). */
  async complete(requestId: string, input: CompleteInput = {}): Promise<RequestRecord> {
    const now = this.table.now();
    const respondedAt = now.toISOString();
    const expiresAt = recordExpiry(
      respondedAt,
      { retentionDays: this.table.retentionDays, open: false },
      now,
    );
    const forgetEmailAt = new Date(now.getTime() + this.forgetEmailAfterDays * 86_400_000);
    const parts: UpdateSpec[] = [
      setStatus('COMPLETED'),
      finish(now, expiresAt),
      answer(now, forgetEmailAt, input.outcome),
      appendToTimeline(timelineEntry(now, 'COMPLETED')),
      mergeCounts(input.counts ?? {}),
      setQualtricsRefs(input.qualtrics ?? {}),
      notTerminal,
    ];
    if (input.evidence) parts.push(setEvidence(input.evidence));
    const updated = await this.table.updateRecord(requestId, 'complete', combine(...parts), now);
    if (updated) return updated;
    const current = await this.table.mustGetRecord(requestId);
    if (current.status === 'COMPLETED') return current;
    throw new RequestStateError(requestId, current.status, 'complete');
  }

  /**
   * → FAILED with a reason. The message must be PII-free (the caller's job); the record's own
   * email is scrubbed from it anyway. Failing a failed request keeps the first reason. With
   * `unchangedSince` (the `updatedAt` the caller read), only a record nothing wrote since is failed
   * (RequestStateError otherwise).
   */
  async fail(
    requestId: string,
    error: RequestError,
    options: { unchangedSince?: string } = {},
  ): Promise<RequestRecord> {
    let current: RequestRecord;
    try {
      current = await this.table.mustGetRecord(requestId);
    } catch (err) {
      if (err instanceof RecordUnreadableError) return this.failUnreadable(err);
      throw err;
    }
    if (current.status === 'FAILED') return current;
    if (current.status === 'COMPLETED') throw new RequestStateError(requestId, current.status, 'fail');
    const reason: RequestError = {
      code: clip(scrubPii(String(error.code || 'UNKNOWN'), current.email), MAX_STEP),
      message: clip(scrubPii(String(error.message ?? ''), current.email), MAX_ERROR_MESSAGE),
    };
    const now = this.table.now();
    const parts: UpdateSpec[] = [
      setStatus('FAILED'),
      { set: ['#error = :error'], names: { '#error': 'error' }, values: { ':error': reason } },
      finish(now, this.unansweredExpiry(current, now)),
      appendToTimeline(timelineEntry(now, 'FAILED', `${reason.code}: ${reason.message}`)),
      notTerminal,
    ];
    // Only if nothing wrote the record since the caller read it (the sweep judged what it saw).
    if (options.unchangedSince !== undefined) parts.push(unchangedSince(options.unchangedSince));
    const updated = await this.table.updateRecord(requestId, 'fail', combine(...parts), now);
    if (updated) return updated;
    const after = await this.table.mustGetRecord(requestId);
    if (after.status === 'FAILED') return after;
    throw new RequestStateError(requestId, after.status, 'fail');
  }

  /**
   * Ends an unreadable record FAILED (`RECORD_UNREADABLE`, its reason) without reading it: only
   * the status, the error and the time are written, so the request is never left open (and never
   * resumed). Its damaged attributes stay as they are, for whoever looks into it.
   */
  private async failUnreadable(unreadable: RecordUnreadableError): Promise<RequestRecord> {
    const now = this.table.now();
    const reason: RequestError = { code: unreadable.code, message: unreadable.message };
    const updated = await this.table.updateRecord(
      unreadable.requestId,
      'fail',
      combine(setStatus('FAILED'), {
        set: ['#error = :error', 'finishedAt = :finishedAt'],
        names: { '#error': 'error', '#status': 'status' },
        values: { ':error': reason, ':finishedAt': now.toISOString(), ':completed': 'COMPLETED' },
        condition: '#status <> :completed',
      }),
      now,
    );
    if (!updated) throw unreadable;
    return updated;
  }

  /** The TTL of a request that ended without an answer (FAILED), at `now`. */
  private unansweredExpiry(record: RequestRecord, now: Date): number {
    const { receivedAt } = ledgerOf(record);
    return recordExpiry(receivedAt, { retentionDays: this.table.retentionDays, open: false }, now);
  }

  /** An update that only needs the record to exist. */
  private async mustUpdate(
    requestId: string,
    operation: string,
    spec: UpdateSpec,
    now?: Date,
  ): Promise<RequestRecord> {
    const updated = await this.table.updateRecord(requestId, operation, spec, now);
    if (!updated) throw new RequestNotFoundError(requestId);
    return updated;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
