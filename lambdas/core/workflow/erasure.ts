import { type ErasureEvidence, emailsNotFoundEntries } from '../evidence';
import { normalizeEmail } from '../privacy';
import type { ErasureRequest, QualtricsApi } from '../qualtrics/types';
import type { RecordWithEmail, RequestRecord } from '../request-store';
import { clip, scrubPii } from '../request-store/scrub';
import { AmbiguousCreateError, createOnce } from './creates';
import { isoNow, loadRequest, type StepEnv } from './env';
import type { CreateErasureEvent, ErasureState, GetErasureEvent, StartedErasureState } from './inputs';
import { firstPollDeferral, type JobKind, learnFromPoll } from './job-durations';
import { callOrWait, withoutWait } from './throttle';
import { ageSeconds, firstPollAt, nextPollAt } from './wait';

/**
 * The erasure (`op-erase-personal-data`): created once (`searchOnly` for a dry run), then polled
 * until Qualtrics confirms it. What Qualtrics reports (statuses with timestamps, emailsNotFound,
 * masked and hashed) goes to the request record's evidence, never into the state.
 */

/** Erasures are polled by id (a 20-a-minute endpoint): its limit sets the shortest poll interval. */
const ERASURE_POLL = { endpoint: 'getErasureRequest' } as const;

/** A dry run (searchOnly) only searches, so it may take far less time than an erasure: learned apart. */
function erasureKind(dryRun: boolean): JobKind {
  return dryRun ? 'erasureSearchOnly' : 'erasure';
}

/** How far Qualtrics' clock may differ from ours when matching an erasure to our create attempt. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Qualtrics answers 404 to get-by-id until an erasure ends, so a 404 alone cannot tell "still
 * running" from "never heard of it"; only the erasure list can. But that list holds every erasure
 * the brand ever made, page after page, at 20 calls a minute shared by every deletion in flight:
 * reading it on every poll would make the list, not Qualtrics, the limit on how many deletions
 * finish per hour. So a 404 is taken as "still running" while the erasure is younger than this
 * (unscaled seconds; its id came from Qualtrics' own create answer, or from the request record),
 * and after that only while the list showed it at an age at least half the present one: the list
 * is read again each time the erasure's age has doubled.
 */
export const LIST_CHECK_AFTER_SECONDS = 600;

/** Whether a 404 for this erasure needs the erasure list to confirm it is still running. */
export function listCheckDue(
  now: number,
  erasure: { createdAt: string; listedAt?: string },
  scale: number,
): boolean {
  const age = ageSeconds(now, erasure.createdAt, scale);
  if (age < LIST_CHECK_AFTER_SECONDS) return false;
  if (!erasure.listedAt) return true;
  return age >= 2 * ageSeconds(Date.parse(erasure.listedAt), erasure.createdAt, scale);
}

export async function createErasure(
  env: StepEnv,
  { requestId, erasure }: CreateErasureEvent,
): Promise<ErasureState> {
  if (erasure.started) return erasure; // a re-delivered step: nothing to do
  const record = await loadRequest(env, requestId);
  const dryRun = Boolean(record.dryRun);
  const created = await createOnce(env, record, {
    kind: 'erasure',
    durations: erasureKind(dryRun),
    reservations: erasure.reservations,
    create: async (api) => (await api.createErasureRequest([record.email], dryRun)).erasureRequestId,
    // Qualtrics lists erasures: after an ambiguous create, the earlier attempt's one is adopted.
    adopt: async (api, claimedAt) => {
      const own = await findOwnErasure(api, record, claimedAt);
      return own && { id: own.erasureRequestId, ...(own.created ? { createdAt: own.created } : {}) };
    },
  });
  switch (created.outcome) {
    case 'wait':
      return { started: false, ...created.wait };
    case 'exists':
      return startedErasure(env, created.id, dryRun, created.createdAt);
    case 'created':
      return recordCreated(env, requestId, created.id, dryRun, created.createdAt, created.typicalSeconds);
  }
}

