import { ErrorNames, QualtricsError } from '../../../lambdas/core/errors';
import { isTerminalStatus } from '../../../lambdas/core/request-store';
import { workflowDeps } from '../../../lambdas/core/workflow/deps';
import type { WorkflowEvent } from '../../engine/workflows';
import { type DataDirOwner, startOwner } from '../../owner/owner';
import type { Runtime } from '../../runtime';
import { connectionError } from '../commands/health';
import { CliError } from '../exit-codes';
import type { Progress } from '../progress';
import { type StopSignals, stopSignals } from '../signals';
import type { Backend, FollowResult } from './backend';
import { DsrClient } from './client';
import { inProcessTransport } from './transports';

/**
 * The backend of a command that owns the data dir: the API answers in this process, workflows
 * run here (its own and any other command hands over), and Ctrl-C / SIGTERM stop them in order
 * (README "Stopping and crash recovery"): running workflows get SHUTDOWN_GRACE_MS to end, then stop at their next
 * state once their running steps end (STEP_GRACE_MS at most), and their requests stay
 * resumable. A second signal skips the waiting.
 */

/** Against the simulator a request takes seconds; against a tenant, waiting hours on Ctrl-C is no option. */
export const SHUTDOWN_GRACE_MS = 30_000;
/** A step runs for at most its Lambda timeout; this long is waited for the ones running at a stop. */
export const STEP_GRACE_MS = 30_000;

/** Events kept of a request before the command follows it (its first steps). */
const EARLY_EVENTS = 200;
/** Requests whose first events are kept: the command's own comes first; a bulk run follows none. */
const EARLY_REQUESTS = 32;

export interface OwnerBackend extends Backend {
  readonly kind: 'owner';
  readonly owner: DataDirOwner;
}

export async function ownerBackend(o: { dataDir: string; waitScale?: number }): Promise<OwnerBackend> {
  const owner = await startOwner({ dataDir: o.dataDir, waitScale: o.waitScale, port: 0 });
  const signals = stopSignals();
  const client = new DsrClient(inProcessTransport(owner.handle));
  let stopping: Promise<unknown> | undefined;
  // A request's first steps run before the command knows its id: keep them until it follows one.
  const early = new Map<string, WorkflowEvent[]>();
  let stopKeeping: (() => void) | undefined = owner.workflows.observeAll((requestId, e) => {
    if (!early.has(requestId) && early.size >= EARLY_REQUESTS) return;
    const kept = early.get(requestId) ?? [];
    if (kept.length < EARLY_EVENTS) kept.push(e);
    early.set(requestId, kept);
  });

  /** The stop of README "Stopping and crash recovery", once, whoever asks first. */
  const stop = () => {
    stopping ??= stopOwnerWorkflows(owner, signals);
    return stopping;
  };

  const forgetEarly = () => {
    stopKeeping?.();
    stopKeeping = undefined;
    early.clear();
  };

  return {
    kind: 'owner',
    owner,
    client,
    sameTarget: '',
    describe: () => owner.runtime.describe(),

    preflight: () => preflight(owner.runtime),

    async follow(requestId: string, progress: Progress): Promise<FollowResult> {
      for (const e of early.get(requestId) ?? []) progress.workflowEvent(e);
      forgetEarly();
      const unobserve = owner.workflows.observe(requestId, (e) => progress.workflowEvent(e));
      try {
        let output: unknown;
        // A retry replaces one run by the next: follow whichever runs, until none does.
        while (await owner.workflows.isRunning(requestId)) {
          const ended = await Promise.race([
            owner.workflows.settled(requestId),
            signals.first.then(() => 'signal' as const),
          ]);
          if (ended === 'signal') {
            await stop();
            break;
          }
          if (ended?.status === 'SUCCEEDED') output = ended.output;
        }
        const doc = await client.getRequest(requestId);
        const ended = isTerminalStatus(doc.status);
        return { doc, interrupted: !ended, ...(ended && doc.status === 'COMPLETED' ? { output } : {}) };
      } finally {
        unobserve();
      }
    },

    async followAll(requestIds, onEnded) {
      forgetEarly();
      const all = Promise.all(
        requestIds.map(async (requestId) => {
          while (await owner.workflows.isRunning(requestId)) await owner.workflows.settled(requestId);
          if (stopping) return;
          const { status } = await client.getRequest(requestId);
          if (isTerminalStatus(status)) onEnded(requestId, status);
        }),
      );
      // After a stop, what is left of the waits must fail quietly (the store closes).
      all.catch(() => undefined);
      const ended = await Promise.race([all, signals.first.then(() => 'signal' as const)]);
      if (ended !== 'signal') return { interrupted: false };
      await stop();
      return { interrupted: true };
    },

    stoppedBy: () => (stopping ? signals.received() : undefined),

    async close() {
      try {
        if (!stopping) await waitForHandedOverWork(owner, signals, stop);
        else await stopping;
      } finally {
        stopKeeping?.();
        signals.dispose();
        await owner.close();
      }
    },
  };
}

/**
 * A token and `whoami` before anything is recorded, so wrong credentials or an unreachable
 * Qualtrics end with exit 3 naming the setting, not with a FAILED request.
 */
export async function preflight(runtime: Pick<Runtime, 'target'>): Promise<void> {
  try {
    const { api } = await workflowDeps().qualtrics();
    await api.whoami();
  } catch (err) {
    const mapped = connectionError(err, runtime.target);
    if (mapped instanceof CliError) throw mapped;
    // A transient fault or a limiter wait is not a configuration problem: the workflow retries those.
    if (err instanceof QualtricsError && err.retryable) return;
    if (err instanceof Error && err.name === ErrorNames.Throttled) return;
    throw mapped;
  }
}

/**
 * Stops an owner's workflows as README "Stopping and crash recovery" says, telling the user what it
 * waits for and which requests stay unfinished; the ids of those.
 */
export async function stopOwnerWorkflows(owner: DataDirOwner, signals: StopSignals): Promise<string[]> {
  const running = owner.workflows.running();
  if (running.length > 0) {
    process.stderr.write(
      `stopping: waiting up to ${SHUTDOWN_GRACE_MS / 1000}s for ${running.length} running request(s) (Ctrl-C again to stop now)\n`,
    );
  }
  const { interrupted } = await owner.stop({
    graceMs: SHUTDOWN_GRACE_MS,
    stepGraceMs: STEP_GRACE_MS,
    hurry: signals.second,
  });
  for (const id of interrupted) {
    process.stderr.write(
      `interrupted: request ${id} did not finish; it resumes when the data dir is next served, or with: qualtrics-dsr retry ${id}\n`,
    );
  }
  return interrupted;
}

/**
 * Requests other commands handed to this process while it ran its own: it keeps running them to
 * their end (a new one may arrive meanwhile), unless it is stopped.
 */
async function waitForHandedOverWork(
  owner: DataDirOwner,
  signals: StopSignals,
  stop: () => Promise<unknown>,
): Promise<void> {
  let told = false;
  for (;;) {
    const running = owner.workflows.running();
    if (running.length === 0) return;
    if (!told) {
      told = true;
      process.stderr.write(
        `waiting for ${running.length} other request(s) running in this process (handed over by other commands, or resumed; Ctrl-C to stop them, they stay resumable)\n`,
      );
    }
    const settled = Promise.allSettled(running.map((id) => owner.workflows.settled(id)));
    if ((await Promise.race([settled, signals.first.then(() => 'signal' as const)])) === 'signal') {
      await stop();
      return;
    }
  }
}
