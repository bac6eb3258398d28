import type { WorkflowEvent } from '../engine/workflows';
import { describeJob, JobWatch } from './job-watch';

/**
 * Progress on stderr: a live view on a TTY, plain timestamped lines otherwise. It only ever shows
 * state names, counts, ids and times (never the email or contact data). While Qualtrics works on a
 * job the live view says which, how far, how long it has waited and when the next poll is, redrawn
 * every second by a timer (a real job may take hours between two events).
 */
export interface Progress {
  line(text: string): void;
  workflowEvent(e: WorkflowEvent): void;
  done(): void;
}

/** Time as the view reads it; replaced in tests by a clock they move. */
export interface ProgressClock {
  now(): number;
  /** Calls `tick` every `ms` until stopped (it must not keep the process alive). */
  every(ms: number, tick: () => void): { stop(): void };
}

export const systemClock: ProgressClock = {
  now: () => Date.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  },
};

/** How often the live view redraws while it waits on Qualtrics. */
export const REDRAW_MS = 1000;

interface Tally {
  step: string;
  polls: number;
  limiterWaits: number;
  retries: number;
  directoriesSearched: number;
}

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  label = '',
  time: ProgressClock = systemClock,
): Progress {
  const live = Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI;
  const tally: Tally = { step: 'starting', polls: 0, limiterWaits: 0, retries: 0, directoriesSearched: 0 };
  const jobs = new JobWatch();
  let drawn = 0;
  let closed = false;
  let timer: { stop(): void } | undefined;
  const started = time.now();

  const plain = (text: string) => stream.write(`${new Date(time.now()).toISOString()} ${label}${text}\n`);
  const render = () => {
    if (!live || closed) return;
    const now = time.now();
    const secs = ((now - started) / 1000).toFixed(1);
    const lines = [
      `  step: ${tally.step}`,
      ...jobs.running().map((j) => `  waiting on Qualtrics: ${describeJob(j, now)}`),
      `  polls: ${tally.polls}   limiter waits: ${tally.limiterWaits}   retries: ${tally.retries}   directories searched: ${tally.directoriesSearched}   ${secs}s`,
    ];
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
    for (const l of lines) stream.write(`\x1b[2K${l}\n`);
    drawn = lines.length;
  };
  // The clock moves while nothing happens: a timer redraws as long as a job is being waited on.
  const keepTime = () => {
    if (!live || closed) return;
    const waiting = jobs.running().length > 0;
    if (waiting && !timer) timer = time.every(REDRAW_MS, render);
    if (!waiting && timer) {
      timer.stop();
      timer = undefined;
    }
  };

  return {
    line(text) {
      if (live && !closed) {
        if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
        drawn = 0;
        stream.write(`${text}\n`);
        render();
      } else plain(text);
    },
    workflowEvent(e) {
      if (e.type === 'StateEntered' && e.state) {
        if (e.stateType === 'Task') tally.step = e.state;
        if (e.stateType === 'Wait' && e.state.includes('rate limiter')) tally.limiterWaits++;
        if (e.state.startsWith('Get ') && e.stateType === 'Task' && /progress|status/.test(e.state))
          tally.polls++;
        if (
          !live &&
          (e.stateType === 'Task' || (e.stateType === 'Wait' && e.state.includes('rate limiter')))
        ) {
          plain(`step: ${e.state}`);
        }
      } else if (e.type === 'StateRetried') {
        tally.retries++;
        if (!live) plain(`retry: ${e.state} after ${e.error?.Error ?? 'an error'}`);
      } else if (e.type === 'MapIterationSucceeded') {
        tally.directoriesSearched++;
      }
      const now = time.now();
      for (const job of jobs.update(e, now)) {
        // Plain lines say it once per change (a new poll scheduled, the job ended), not every second.
        if (!live)
          plain(job.ended ? describeJob(job, now) : `waiting on Qualtrics: ${describeJob(job, now)}`);
      }
      keepTime();
      render();
    },
    /** Leaves the last view on screen and stops drawing, so output that follows is never overwritten. */
    done() {
      closed = true;
      drawn = 0;
      timer?.stop();
      timer = undefined;
    },
  };
}
