import { isTerminalStatus, type RequestType } from '../../lambdas/core/request-store';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { executionName, type WorkflowStarter } from '../../lambdas/core/workflow-starter';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { type RunWorkflowOptions, runWorkflow, type WorkflowRun } from '../engine/workflows';

/**
 * The local `WorkflowStarter` of `serve`: each start runs the request's state machine in the
 * background, in this process, with the embedded engine (the same ASL and handlers as AWS).
 *
 * Locally an execution lives only as long as the process. So a workflow that ends without
 * recording an outcome, and one still running when the server stops, is marked FAILED with a
 * reason: the request is never left RUNNING forever, and `retry` resumes it (its steps reuse the
 * Qualtrics jobs already recorded, so nothing is created twice).
 */

export interface BackgroundWorkflows extends WorkflowStarter {
  /** Request ids whose workflow is running now. */
  running(): string[];
  /** Resolves when the request's current run ends (undefined when none runs). */
  settled(requestId: string): Promise<WorkflowRun | undefined>;
  /**
   * Waits up to `graceMs` for the running workflows, then marks the rest FAILED (INTERRUPTED).
   * No new start is accepted afterwards. Resolves to the interrupted request ids.
   */
  shutdown(graceMs: number): Promise<{ interrupted: string[] }>;
}

export interface BackgroundWorkflowsOptions {
  /** Multiplies Retry backoff (the runtime's wait scale). */
  waitScale: number;
  /** The engine; tests may wrap it. */
  run?: (options: RunWorkflowOptions) => Promise<WorkflowRun>;
}

interface Execution {
  requestId: string;
  done: Promise<WorkflowRun | undefined>;
}

export const INTERRUPTED_CODE = 'INTERRUPTED';

export function createBackgroundWorkflows(options: BackgroundWorkflowsOptions): BackgroundWorkflows {
  const run = options.run ?? runWorkflow;
  const executions = new Map<string, Execution>(); // by execution name: a repeated start is a no-op
  const current = new Map<string, Execution>(); // by request id, while running
  let stopping = false;

  const store = () => workflowDeps().store;

  /** A run that ended without recording an outcome (the engine itself failed): FAILED, with why. */
  async function ensureTerminal(requestId: string, outcome: WorkflowRun | undefined, problem?: string) {
    const record = await store().get(requestId);
    if (!record || isTerminalStatus(record.status)) return;
    const reason = problem ?? outcome?.error?.Error ?? 'the workflow ended without recording an outcome';
    await store().fail(requestId, {
      code: 'WORKFLOW_ENDED',
      message: `the local workflow ended without a result (${reason}); retry the request`,
    });
  }

  function launch(type: RequestType, requestId: string, name: string): Execution {
    const done = (async () => {
      let outcome: WorkflowRun | undefined;
      let problem: string | undefined;
      try {
        // The registry is passed explicitly (the engine's own lazy require is invisible to bundlers and vitest).
        outcome = await run({ type, requestId, waitScale: options.waitScale, handlers: STEP_HANDLERS });
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
    executions.set(name, execution);
    current.set(requestId, execution);
    return execution;
  }

  function startNamed(type: RequestType, requestId: string, name: string): { executionName: string } {
    if (stopping) throw new Error('the local server is stopping');
    if (!executions.has(name)) launch(type, requestId, name);
    return { executionName: name };
  }

  return {
    async start(type, requestId, attempt = 1) {
      return startNamed(type, requestId, executionName(requestId, attempt));
    },

    async redrive(requestId, type, name) {
      // The embedded engine cannot resume an execution mid-way: run the workflow again under the
      // next name. Its steps find the record's Qualtrics ids and pick up from there.
      const last = name?.startsWith(`${requestId}-`) ? Number(name.slice(requestId.length + 1)) : 0;
      let attempt = Number.isSafeInteger(last) && last > 0 ? last + 1 : 1;
      while (executions.has(executionName(requestId, attempt))) attempt++;
      const running = current.get(requestId);
      if (running) await running.done; // never two runs of one request at once
      return startNamed(type, requestId, executionName(requestId, attempt));
    },

    running: () => [...current.keys()],

    async settled(requestId) {
      return current.get(requestId)?.done;
    },

    async shutdown(graceMs) {
      stopping = true;
      const pending = [...current.values()];
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, graceMs));
      });
      await Promise.race([Promise.allSettled(pending.map((e) => e.done)), grace]);
      clearTimeout(timer);
      const interrupted = [...current.keys()];
      for (const requestId of interrupted) {
        await store()
          .fail(requestId, {
            code: INTERRUPTED_CODE,
            message: 'the local server stopped before the request finished; retry it to resume',
          })
          .catch(() => undefined);
      }
      return { interrupted };
    },
  };
}
