import { ThrottledError } from '../errors';
import type { QualtricsApi } from '../qualtrics/types';
import { clip, scrubPii } from '../request-store/scrub';
import { customerDataFileKey } from '../tables';
import { AmbiguousCreateError, definitelyNotCreated } from './creates';
import { isoNow, loadRequest, type StepEnv } from './env';
import type {
  CustomerDataJobState,
  CustomerDataJobStepEvent,
  StartCustomerDataJobEvent,
  StartedJobState,
} from './inputs';
import { firstPollDeferral, learnFromPoll } from './job-durations';
import { limiterWait, withoutWait } from './throttle';
import { ageSeconds, firstPollAt, nextPollAt } from './wait';

/**
 * The customer-data (DSAR) job: create it once, poll it on the growing schedule, then stream each
 * file it produced to the bundle byte for byte.
 */

export async function startCustomerDataJob(
  env: StepEnv,
  { requestId, job }: StartCustomerDataJobEvent,
): Promise<CustomerDataJobState> {
  if (job.started) return job; // a re-delivered step: nothing to do
  const record = await loadRequest(env, requestId);
  const known = record.qualtrics?.customerDataRequestId;
  if (known) {
    // A re-run of the request: the job exists, we wait on it again.
    env.log.info('customer-data job already created; reusing it', { customerDataRequestId: known });
    await env.store.transition(
      requestId,
      'WAITING_ON_QUALTRICS',
      'WAITING_ON_QUALTRICS',
      `customer-data job ${known} reused`,
    );
    return startedJob(env, known, record.qualtrics.customerDataCreateClaimedAt);
  }
  const q = await env.qualtrics(job.reservations);
  const claim = await env.store.claimQualtricsCreate(requestId, 'customerData');
  if (!claim.claimed) {
    if (claim.existingId) return startedJob(env, claim.existingId, claim.claimedAt);
    throw new AmbiguousCreateError('customerData', claim.claimedAt);
  }

  let customerDataRequestId: string;
  let createdAt: string;
  try {
    ({ customerDataRequestId } = await q.api.createCustomerDataRequest(record.email));
    // Polls count from here, on our clock: the job exists as of this moment (the writes below
    // can take a while, and the first poll aims just past the job's typical end).
    createdAt = isoNow(env);
  } catch (e) {
    if (definitelyNotCreated(e)) {
      await releaseClaim(env, requestId, claim.claimedAt);
    } else {
      env.log.warn('customer-data job create failed with an unknown outcome; it will not be repeated', {
        error: (e as Error).name,
      });
    }
    if (e instanceof ThrottledError)
      return { started: false, ...limiterWait(env, q, e, 'creating the customer-data job') };
    throw e;
  }
  const stored = await env.store.recordQualtricsId(requestId, 'customerData', customerDataRequestId);
  await env.store.transition(requestId, 'WAITING_ON_QUALTRICS', 'WAITING_ON_QUALTRICS', 'customer-data job');
  env.log.info('customer-data job created', { customerDataRequestId: stored });
  return startedJob(env, stored, createdAt, await q.durations?.typical('customerData'));
}

function startedJob(
  env: StepEnv,
  customerDataRequestId: string,
  createdAt?: string,
  typicalSeconds?: number,
): StartedJobState {
  const created = createdAt ?? isoNow(env);
  return {
    started: true,
    customerDataRequestId,
    createdAt: created,
    polls: 0,
    status: 'inProgress',
    fileIds: [],
    waitUntil: firstPollAt(env.now(), created, env.waitScale, {
      endpoint: 'getCustomerDataRequest',
      ...(typicalSeconds !== undefined ? { typicalSeconds } : {}),
    }),
  };
}

async function releaseClaim(env: StepEnv, requestId: string, claimedAt: string): Promise<void> {
  try {
    await env.store.releaseQualtricsCreateClaim(requestId, 'customerData', claimedAt);
  } catch (e) {
    // The claim stays: a retry then stops as ambiguous instead of risking a second job.
    env.log.warn('could not release the create claim', { error: (e as Error).name });
  }
}

