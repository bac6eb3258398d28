import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { isTerminalStatus, RecordUnreadableError, type RequestType } from '../../lambdas/core/request-store';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { executionName, type WorkflowStarter } from '../../lambdas/core/workflow-starter';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import {
  type RunWorkflowOptions,
  runWorkflow,
  type WorkflowEvent,
  type WorkflowRun,
} from '../engine/workflows';

/**
 * The local `WorkflowStarter` of the process that owns a data dir (`serve`, or a CLI run): each
 * start runs the request's state machine in the background, in this process, with the embedded
 * engine (the same ASL and handlers as AWS).
 *
 * Locally an execution lives only as long as the process. A workflow that ends without recording
 * an outcome (the engine itself failed) is marked FAILED with a reason. One still running when the
 * process stops is stopped at its next state and left as it is, not COMPLETED or FAILED: an
 * interrupted request, which the next owner of the data dir resumes (`serve` at start, `retry`);
 * its steps reuse the Qualtrics jobs already recorded, so nothing is created twice.
 *
 * Nothing of an execution is kept once it has ended but its name (a repeated start of the same
 * name is a no-op, as in Step Functions): a server that runs thousands of requests holds only
 * those that run.
 */

export interface BackgroundWorkflows extends WorkflowStarter {
  /** Request ids whose workflow is running now. */
  running(): string[];
  isRunning(requestId: string): Promise<boolean>;
  /** Resolves when the request's current run ends (undefined when none runs). */
  settled(requestId: string): Promise<WorkflowRun | undefined>;
  /** Calls `listener` with each event of the request's runs until the returned function is called. */
  observe(requestId: string, listener: (event: WorkflowEvent) => void): () => void;
  /** The same for the runs of every request. */
  observeAll(listener: (requestId: string, event: WorkflowEvent) => void): () => void;
  /**
   * Stops: no new start is accepted; running workflows get `graceMs` to end on their own; the rest
   * are stopped at their next state, and their running steps get `stepGraceMs` to finish. Their
   * requests are left resumable. Resolves to the interrupted request ids.
   */
  shutdown(o: ShutdownOptions): Promise<{ interrupted: string[] }>;
}

export interface ShutdownOptions {
  graceMs: number;
  stepGraceMs: number;
  /** Resolves to end either wait at once (a second Ctrl-C). */
  hurry?: Promise<void>;
}

export interface BackgroundWorkflowsOptions {
  /** Multiplies Retry backoff (the runtime's wait scale). */
  waitScale: number;
  /** The engine; tests may wrap it. */
  run?: (options: RunWorkflowOptions) => Promise<WorkflowRun>;
  /** Executions run at once; default MAX_RUNNING_EXECUTIONS. */
  maxRunning?: number;
}

interface Execution {
  requestId: string;
  done: Promise<WorkflowRun | undefined>;
}

/** Events each running execution keeps: enough for its failure; its history is not needed here. */
const RUN_HISTORY = 0;

/**
 * Executions that run at once in the process; later ones wait their turn, in order. Steps run
 * QDSR_LOCAL_CONCURRENCY at a time whatever the number of executions, so more would not go faster:
 * a bulk submission of thousands would start them all together and advance them in lock-step (none
 * ending for minutes), each holding its state in memory all along. This many keep the step slots
 * busy through Qualtrics' jobs and the rate limiter's waits, and bound the memory (README
 * "Performance").
 */
export const MAX_RUNNING_EXECUTIONS = 256;