/** The rest of a created (or adopted) erasure's record, once `createOnce` recorded its id. */
async function recordCreated(
  env: StepEnv,
  requestId: string,
  erasureRequestId: string,
  dryRun: boolean,
  /** When it came to exist: just after our create answered, or Qualtrics' stamp of an adopted one. */
  createdAt?: string,
  /** How long this tenant's erasures take (job-durations.ts), if known. */
  typicalSeconds?: number,
): Promise<StartedErasureState> {
  const at = isoNow(env);
  const evidence: ErasureEvidence = {
    erasureRequestId,
    searchOnly: dryRun,
    createdAt: createdAt ?? at,
    statuses: [{ at, status: 'submitted' }],
  };
  await env.store.recordEvidence(requestId, evidence as unknown as Record<string, unknown>);
  await env.store.transition(
    requestId,
    'WAITING_ON_QUALTRICS',
    'WAITING_ON_QUALTRICS',
    dryRun ? 'erasure (dry run: searchOnly)' : 'erasure',
  );
  env.log.info('erasure created', { erasureRequestId, dryRun });
  return startedErasure(env, erasureRequestId, dryRun, evidence.createdAt, typicalSeconds);
}

function startedErasure(
  env: StepEnv,
  erasureRequestId: string,
  dryRun: boolean,
  createdAt?: string,
  typicalSeconds?: number,
): StartedErasureState {
  const created = createdAt ?? isoNow(env);
  if (env.deletionDone === 'submitted') {
    return { started: true, erasureRequestId, dryRun, status: 'submitted', createdAt: created, polls: 0 };
  }
  return {
    started: true,
    erasureRequestId,
    dryRun,
    status: 'inProgress',
    createdAt: created,
    polls: 0,
    waitUntil: firstPollAt(env.now(), created, env.waitScale, {
      ...ERASURE_POLL,
      ...(typicalSeconds !== undefined ? { typicalSeconds } : {}),
    }),
  };
}

/**
 * The erasure an earlier attempt of this request created, if Qualtrics lists one: created since
 * the claim, for the subject alone, with the same searchOnly. Several candidates → ambiguous.
 */
async function findOwnErasure(
  client: QualtricsApi,
  record: RecordWithEmail,
  claimedAt: string | undefined,
): Promise<ErasureRequest | undefined> {
  const since = claimedAt ? Date.parse(claimedAt) - CLOCK_SKEW_MS : Number.NEGATIVE_INFINITY;
  const subject = normalizeEmail(record.email);
  const dryRun = Boolean(record.dryRun);
  const candidates = (await client.listErasureRequests()).filter((e) => {
    const created = e.created ? Date.parse(e.created) : Number.NaN;
    if (!(created >= since)) return false;
    if (e.searchOnly !== undefined && e.searchOnly !== dryRun) return false;
    if (e.emailList) return e.emailList.length === 1 && normalizeEmail(e.emailList[0] as string) === subject;
    // Without the list of emails, a single-email erasure is the best match there is.
    return e.numEmailsRequested === undefined || e.numEmailsRequested === 1;
  });
  if (candidates.length > 1) throw new AmbiguousCreateError('erasure', record.requestId, claimedAt);
  return candidates[0];
}