export async function getCustomerDataJob(
  env: StepEnv,
  { requestId, job }: CustomerDataJobStepEvent,
): Promise<StartedJobState> {
  const q = await env.qualtrics(job.reservations);
  const deferred = await firstPollDeferral(q.durations, 'customerData', job, {
    now: env.now(),
    scale: env.waitScale,
    endpoint: 'getCustomerDataRequest',
  });
  if (deferred) return { ...withoutWait(job), waitUntil: deferred };
  let progress: Awaited<ReturnType<QualtricsApi['getCustomerDataRequest']>>;
  try {
    progress = await q.api.getCustomerDataRequest(job.customerDataRequestId);
  } catch (e) {
    if (!(e instanceof ThrottledError)) throw e;
    return { ...withoutWait(job), ...limiterWait(env, q, e, 'polling the customer-data job') };
  }
  const polls = job.polls + 1;
  const rest = withoutWait(job);
  const percent = progress.percentComplete;
  await learnFromPoll(q.durations, 'customerData', {
    ended: progress.status === 'complete',
    running: progress.status === 'inProgress',
    ageSeconds: ageSeconds(env.now(), job.createdAt, env.waitScale),
    firstPoll: job.polls === 0,
    ...(percent !== undefined ? { percentComplete: percent } : {}),
    unscale: 1 / env.waitScale,
  });
  const next: StartedJobState = {
    ...rest,
    polls,
    status: progress.status,
    fileIds: progress.fileIds,
    ...(percent !== undefined && percent >= 0 && percent <= 100 ? { percentComplete: percent } : {}),
  };
  switch (progress.status) {
    case 'complete': {
      await env.store.updateQualtrics(requestId, { fileIds: progress.fileIds });
      await env.store.appendTimeline(
        requestId,
        'CUSTOMER_DATA_JOB_COMPLETE',
        `${progress.fileIds.length} file(s) after ${polls} poll(s)`,
      );
      env.log.info('customer-data job complete', { polls, files: progress.fileIds.length });
      return { ...next, downloaded: false, nextFileIndex: 0 };
    }
    case 'failed': {
      const record = await loadRequest(env, requestId);
      const reason = progress.failureReason
        ? clip(scrubPii(progress.failureReason, record.email), 300)
        : 'no reason given';
      await env.store.appendTimeline(
        requestId,
        'CUSTOMER_DATA_JOB_FAILED',
        `Qualtrics status ${progress.rawStatus ?? 'failed'}: ${reason}`,
      );
      env.log.warn('customer-data job failed', { polls, qualtricsStatus: progress.rawStatus });
      return next;
    }
    default:
      env.log.debug('customer-data job in progress', { polls, percentComplete: percent });
      return {
        ...next,
        waitUntil: nextPollAt(env.now(), job.createdAt, env.waitScale, {
          percentComplete: next.percentComplete,
          endpoint: 'getCustomerDataRequest',
        }),
      };
  }
}

/** File extension of a downloaded file, from its content type. */
export function extensionFor(contentType: string): string {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'application/zip' || type === 'application/x-zip-compressed') return 'zip';
  if (type === 'text/csv' || type === 'application/csv') return 'csv';
  return 'bin';
}

export async function downloadCustomerDataFiles(
  env: StepEnv,
  { requestId, job }: CustomerDataJobStepEvent,
): Promise<StartedJobState> {
  const q = await env.qualtrics(job.reservations);
  const rest = withoutWait(job);
  for (let i = job.nextFileIndex ?? 0; i < job.fileIds.length; i++) {
    const fileId = job.fileIds[i] as string;
    let file: Awaited<ReturnType<QualtricsApi['downloadCustomerDataFile']>>;
    try {
      file = await q.api.downloadCustomerDataFile(job.customerDataRequestId, fileId);
    } catch (e) {
      if (!(e instanceof ThrottledError)) throw e;
      return {
        ...rest,
        downloaded: false,
        nextFileIndex: i,
        ...limiterWait(env, q, e, 'the next file', { nextFileIndex: i }),
      };
    }
    const key = customerDataFileKey(requestId, encodeURIComponent(fileId), extensionFor(file.contentType));
    const stored = await env.writer.putStream(key, file.body, file.contentType);
    env.log.info('customer-data file stored', { fileId, bytes: stored.bytes });
  }
  // No timeline entry: this step may not write the request record (catalog); the manifest lists the files.
  env.log.info('customer-data files stored', { files: job.fileIds.length });
  return { ...rest, downloaded: true, nextFileIndex: job.fileIds.length };
}
