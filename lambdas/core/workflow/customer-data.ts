import { clip, scrubPii } from '../request-store/scrub';
import { customerDataFileKey } from '../tables';
import { createOnce } from './creates';
import { isoNow, loadRequest, type StepEnv } from './env';
import type {
  CustomerDataJobState,
  CustomerDataJobStepEvent,
  StartCustomerDataJobEvent,
  StartedJobState,
} from './inputs';
import { firstPollDeferral, learnFromPoll } from './job-durations';
import { callOrWait, withoutWait } from './throttle';
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
  const created = await createOnce(env, record, {
    kind: 'customerData',
    durations: 'customerData',
    reservations: job.reservations,
    create: async (api) => (await api.createCustomerDataRequest(record.email)).customerDataRequestId,
    // No `adopt`: Qualtrics does not list customer-data jobs, so an ambiguous create stops the request.
  });
  switch (created.outcome) {
    case 'wait':
      return { started: false, ...created.wait };
    case 'exists':
      return startedJob(env, created.id, created.createdAt);
    case 'created':
      await env.store.transition(
        requestId,
        'WAITING_ON_QUALTRICS',
        'WAITING_ON_QUALTRICS',
        'customer-data job',
      );
      env.log.info('customer-data job created', { customerDataRequestId: created.id });
      return startedJob(env, created.id, created.createdAt, created.typicalSeconds);
  }
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
  const polled = await callOrWait(env, q, 'polling the customer-data job', () =>
    q.api.getCustomerDataRequest(job.customerDataRequestId),
  );
  if ('wait' in polled) return { ...withoutWait(job), ...polled.wait };
  const progress = polled.value;
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

/**
 * The download stops before a file when less than this is left of the invocation, or less than
 * twice the longest file took so far: a file cut off by the Lambda timeout would fail the step.
 */
export const DOWNLOAD_STOP_MARGIN_MS = 60_000;

export async function downloadCustomerDataFiles(
  env: StepEnv,
  { requestId, job }: CustomerDataJobStepEvent,
): Promise<StartedJobState> {
  const q = await env.qualtrics(job.reservations);
  const rest = withoutWait(job);
  const first = job.nextFileIndex ?? 0;
  let longestMs = 0;
  for (let i = first; i < job.fileIds.length; i++) {
    if (
      i > first &&
      env.remainingTimeMs &&
      env.remainingTimeMs() < Math.max(DOWNLOAD_STOP_MARGIN_MS, 2 * longestMs)
    ) {
      // The next invocation (the "files" Wait, due at once) resumes at this file.
      env.log.info('customer-data download continues in the next invocation', { nextFileIndex: i });
      return { ...rest, downloaded: false, nextFileIndex: i, waitUntil: isoNow(env) };
    }
    const startedAt = Date.now();
    const fileId = job.fileIds[i] as string;
    const downloaded = await callOrWait(
      env,
      q,
      'the next file',
      () => q.api.downloadCustomerDataFile(job.customerDataRequestId, fileId),
      { nextFileIndex: i },
    );
    if ('wait' in downloaded) return { ...rest, downloaded: false, nextFileIndex: i, ...downloaded.wait };
    const file = downloaded.value;
    const key = customerDataFileKey(requestId, encodeURIComponent(fileId), extensionFor(file.contentType));
    const stored = await env.writer.putStream(key, file.body, file.contentType);
    env.log.info('customer-data file stored', { fileId, bytes: stored.bytes });
    longestMs = Math.max(longestMs, Date.now() - startedAt);
  }
  // No timeline entry: this step may not write the request record (catalog); the manifest lists the files.
  env.log.info('customer-data files stored', { files: job.fileIds.length });
  return { ...rest, downloaded: true, nextFileIndex: job.fileIds.length };
}
