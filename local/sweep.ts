import { localEvents } from '../lambdas/core/events';
import { requestStoreFromEnv } from '../lambdas/core/request-store';
import {
  dueSoonDaysFromEnv,
  STALL_GRACE_MS,
  type SweepReport,
  type SweepResult,
  sweep,
} from '../lambdas/core/sweep';
import type { BackgroundWorkflows } from './api/background-workflows';

/**
 * The sweep on the laptop (README "The sweep"): the same function as in AWS, with what the local
 * runtime knows. Every workflow of a data dir runs in the process that holds it, so a request is
 * live exactly when this process is running its workflow; the others that are open were left by a
 * process that stopped, and are resumed here, in this process's background workflows. Events go to
 * the in-process publisher (and so to `<data-dir>/events.jsonl`).
 */

/** `serve` sweeps at start and then this often (× the wait scale). */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

export interface LocalSweepOptions {
  /** This process's workflows (it owns the data dir). */
  workflows: BackgroundWorkflows;
  waitScale: number;
  /** When this process took the data dir. */
  ownedSince: Date;
}

export function runLocalSweep(o: LocalSweepOptions): Promise<SweepResult> {
  const now = new Date();
  return sweep(
    {
      store: requestStoreFromEnv(),
      starter: o.workflows,
      liveness: async (record) => (o.workflows.running().includes(record.requestId) ? 'live' : 'stalled'),
      events: localEvents,
      dueSoonDays: dueSoonDaysFromEnv(),
      // The grace covers a request this process is submitting (recorded, its workflow not started
      // yet), so only what was written since it took the data dir: what a stopped process left is
      // judged at once. Against the simulator time runs faster, and so does the grace.
      graceMs: Math.max(0, Math.min(STALL_GRACE_MS * o.waitScale, now.getTime() - o.ownedSince.getTime())),
    },
    now,
  );
}

/** What a sweep did, in one line (nothing when it did nothing). */
export function describeSweep(r: SweepReport): string | undefined {
  const parts = [
    r.resumed.length && `resumed ${r.resumed.length} stalled request(s)`,
    r.failed.length && `failed ${r.failed.length} (STALLED)`,
    r.dueSoon.length && `${r.dueSoon.length} due soon`,
    r.overdue.length && `${r.overdue.length} overdue`,
    r.emailsForgotten && `${r.emailsForgotten} email(s) erased`,
  ].filter(Boolean);
  return parts.length ? `sweep: ${parts.join(', ')}` : undefined;
}

export interface SweepSchedule {
  /** Stops the schedule and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** Sweeps now and then every SWEEP_INTERVAL_MS × waitScale, one at a time; `report` gets each summary line. */
export function scheduleSweeps(o: LocalSweepOptions, report: (line: string) => void): SweepSchedule {
  let current: Promise<void> | undefined;
  const once = () => {
    if (current) return; // the one before is still at it
    current = runLocalSweep(o)
      .then((result) => {
        const line = describeSweep(result);
        if (line) report(line);
      })
      .catch((err: unknown) =>
        report(`sweep failed: ${(err as Error)?.name ?? 'Error'}; the next one tries again`),
      )
      .finally(() => {
        current = undefined;
      });
  };
  once();
  const timer = setInterval(once, Math.max(1, SWEEP_INTERVAL_MS * o.waitScale));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
