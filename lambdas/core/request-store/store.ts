import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InputError } from '../errors';
import { emailSha256, maskEmail, normalizeEmail } from '../privacy';
import {
  type NewRequest,
  newRequest,
  normalizeRequestId,
  REQUEST_STATUSES,
  validate,
} from '../request-contract';
import { IdempotencyConflictError, RequestNotFoundError, RequestStateError, StorageError } from './errors';
import { clip, scrubPii } from './scrub';
import {
  isTerminalStatus,
  type QualtricsJobKind,
  type QualtricsRefs,
  type RequestCounts,
  type RequestError,
  type RequestRecord,
  type RequestStatus,
  type RequestStatusDocument,
  type RequestType,
  type TimelineEntry,
} from './types';

export interface RequestStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  now?: () => Date;
  /** How long a record is kept after it was created or finished (TTL). */
  retentionDays?: number;
}

/** A new request as `create` takes it: validated here against the request contract. */
export type CreateRequestInput = NewRequest;

export type ClaimResult =
  | { claimed: true; claimedAt: string }
  | { claimed: false; existingId?: string; claimedAt?: string };

export interface CompleteInput {
  counts?: RequestCounts;
  /** Ids already stored are kept (a create is recorded once); file ids and erasure status are replaced. */
  qualtrics?: Pick<QualtricsRefs, 'customerDataRequestId' | 'fileIds' | 'erasureRequestId' | 'erasureStatus'>;
  evidence?: Record<string, unknown>;
}

export const DEFAULT_RETENTION_DAYS = 90;

const COUNT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_STEP = 100;
const MAX_DETAIL = 500;
const MAX_ERROR_MESSAGE = 1000;

export const requestPk = (requestId: string): string => `request#${requestId}`;
export const idempotencyPk = (key: string): string => `idem#${key}`;

const ID_FIELD = { customerData: 'customerDataRequestId', erasure: 'erasureRequestId' } as const;
const CLAIM_FIELD = {
  customerData: 'customerDataCreateClaimedAt',
  erasure: 'erasureCreateClaimedAt',
} as const;

interface IdempotencyItem {
  pk: string;
  requestId: string;
  type: RequestType;
  emailSha256: string;
  dryRun: boolean;
  expiresAt: number;
}

/** One update: SET/REMOVE clauses plus a condition; `attribute_exists(pk)` is always added. */
interface UpdateSpec {
  set: string[];
  remove?: string[];
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  condition?: string;
}

/**
 * The requests table: one item per privacy request, plus one item per idempotency key. Every
 * operation is a single conditional write (dynalite has no transactions), so concurrent or
 * retried steps cannot corrupt a record or leave a terminal status.
 */