export function createBackgroundWorkflows(options: BackgroundWorkflowsOptions): BackgroundWorkflows {
  const run = options.run ?? runWorkflow;
  const started = new Set<string>(); // execution names: a repeated start is a no-op
  const current = new Map<string, Execution>(); // by request id, while running
  const observers = new Map<string, Set<(event: WorkflowEvent) => void>>();
  const everyRequest = new Set<(requestId: string, event: WorkflowEvent) => void>();
  const stop = new AbortController();
  // Every running execution listens on this one signal: hundreds are expected, not a leak.
  setMaxListeners(0, stop.signal);
  let stopping = false;
  const turns = new PQueue({ concurrency: options.maxRunning ?? MAX_RUNNING_EXECUTIONS });

  const store = () => workflowDeps().store;

  /** A run that ended without recording an outcome (the engine itself failed): FAILED, with why. */
  async function ensureTerminal(requestId: string, outcome: WorkflowRun | undefined, problem?: string) {
    if (outcome?.status === 'ABORTED') return; // stopped on purpose: resumable as it is
    // An unreadable record is ended by fail() with that reason.
    const record = await store()
      .get(requestId)
      .catch((err: unknown) => {
        if (err instanceof RecordUnreadableError) return undefined;
        throw err;
      });
    if (record && isTerminalStatus(record.status)) return;
    const reason = problem ?? outcome?.error?.Error ?? 'the workflow ended without recording an outcome';
    await store().fail(requestId, {
      code: 'WORKFLOW_ENDED',
      message: `the local workflow ended without a result (${reason}); retry the request`,
    });
  }

  function launch(type: RequestType, requestId: string, name: string): Execution {
    const runOnce = () =>
      run({
        type,
        requestId,
        waitScale: options.waitScale,
        // The registry is passed explicitly (the engine's own lazy require is invisible to bundlers and vitest).
        handlers: STEP_HANDLERS,
        history: RUN_HISTORY,
        signal: stop.signal,
        onEvent: (e) => {
          for (const listener of observers.get(requestId) ?? []) listener(e);
          for (const listener of everyRequest) listener(requestId, e);
        },
      });
    const done = (async () => {
      let outcome: WorkflowRun | undefined;
      let problem: string | undefined;
      try {
        // Its turn comes; a stop before then leaves the request as it was, never started.
        outcome = await turns.add(() =>
          stop.signal.aborted ? Promise.resolve<WorkflowRun>({ status: 'ABORTED', events: [] }) : runOnce(),
        );
      } catch (err) {
        // Only the error's name: an engine error's message could quote state data.
        problem = (err as Error)?.name ?? 'Error';
      }
      await ensureTerminal(requestId, outcome, problem).catch(() => undefined);
      return outcome;
    })().finally(() => {
      if (current.get(requestId) === execution) current.delete(requestId);
    });
    const execution: Execution = { requestId, done };
    started.add(name);
    current.set(requestId, execution);
    return execution;
  }

  function startNamed(type: RequestType, requestId: string, name: string): { executionName: string } {
    if (stopping) throw new Error('the local process is stopping');
    if (!started.has(name)) launch(type, requestId, name);
    return { executionName: name };
  }

  /** Resolves when `work` does, after `ms`, or when `hurry` does, whichever comes first (no timer left behind). */
  const within = async (work: Promise<unknown>, ms: number, hurry?: Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    });
    try {
      await Promise.race([work, elapsed, ...(hurry ? [hurry] : [])]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async start(type, requestId, attempt = 1) {
      return startNamed(type, requestId, executionName(requestId, attempt));
    },

    async redrive(requestId, type, name) {
      // The embedded engine cannot resume an execution mid-way: run the workflow again under the
      // next name. Its steps find the record's Qualtrics ids and pick up from there.
      const last = name?.startsWith(`${requestId}-`) ? Number(name.slice(requestId.length + 1)) : 0;
      let attempt = Number.isSafeInteger(last) && last > 0 ? last + 1 : 1;
      while (started.has(executionName(requestId, attempt))) attempt++;
      const running = current.get(requestId);
      if (running) await running.done; // never two runs of one request at once
      return startNamed(type, requestId, executionName(requestId, attempt));
    },

    running: () => [...current.keys()],

    isRunning: async (requestId) => current.has(requestId),

    async settled(requestId) {
      return current.get(requestId)?.done;
    },

    observe(requestId, listener) {
      const set = observers.get(requestId) ?? new Set();
      observers.set(requestId, set);
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && observers.get(requestId) === set) observers.delete(requestId);
      };
    },

    observeAll(listener) {
      everyRequest.add(listener);
      return () => {
        everyRequest.delete(listener);
      };
    },

    async shutdown({ graceMs, stepGraceMs, hurry }) {
      const all = () => Promise.allSettled([...current.values()].map((e) => e.done));
      // No new start from here; what runs may end on its own within the grace period.
      stopping = true;
      await within(all(), graceMs, hurry);
      const interrupted = [...current.keys()];
      // The rest stop at their next state; their running steps may finish.
      stop.abort();
      await within(all(), stepGraceMs, hurry);
      for (const requestId of interrupted) {
        await store()
          .appendTimeline(
            requestId,
            'INTERRUPTED',
            'the local process stopped before the request finished; it resumes when the data dir is next served, or with retry',
          )
          .catch(() => undefined);
      }
      return { interrupted };
    },
  };
}
