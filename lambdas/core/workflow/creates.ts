import { DsrError, ErrorNames, QualtricsError, ThrottledError } from '../errors';
import type { QualtricsApi } from '../qualtrics/types';
import type { Reservation } from '../rate-limiter';
import type { QualtricsJobKind, QualtricsRefs, RequestRecord } from '../request-store';
import { isoNow, type LimitedQualtrics, type StepEnv } from './env';
import type { JobKind } from './job-durations';
import { type CallOrWait, callOrWait, type LimiterWait } from './throttle';

/**
 * Creating a Qualtrics job or erasure must never be repeated blindly (a second customer-data job,
 * a second erasure). `createOnce` is the one protocol for both: the request record takes a claim,
 * the create is sent, a create that certainly failed releases the claim (a retry may create), and
 * the id is recorded. A claim left without an id means an earlier attempt ended without a known
 * outcome: an erasure is then looked for in Qualtrics' erasure list (`adopt`), a customer-data job
 * cannot be (Qualtrics does not list them), so the request stops rather than risk a second one.
 */

/** How each kind is named in logs and the timeline, and where the request record keeps it. */
const JOBS = {
  customerData: {
    what: 'customer-data job',
    qualtricsName: 'customer-data job',
    idField: 'customerDataRequestId',
    claimField: 'customerDataCreateClaimedAt',
  },
  erasure: {
    what: 'erasure',
    qualtricsName: 'erasure request',
    idField: 'erasureRequestId',
    claimField: 'erasureCreateClaimedAt',
  },
} as const satisfies Record<
  QualtricsJobKind,
  { what: string; qualtricsName: string; idField: keyof QualtricsRefs; claimField: keyof QualtricsRefs }
>;

/** Statuses with which Qualtrics answered without creating anything. */
const DEFINITELY_NOT_CREATED_STATUSES = new Set([400, 401, 403, 404, 409, 411, 413, 415, 422, 429, 503]);

/** Whether Qualtrics certainly created nothing when a create failed with `e`. */
export function definitelyNotCreated(e: unknown): boolean {
  // The limiter refused, or could not be asked: the request never left.
  if (e instanceof ThrottledError) return true;
  if (e instanceof DsrError && e.name === ErrorNames.LimiterUnavailable) return true;
  if (e instanceof DsrError && e.name === ErrorNames.Config) return true;
  if (e instanceof QualtricsError) {
    // A failing token request happens before the create is sent.
    if (e.endpoint === 'token') return true;
    // The connection (or its TLS handshake) failed before any byte of the create was written.
    if (e.notSent) return true;
    return DEFINITELY_NOT_CREATED_STATUSES.has(e.httpStatus);
  }
  return false;
}

/** What the user can check, and do, when a create's outcome is unknown (README "Design decisions"). */
const AMBIGUOUS_CREATE_ADVICE: Record<QualtricsJobKind, string> = {
  customerData:
    'Qualtrics lists no customer-data jobs, so ask your Qualtrics brand administrator or Qualtrics ' +
    'support whether a customer-data request (POST /API/v3/customer-data-requests) was created at that ' +
    'time. If none was, submit the request again (a new request); if one was, get its files from ' +
    'Qualtrics with its id (GET /API/v3/customer-data-requests/{id}) rather than creating another',
  erasure:
    "Look in Qualtrics' erasure list (GET /API/v3/op-erase-personal-data) for the erasure requests " +
    'created since then for this subject: keep one and submit nothing again, or, if there is none, ' +
    'submit the request again (a new request)',
};

/**
 * A claim without an id: an earlier attempt sent the create and got no answer (a timeout, or a
 * connection lost after the request was written), so Qualtrics may have created the job. Not
 * retryable: the message says what to check and what to do.
 */
export class AmbiguousCreateError extends DsrError {
  constructor(kind: QualtricsJobKind, requestId: string, claimedAt?: string) {
    super(
      ErrorNames.AmbiguousCreate,
      `request ${requestId}: an earlier attempt to create the Qualtrics ${JOBS[kind].qualtricsName}` +
        `${claimedAt ? ` at ${claimedAt}` : ''} was sent but got no answer, so whether Qualtrics ` +
        'created it is unknown; it is not sent again, so that no second one exists. ' +
        AMBIGUOUS_CREATE_ADVICE[kind],
      false,
    );
  }
}

/** A job an earlier attempt created, as Qualtrics lists it. */
export interface AdoptedJob {
  id: string;
  /** Qualtrics' own creation stamp, when it gives one. */
  createdAt?: string;
}