export class RequestStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => Date;
  private readonly retentionSeconds: number;

  constructor(opts: RequestStoreOptions) {
    this.doc = opts.doc;
    this.tableName = opts.tableName;
    this.now = opts.now ?? (() => new Date());
    this.retentionSeconds = Math.round((opts.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400);
  }

  async create(input: CreateRequestInput): Promise<{ record: RequestRecord; created: boolean }> {
    const checked = validate(newRequest, input);
    if (!checked.ok) throw new InputError(checked.problems.join('; '));
    const { type, idempotencyKey } = checked.value;
    const email = normalizeEmail(checked.value.email);
    const hash = emailSha256(email);
    const dryRun = type === 'deletion' ? Boolean(checked.value.dryRun) : undefined;
    const now = this.now();
    let requestId: string = randomUUID();

    if (idempotencyKey !== undefined) {
      const existing = await this.claimIdempotencyKey(idempotencyKey, { requestId, type, hash, dryRun, now });
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
      timeline: [{ at, step: 'RECEIVED', detail: `${type} request received${dryRun ? ' (dry run)' : ''}` }],
      counts: {},
      qualtrics: {},
      expiresAt: this.expiry(now),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw new StorageError('PutItem', e);
      // A concurrent caller with the same idempotency key completed the recovery first.
      const winner = await this.get(requestId);
      if (!winner) throw new StorageError('PutItem', e);
      return { record: winner, created: false };
    }
    return { record: stripUndefined(record), created: true };
  }

  /** The record, or undefined when unknown or past its retention (TTL deletion is lazy). Ids in any case. */
  async get(requestId: string): Promise<RequestRecord | undefined> {
    const id = normalizeRequestId(requestId);
    if (!id) return undefined;
    let item: RequestRecord | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(id) },
          ConsistentRead: true,
        }),
      );
      item = out.Item as RequestRecord | undefined;
    } catch (e) {
      throw new StorageError('GetItem', e);
    }
    if (!item || this.isExpired(item.expiresAt)) return undefined;
    return item;
  }

  async getStatusDocument(requestId: string): Promise<RequestStatusDocument | undefined> {
    const r = await this.get(requestId);
    return r ? toStatusDocument(r) : undefined;
  }

  /** Moves to `status` and records the step. A terminal status is left only by `reopenForRetry`. */
  async transition(
    requestId: string,
    status: RequestStatus,
    step: string,
    detail?: string,
  ): Promise<RequestRecord> {
    if (!REQUEST_STATUSES.includes(status)) throw new InputError('unknown request status');
    const now = this.now();
    const set = ['#status = :status', 'timeline = list_append(if_not_exists(timeline, :empty), :entry)'];
    if (status === 'RUNNING') set.push('startedAt = if_not_exists(startedAt, :now)');
    if (isTerminalStatus(status)) set.push('finishedAt = :now', 'expiresAt = :expiresAt');
    const updated = await this.update(requestId, 'transition', now, {
      set,
      names: { '#status': 'status' },
      values: {
        ':status': status,
        ':empty': [],
        ':entry': [this.entry(now, step, detail)],
        ':completed': 'COMPLETED',
        ':failed': 'FAILED',
        ...(isTerminalStatus(status) ? { ':expiresAt': this.expiry(now) } : {}),
      },
      condition: 'NOT #status IN (:completed, :failed)',
    });
    if (updated) return updated;
    const current = await this.mustGet(requestId);
    if (current.status === status) return current; // a retried step: already there
    throw new RequestStateError(requestId, current.status, `move to ${status}`);
  }

  /** For a redrive of a failed execution: FAILED → RUNNING (the error stays in the timeline). */
  async reopenForRetry(requestId: string): Promise<RequestRecord> {
    const current = await this.mustGet(requestId);
    if (current.status !== 'FAILED')
      throw new RequestStateError(requestId, current.status, 'reopen for retry');
    const now = this.now();
    const set = ['#status = :running', 'timeline = list_append(if_not_exists(timeline, :empty), :entry)'];
    if (current.execution) set.push('execution.attempt = execution.attempt + :one');
    const detail = current.error ? `retrying after ${current.error.code}` : 'retrying';
    const updated = await this.update(requestId, 'reopen', now, {
      set,
      remove: ['#error', 'finishedAt'],
      names: { '#status': 'status', '#error': 'error' },
      values: {
        ':running': 'RUNNING',
        ':failed': 'FAILED',
        ':empty': [],
        ':entry': [this.entry(now, 'REOPENED', detail)],
        ...(current.execution ? { ':one': 1 } : {}),
      },
      condition: '#status = :failed',
    });
    if (updated) return updated;
    const after = await this.mustGet(requestId);
    throw new RequestStateError(requestId, after.status, 'reopen for retry');
  }

  async appendTimeline(requestId: string, step: string, detail?: string): Promise<RequestRecord> {
    const now = this.now();
    const updated = await this.update(requestId, 'appendTimeline', now, {
      set: ['timeline = list_append(if_not_exists(timeline, :empty), :entry)'],
      values: { ':empty': [], ':entry': [this.entry(now, step, detail)] },
    });
    return updated ?? this.notFound(requestId);
  }

  /** Merges the given counts into the record's counts. */
  async setCounts(requestId: string, counts: RequestCounts): Promise<RequestRecord> {
    const now = this.now();
    const spec = countsUpdate(counts);
    if (spec.set.length === 0) return this.mustGet(requestId);
    const updated = await this.update(requestId, 'setCounts', now, spec);
    return updated ?? this.notFound(requestId);
  }

  /**
   * Claims the right to create the Qualtrics job of `kind` (customer-data job or erasure). Only one
   * caller ever gets `claimed: true`; the others learn the id (once recorded) or when it was claimed,
   * so a retried create step reuses the job instead of creating a second one.
   */
  async claimQualtricsCreate(requestId: string, kind: QualtricsJobKind): Promise<ClaimResult> {
    const now = this.now();
    const claimedAt = now.toISOString();
    const updated = await this.update(requestId, 'claimQualtricsCreate', now, {
      set: ['qualtrics.#claim = :claimedAt'],
      names: { '#claim': CLAIM_FIELD[kind], '#id': ID_FIELD[kind], '#status': 'status' },
      values: { ':claimedAt': claimedAt, ':completed': 'COMPLETED', ':failed': 'FAILED' },
      condition:
        'attribute_not_exists(qualtrics.#claim) AND attribute_not_exists(qualtrics.#id) AND NOT #status IN (:completed, :failed)',
    });
    if (updated) return { claimed: true, claimedAt };
    const current = await this.mustGet(requestId);
    const existingId = current.qualtrics?.[ID_FIELD[kind]];
    const existingClaim = current.qualtrics?.[CLAIM_FIELD[kind]];
    if (!existingId && !existingClaim && isTerminalStatus(current.status)) {
      throw new RequestStateError(requestId, current.status, `create a Qualtrics ${kind} job`);
    }
    return { claimed: false, existingId, claimedAt: existingClaim };
  }

  /**
   * Gives a claim back when the create is known not to have reached Qualtrics (e.g. a 429 or a
   * 400), so the retried step may create. Only the holder of `claimedAt` can release it.
   */
  async releaseQualtricsCreateClaim(
    requestId: string,
    kind: QualtricsJobKind,
    claimedAt: string,
  ): Promise<boolean> {
    const updated = await this.update(requestId, 'releaseQualtricsCreateClaim', this.now(), {
      set: [],
      remove: ['qualtrics.#claim'],
      names: { '#claim': CLAIM_FIELD[kind], '#id': ID_FIELD[kind] },
      values: { ':claimedAt': claimedAt },
      condition: 'qualtrics.#claim = :claimedAt AND attribute_not_exists(qualtrics.#id)',
    });
    if (updated) return true;
    await this.mustGet(requestId);
    return false;
  }

  /** Stores the Qualtrics job id unless one is stored already; returns the id that is stored. */
  async recordQualtricsId(requestId: string, kind: QualtricsJobKind, id: string): Promise<string> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
      throw new InputError('Qualtrics id must be a non-empty string');
    }
    const now = this.now();
    const updated = await this.update(requestId, 'recordQualtricsId', now, {
      set: ['qualtrics.#id = :id', 'timeline = list_append(if_not_exists(timeline, :empty), :entry)'],
      names: { '#id': ID_FIELD[kind] },
      values: {
        ':id': id,
        ':empty': [],
        ':entry': [
          this.entry(now, kind === 'customerData' ? 'CUSTOMER_DATA_JOB_CREATED' : 'ERASURE_CREATED', id),
        ],
      },
      condition: 'attribute_not_exists(qualtrics.#id)',
    });
    if (updated) return id;
    const current = await this.mustGet(requestId);
    const stored = current.qualtrics?.[ID_FIELD[kind]];
    if (!stored)
      throw new StorageError('UpdateItem', new Error('Qualtrics id neither stored nor recordable'));
    return stored;
  }

  /** Replaces the job's file ids and/or the erasure status (the ids go through `recordQualtricsId`). */
  async updateQualtrics(
    requestId: string,
    refs: Pick<QualtricsRefs, 'fileIds' | 'erasureStatus'>,
  ): Promise<RequestRecord> {
    const spec = qualtricsUpdate(refs);
    if (spec.set.length === 0) return this.mustGet(requestId);
    const updated = await this.update(requestId, 'updateQualtrics', this.now(), spec);
    return updated ?? this.notFound(requestId);
  }

  async recordExecution(
    requestId: string,
    execution: { name: string; attempt?: number },
  ): Promise<RequestRecord> {
    const updated = await this.update(requestId, 'recordExecution', this.now(), {
      set: ['execution = :execution'],
      values: { ':execution': { name: execution.name, attempt: execution.attempt ?? 1 } },
    });
    return updated ?? this.notFound(requestId);
  }

  async recordEvidence(requestId: string, evidence: Record<string, unknown>): Promise<RequestRecord> {
    const updated = await this.update(requestId, 'recordEvidence', this.now(), {
      set: ['evidence = :evidence'],
      values: { ':evidence': evidence },
    });
    return updated ?? this.notFound(requestId);
  }

  /** → COMPLETED. Completing a completed request returns it unchanged (a retried last step). */
  async complete(requestId: string, input: CompleteInput = {}): Promise<RequestRecord> {
    const now = this.now();
    const counts = countsUpdate(input.counts ?? {});
    const refs = qualtricsUpdate(input.qualtrics ?? {});
    const set = [
      '#status = :completed',
      'finishedAt = :now',
      'expiresAt = :expiresAt',
      'timeline = list_append(if_not_exists(timeline, :empty), :entry)',
      ...counts.set,
      ...refs.set,
    ];
    const values: Record<string, unknown> = {
      ':completed': 'COMPLETED',
      ':failed': 'FAILED',
      ':expiresAt': this.expiry(now),
      ':empty': [],
      ':entry': [this.entry(now, 'COMPLETED')],
      ...counts.values,
      ...refs.values,
    };
    if (input.evidence) {
      set.push('evidence = :evidence');
      values[':evidence'] = input.evidence;
    }
    const updated = await this.update(requestId, 'complete', now, {
      set,
      names: { '#status': 'status', ...counts.names, ...refs.names },
      values,
      condition: 'NOT #status IN (:completed, :failed)',
    });
    if (updated) return updated;
    const current = await this.mustGet(requestId);
    if (current.status === 'COMPLETED') return current;
    throw new RequestStateError(requestId, current.status, 'complete');
  }

  /**
   * → FAILED with a reason. The message must be PII-free (the caller's job); the record's own
   * email is scrubbed from it anyway. Failing a failed request keeps the first reason.
   */
  async fail(requestId: string, error: RequestError): Promise<RequestRecord> {
    const current = await this.mustGet(requestId);
    if (current.status === 'FAILED') return current;
    if (current.status === 'COMPLETED') throw new RequestStateError(requestId, current.status, 'fail');
    const reason: RequestError = {
      code: clip(scrubPii(String(error.code || 'UNKNOWN'), current.email), MAX_STEP),
      message: clip(scrubPii(String(error.message ?? ''), current.email), MAX_ERROR_MESSAGE),
    };
    const now = this.now();
    const updated = await this.update(requestId, 'fail', now, {
      set: [
        '#status = :failed',
        '#error = :error',
        'finishedAt = :now',
        'expiresAt = :expiresAt',
        'timeline = list_append(if_not_exists(timeline, :empty), :entry)',
      ],
      names: { '#status': 'status', '#error': 'error' },
      values: {
        ':failed': 'FAILED',
        ':completed': 'COMPLETED',
        ':error': reason,
        ':expiresAt': this.expiry(now),
        ':empty': [],
        ':entry': [this.entry(now, 'FAILED', `${reason.code}: ${reason.message}`)],
      },
      condition: 'NOT #status IN (:completed, :failed)',
    });
    if (updated) return updated;
    const after = await this.mustGet(requestId);
    if (after.status === 'FAILED') return after;
    throw new RequestStateError(requestId, after.status, 'fail');
  }

  // --- internals ---

  private async claimIdempotencyKey(
    key: string,
    req: { requestId: string; type: RequestType; hash: string; dryRun?: boolean; now: Date },
  ): Promise<string | undefined> {
    const item: IdempotencyItem = {
      pk: idempotencyPk(key),
      requestId: req.requestId,
      type: req.type,
      emailSha256: req.hash,
      dryRun: Boolean(req.dryRun),
      expiresAt: this.expiry(req.now),
    };
    // Two tries: the key item may expire (and be taken over) between our Put and our Get.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            // An expired key is free again (TTL deletion is lazy, and absent in dynalite).
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowEpoch',
            ExpressionAttributeValues: { ':nowEpoch': epochSeconds(req.now) },
          }),
        );
        return undefined;
      } catch (e) {
        if (!isConditionFailed(e)) throw new StorageError('PutItem', e);
      }
      let existing: IdempotencyItem | undefined;
      try {
        const out = await this.doc.send(
          new GetCommand({ TableName: this.tableName, Key: { pk: item.pk }, ConsistentRead: true }),
        );
        existing = out.Item as IdempotencyItem | undefined;
      } catch (e) {
        throw new StorageError('GetItem', e);
      }
      if (!existing) continue;
      if (
        existing.type !== req.type ||
        existing.emailSha256 !== req.hash ||
        Boolean(existing.dryRun) !== Boolean(req.dryRun)
      ) {
        throw new IdempotencyConflictError();
      }
      return existing.requestId;
    }
    throw new StorageError('PutItem', new Error('idempotency key contended'));
  }

  /** Runs one conditional UpdateItem; undefined when the condition (or existence) failed. */
  private async update(
    requestId: string,
    operation: string,
    now: Date,
    spec: UpdateSpec,
  ): Promise<RequestRecord | undefined> {
    const id = normalizeRequestId(requestId);
    if (!id) return undefined;
    const set = [...spec.set, 'updatedAt = :now'];
    const values: Record<string, unknown> = { ...spec.values, ':now': now.toISOString() };
    let expression = `SET ${set.join(', ')}`;
    if (spec.remove?.length) expression += ` REMOVE ${spec.remove.join(', ')}`;
    const condition = spec.condition
      ? `attribute_exists(pk) AND (${spec.condition})`
      : 'attribute_exists(pk)';
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(id) },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames:
            spec.names && Object.keys(spec.names).length > 0
              ? usedNames(spec.names, expression, condition)
              : undefined,
          ExpressionAttributeValues: usedValues(values, expression, condition),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as RequestRecord;
    } catch (e) {
      if (isConditionFailed(e)) return undefined;
      throw new StorageError(`UpdateItem (${operation})`, e);
    }
  }

  private async mustGet(requestId: string): Promise<RequestRecord> {
    const r = await this.get(requestId);
    if (!r) throw new RequestNotFoundError(requestId);
    return r;
  }

  private notFound(requestId: string): never {
    throw new RequestNotFoundError(requestId);
  }

  private entry(now: Date, step: string, detail?: string): TimelineEntry {
    const e: TimelineEntry = { at: now.toISOString(), step: clip(scrubPii(String(step)), MAX_STEP) };
    if (detail !== undefined && detail !== '') e.detail = clip(scrubPii(String(detail)), MAX_DETAIL);
    return e;
  }

  private expiry(from: Date): number {
    return epochSeconds(from) + this.retentionSeconds;
  }

  private isExpired(expiresAt: number | undefined): boolean {
    return typeof expiresAt === 'number' && expiresAt < epochSeconds(this.now());
  }
}

