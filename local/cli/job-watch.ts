import type { WorkflowEvent } from '../engine/workflows';

/**
 * What the CLI waits for during a Qualtrics job (README "The CLI": the live view): the job, its
 * progress, how long it has run and when the next poll is. Read from the workflow's own state (the
 * job's id, `createdAt`, `percentComplete`, `waitUntil`), which carries ids and instants only.
 */

export interface WatchedJob {
  /** `customer-data job`, `erasure` or `erasure (dry run)`. */
  kind: string;
  id: string;
  /** When the job was created (epoch ms). */
  createdAt: number;
  /** Percent done, when Qualtrics says. */
  percent?: number;
  /** Qualtrics' own status word, when it gave one. */
  qualtricsStatus?: string;
  /** When the next poll is (epoch ms), while it waits. */
  nextPollAt?: number;
  /** Set once Qualtrics reported it ended. */
  ended?: { status: string; at: number };
}

interface JobState {
  started?: boolean;
  status?: string;
  createdAt?: string;
  waitUntil?: string;
  percentComplete?: number;
  qualtricsStatus?: string;
  customerDataRequestId?: string;
  erasureRequestId?: string;
  dryRun?: boolean;
}

/** The job states an event carries (a step's input on entry, its output on exit). */
function jobStatesOf(e: WorkflowEvent): JobState[] {
  const value = (e.type === 'StateExited' ? e.output : e.type === 'StateEntered' ? e.input : undefined) as
    | { job?: JobState; erasure?: JobState }
    | undefined;
  if (!value || typeof value !== 'object') return [];
  return [value.job, value.erasure].filter((s): s is JobState => Boolean(s?.started && s.createdAt));
}

/**
 * Follows the jobs of a run: `update` reads each workflow event and returns the jobs it changed.
 * A poll is waited for only while the job is in progress (a `waitUntil` after it ended is a wait
 * for the rate limiter, not for Qualtrics).
 */
export class JobWatch {
  private readonly jobs = new Map<string, WatchedJob>();

  update(e: WorkflowEvent, now: number): WatchedJob[] {
    const changed: WatchedJob[] = [];
    for (const s of jobStatesOf(e)) {
      const id = s.customerDataRequestId ?? s.erasureRequestId;
      if (!id) continue;
      const kind = s.customerDataRequestId ? 'customer-data job' : s.dryRun ? 'erasure (dry run)' : 'erasure';
      const job = this.jobs.get(id) ?? { kind, id, createdAt: Date.parse(s.createdAt as string) };
      const before = JSON.stringify(job);
      if (s.percentComplete !== undefined) job.percent = s.percentComplete;
      if (s.qualtricsStatus) job.qualtricsStatus = s.qualtricsStatus;
      const running = s.status === 'inProgress';
      if (!running && s.status && !job.ended) job.ended = { status: s.status, at: now };
      if (running && s.waitUntil) job.nextPollAt = Date.parse(s.waitUntil);
      if (!running) delete job.nextPollAt;
      this.jobs.set(id, job);
      if (JSON.stringify(job) !== before) changed.push(job);
    }
    return changed;
  }

  /** Jobs Qualtrics is still working on. */
  running(): WatchedJob[] {
    return [...this.jobs.values()].filter((j) => !j.ended);
  }
}

/** One line on a job: `customer-data job CDR_1: 35% · waited 2m 10s · next poll in 12s (10:32:05 UTC)`. */
export function describeJob(job: WatchedJob, now: number): string {
  const head = `${job.kind} ${job.id}`;
  if (job.ended) {
    const outcome = job.ended.status === 'complete' ? 'done' : job.ended.status;
    return `${head}: ${outcome} after ${duration(job.ended.at - job.createdAt)}`;
  }
  const parts = [
    `${head}: ${job.percent !== undefined ? `${Math.floor(job.percent)}%` : (job.qualtricsStatus ?? 'in progress')}`,
  ];
  parts.push(`waited ${duration(now - job.createdAt)}`);
  if (job.nextPollAt !== undefined) {
    const left = job.nextPollAt - now;
    // Rounded up: "in 0s" would say the poll is due while it is not.
    const inSeconds = Math.ceil(left / 1000) * 1000;
    parts.push(left > 0 ? `next poll in ${duration(inSeconds)} (${clock(job.nextPollAt)})` : 'polling now');
  }
  return parts.join(' · ');
}

/** `12s`, `2m 10s`, `3h 05m`, `2d 4h`: whole seconds, two units at most. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `10:32:05 UTC`. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}