export interface CreateOnceSpec {
  kind: QualtricsJobKind;
  /** Which learned duration hints the first poll (`job-durations.ts`). */
  durations: JobKind;
  /** Limiter slots an earlier, throttled attempt of the step reserved. */
  reservations?: readonly Reservation[];
  /** Sends the create; resolves to Qualtrics' id of the new job. */
  create(api: QualtricsApi): Promise<string>;
  /**
   * Only for kinds Qualtrics lists (erasures): after an earlier attempt ended without a known
   * outcome, the job it created, or undefined when there is none (then one is created). Without
   * it such a claim stops the request (AmbiguousCreateError).
   */
  adopt?(api: QualtricsApi, claimedAt: string | undefined): Promise<AdoptedJob | undefined>;
}

export type CreateOnceOutcome =
  /** Recorded before (a re-run, or a concurrent attempt): poll it, counting from `createdAt` if known. */
  | { outcome: 'exists'; id: string; createdAt?: string }
  /** Created (or adopted) and its id recorded now: the caller records the rest and starts polling. */
  | { outcome: 'created'; id: string; createdAt?: string; typicalSeconds?: number }
  /** The limiter denied a call: the step returns this wait and comes back. */
  | { outcome: 'wait'; wait: LimiterWait };

/** Claim → create → release (when nothing was created) → record, for the request's job of `spec.kind`. */
export async function createOnce(
  env: StepEnv,
  record: RequestRecord,
  spec: CreateOnceSpec,
): Promise<CreateOnceOutcome> {
  const { requestId } = record;
  const job = JOBS[spec.kind];
  const known = record.qualtrics?.[job.idField];
  if (known) {
    // A re-run of the request: the job exists, we wait on it again.
    env.log.info(`${job.what} already created; reusing it`, { [job.idField]: known });
    await env.store.transition(
      requestId,
      'WAITING_ON_QUALTRICS',
      'WAITING_ON_QUALTRICS',
      `${job.what} ${known} reused`,
    );
    return { outcome: 'exists', id: known, createdAt: record.qualtrics[job.claimField] };
  }
  const q = await env.qualtrics(spec.reservations);
  const claim = await env.store.claimQualtricsCreate(requestId, spec.kind, q.target);
  if (!claim.claimed) {
    if (claim.existingId) return { outcome: 'exists', id: claim.existingId, createdAt: claim.claimedAt };
    const { adopt } = spec;
    if (!adopt) throw new AmbiguousCreateError(spec.kind, requestId, claim.claimedAt);
    // An earlier attempt may have created it: Qualtrics lists these, so look before creating.
    const found = await callOrWait(env, q, `looking for the ${job.what} of an earlier attempt`, () =>
      adopt(q.api, claim.claimedAt),
    );
    if ('wait' in found) return { outcome: 'wait', wait: found.wait };
    if (found.value) {
      env.log.info(`${job.what} of an earlier attempt found; adopting it`, { [job.idField]: found.value.id });
      return recorded(env, q, record, spec, found.value.id, found.value.createdAt ?? claim.claimedAt);
    }
    env.log.info(`no ${job.what} of an earlier attempt found; creating it`);
  }
  // Without our claim (an earlier attempt's), there is nothing of ours to release.
  const release = claim.claimed ? () => releaseClaim(env, requestId, spec.kind, claim.claimedAt) : noop;
  let created: CallOrWait<string>;
  try {
    created = await callOrWait(env, q, `creating the ${job.what}`, () => spec.create(q.api));
  } catch (e) {
    if (definitelyNotCreated(e)) {
      await release();
    } else {
      env.log.warn(
        spec.adopt
          ? `${job.what} create failed with an unknown outcome; a retry looks for it in Qualtrics first`
          : `${job.what} create failed with an unknown outcome; it will not be repeated`,
        { error: (e as Error).name },
      );
    }
    throw e;
  }
  if ('wait' in created) {
    await release();
    return { outcome: 'wait', wait: created.wait };
  }
  // Polls count from here, on our clock: the job exists as of this moment (the writes below can
  // take a while, and the first poll aims just past the job's typical end).
  return recorded(env, q, record, spec, created.value, isoNow(env));
}

async function recorded(
  env: StepEnv,
  q: LimitedQualtrics,
  record: RequestRecord,
  spec: CreateOnceSpec,
  id: string,
  createdAt: string | undefined,
): Promise<CreateOnceOutcome> {
  const stored = await env.store.recordQualtricsId(record.requestId, spec.kind, id);
  const typicalSeconds = await q.durations?.typical(spec.durations);
  return {
    outcome: 'created',
    id: stored,
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(typicalSeconds !== undefined ? { typicalSeconds } : {}),
  };
}

async function releaseClaim(
  env: StepEnv,
  requestId: string,
  kind: QualtricsJobKind,
  claimedAt: string,
): Promise<void> {
  try {
    await env.store.releaseQualtricsCreateClaim(requestId, kind, claimedAt);
  } catch (e) {
    // The claim stays: a retry then stops as ambiguous instead of risking a second job.
    env.log.warn('could not release the create claim', { error: (e as Error).name });
  }
}

const noop = async (): Promise<void> => {};