export function toStatusDocument(r: RequestRecord): RequestStatusDocument {
  const q = r.qualtrics ?? {};
  const qualtrics: RequestStatusDocument['qualtrics'] = {};
  if (q.customerDataRequestId) qualtrics.customerDataRequestId = q.customerDataRequestId;
  if (q.fileIds) qualtrics.fileIds = q.fileIds;
  if (q.erasureRequestId) qualtrics.erasureRequestId = q.erasureRequestId;
  if (q.erasureStatus) qualtrics.erasureStatus = q.erasureStatus;
  const doc: RequestStatusDocument = {
    requestId: r.requestId,
    type: r.type,
    status: r.status,
    maskedEmail: r.maskedEmail,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    timeline: r.timeline ?? [],
    counts: r.counts ?? {},
    qualtrics,
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
  if (r.dryRun !== undefined) doc.dryRun = r.dryRun;
  return doc;
}

function countsUpdate(counts: RequestCounts): Required<Pick<UpdateSpec, 'set' | 'names' | 'values'>> {
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

function qualtricsUpdate(
  refs: CompleteInput['qualtrics'] & object,
): Required<Pick<UpdateSpec, 'set' | 'names' | 'values'>> {
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
  // A create is recorded once: an id already stored wins.
  for (const field of ['customerDataRequestId', 'erasureRequestId'] as const) {
    const id = refs[field];
    if (id === undefined) continue;
    set.push(`qualtrics.#${field} = if_not_exists(qualtrics.#${field}, :${field})`);
    names[`#${field}`] = field;
    values[`:${field}`] = String(id);
  }
  return { set, names, values };
}

// DynamoDB rejects unused names/values in an expression; specs share some, so keep the used ones.
function usedNames(
  names: Record<string, string>,
  ...expressions: string[]
): Record<string, string> | undefined {
  const text = expressions.join(' ');
  const used = Object.entries(names).filter(([k]) => new RegExp(`${k}\\b`).test(text));
  return used.length ? Object.fromEntries(used) : undefined;
}

function usedValues(
  values: Record<string, unknown>,
  ...expressions: string[]
): Record<string, unknown> | undefined {
  const text = expressions.join(' ');
  const used = Object.entries(values).filter(([k]) => new RegExp(`${k}\\b`).test(text));
  return used.length ? Object.fromEntries(used) : undefined;
}

function isConditionFailed(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException ||
    (e as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

function epochSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