export async function getErasure(
  env: StepEnv,
  { requestId, erasure }: GetErasureEvent,
): Promise<StartedErasureState> {
  const q = await env.qualtrics(erasure.reservations);
  const rest = withoutWait(erasure);
  const kind = erasureKind(erasure.dryRun);
  const deferred = await firstPollDeferral(q.durations, kind, erasure, {
    now: env.now(),
    scale: env.waitScale,
    endpoint: ERASURE_POLL.endpoint,
  });
  if (deferred) return { ...rest, waitUntil: deferred };
  const stillRunning = () =>
    learnFromPoll(q.durations, kind, {
      ended: false,
      running: true,
      ageSeconds: ageSeconds(env.now(), erasure.createdAt, env.waitScale),
      firstPoll: erasure.polls === 0,
      unscale: 1 / env.waitScale,
    });
  const checked = await callOrWait(env, q, 'checking the erasure', async () => {
    const byId = await q.api.getErasureRequest(erasure.erasureRequestId);
    if (byId.found) return { report: byId };
    // Qualtrics answers an error to get-by-id until the erasure ends (see LIST_CHECK_AFTER_SECONDS).
    if (!listCheckDue(env.now(), erasure, env.waitScale)) return { stillRunning: true } as const;
    // Only the list can tell "still running" from "never heard of it"
    // (docs/qualtrics-api.md#erasure-404-until-complete).
    const listed = await findListed(q.api, erasure.erasureRequestId);
    if (listed) rest.listedAt = isoNow(env);
    return { report: listed };
  });
  if ('wait' in checked) return { ...rest, ...checked.wait };
  if ('stillRunning' in checked.value) {
    await stillRunning();
    return {
      ...rest,
      polls: erasure.polls + 1,
      waitUntil: nextPollAt(env.now(), erasure.createdAt, env.waitScale, ERASURE_POLL),
    };
  }
  const { report } = checked.value;
  const polls = erasure.polls + 1;
  const record = await loadRequest(env, requestId);
  if (!report) {
    const reason = `Qualtrics does not know erasure ${erasure.erasureRequestId}`;
    await noteStatus(env, record, 'unknown to Qualtrics', reason);
    await env.store.appendTimeline(requestId, 'ERASURE_FAILED', reason);
    env.log.warn('erasure unknown to Qualtrics', { erasureRequestId: erasure.erasureRequestId, polls });
    return { ...rest, polls, status: 'failed', qualtricsStatus: 'unknown' };
  }
  const qualtricsStatus = clip(report.rawStatus ?? report.status, 64);
  const failureReason = report.failureReason
    ? clip(scrubPii(report.failureReason, record.email), 300)
    : undefined;
  const changed = await noteStatus(env, record, qualtricsStatus, failureReason, report);
  if (changed) await env.store.updateQualtrics(requestId, { erasureStatus: qualtricsStatus });
  const next: StartedErasureState = { ...rest, polls, status: report.status, qualtricsStatus };
  switch (report.status) {
    case 'complete': {
      await learnFromPoll(q.durations, kind, {
        ended: true,
        ageSeconds: ageSeconds(env.now(), erasure.createdAt, env.waitScale),
        firstPoll: erasure.polls === 0,
        ...(report.created ? { created: report.created } : {}),
        ...(report.updated ? { updated: report.updated } : {}),
        unscale: 1 / env.waitScale,
      });
      await env.store.appendTimeline(requestId, 'ERASURE_COMPLETE', `Qualtrics status ${qualtricsStatus}`);
      env.log.info('erasure complete', { polls });
      return next;
    }
    case 'failed':
      await env.store.appendTimeline(
        requestId,
        'ERASURE_FAILED',
        `Qualtrics status ${qualtricsStatus}${failureReason ? `: ${failureReason}` : ''}`,
      );
      env.log.warn('erasure failed', { polls, qualtricsStatus });
      return next;
    default:
      await stillRunning();
      return { ...next, waitUntil: nextPollAt(env.now(), erasure.createdAt, env.waitScale, ERASURE_POLL) };
  }
}

async function findListed(
  client: QualtricsApi,
  erasureRequestId: string,
): Promise<ErasureRequest | undefined> {
  let cursor: Parameters<QualtricsApi['listErasureRequestsPage']>[0];
  do {
    const page = await client.listErasureRequestsPage(cursor);
    const hit = page.elements.find((e) => e.erasureRequestId === erasureRequestId);
    if (hit) return hit;
    cursor = page.next;
  } while (cursor);
  return undefined;
}

/**
 * Adds a status to the evidence when it differs from the last one seen, with what Qualtrics
 * reported at the end (emailsNotFound). Returns whether anything changed.
 */
async function noteStatus(
  env: StepEnv,
  record: RequestRecord,
  status: string,
  failureReason?: string,
  report?: ErasureRequest,
): Promise<boolean> {
  const evidence = { ...(record.evidence as ErasureEvidence | undefined) } as ErasureEvidence;
  const statuses = [...(evidence.statuses ?? [])];
  const ended = report?.status === 'complete' || report?.status === 'failed';
  if (statuses.at(-1)?.status === status && !ended) return false;
  if (statuses.at(-1)?.status !== status) statuses.push({ at: isoNow(env), status });
  const updated: ErasureEvidence = {
    ...evidence,
    erasureRequestId: evidence.erasureRequestId ?? record.qualtrics.erasureRequestId ?? '',
    searchOnly: evidence.searchOnly ?? Boolean(record.dryRun),
    createdAt: evidence.createdAt ?? record.createdAt,
    statuses,
  };
  // Qualtrics reports the addresses themselves; the evidence keeps them masked and hashed.
  if (report?.emailsNotFound && ended) updated.emailsNotFound = emailsNotFoundEntries(report.emailsNotFound);
  if (report?.numEmailsRequested !== undefined) updated.numEmailsRequested = report.numEmailsRequested;
  if (failureReason) updated.failureReason = failureReason;
  await env.store.recordEvidence(record.requestId, updated as unknown as Record<string, unknown>);
  return true;
}
