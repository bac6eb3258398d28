import './polyfills';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { HandlerName } from '../../lambdas/catalog';
import { HANDLERS } from '../../lambdas/catalog';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import {
  type AslDefinition,
  loadLocalDefinition,
  taskHandlerNames,
  type WorkflowType,
  walkStates,
} from './definitions';

/**
 * The embedded engine: runs `statemachines/<type>.asl.json` with aws-local-stepfunctions, every Task
 * state mapped to the same handler module that AWS runs, called in-process with a Lambda-like
 * context and a JSON round trip (as the Lambda boundary does).
 */

export type StepHandler = (event: unknown, context: unknown) => Promise<unknown>;
export type StepHandlers = Partial<Record<HandlerName, StepHandler>>;

export interface WorkflowEvent {
  at: number;
  type: string;
  state?: string;
  stateType?: string;
  /** The state's input for StateEntered events, the execution's for ExecutionStarted (ids, counts and cursors only — see BRIEF §7). */
  input?: unknown;
  /** The state's output for StateExited events, the execution's for ExecutionSucceeded. */
  output?: unknown;
  error?: { Error: string; Cause?: unknown };
  attempt?: number;
}

export interface RunWorkflowOptions {
  type: WorkflowType;
  requestId: string;
  /** Multiplies Retry intervals (Wait states are timestamps the handlers already scaled). Default 1. */
  waitScale?: number;
  onEvent?: (event: WorkflowEvent) => void;
  /** Handler registry; defaults to lambdas/handlers. */
  handlers?: StepHandlers;
}

export interface WorkflowRun {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { Error: string; Cause?: unknown };
  /** Every event of the execution, in order (the local equivalent of the execution history). */
  events: WorkflowEvent[];
}

interface Prepared {
  definition: AslDefinition;
  machine: StateMachine;
  taskNames: Map<string, HandlerName>;
}

// Constructing a StateMachine validates the definition (~0.5 s): do it once per workflow type.
const prepared = new Map<WorkflowType, Prepared>();

function prepare(type: WorkflowType): Prepared {
  let p = prepared.get(type);
  if (!p) {
    const definition = loadLocalDefinition(type);
    // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than our JSON
    const machine = new StateMachine(definition as any, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    p = { definition, machine, taskNames: taskHandlerNames(definition) };
    prepared.set(type, p);
  }
  return p;
}

function lambdaContext(name: HandlerName): Record<string, unknown> {
  const spec = HANDLERS[name];
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    awsRequestId: randomUUID(),
    functionName: `qdsr-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `local:${name}`,
    memoryLimitInMB: String(spec.memoryMb),
    logGroupName: `/aws/lambda/qdsr-local-${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Retry intervals scaled by waitScale (the engine's overrides are fixed per retrier, in ms). */
function retryOverrides(def: AslDefinition, waitScale: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  walkStates(def, (name, state) => {
    if (!Array.isArray(state.Retry)) return;
    out[name] = state.Retry.map((r: { IntervalSeconds?: number }) =>
      Math.max(0, Math.round((r.IntervalSeconds ?? 1) * 1000 * waitScale)),
    );
  });
  return out;
}

export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const { type, requestId, waitScale = 1 } = options;
  const p = prepare(type);
  const registry: StepHandlers = options.handlers ?? (STEP_HANDLERS as StepHandlers);
  const local: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, name] of p.taskNames) {
    const fn = registry[name];
    if (!fn) throw new Error(`no handler registered for ${name} (state "${stateName}")`);
    local[stateName] = async (input) => {
      // The Lambda boundary is JSON: nothing but plain data crosses it.
      const event = JSON.parse(JSON.stringify(input));
      const result = await fn(event, lambdaContext(name));
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    };
  }
  const events: WorkflowEvent[] = [];
  const execution = p.machine.run(
    { requestId },
    {
      overrides: {
        // biome-ignore lint/suspicious/noExplicitAny: the engine's handler type expects JSON values
        taskResourceLocalHandlers: local as any,
        retryIntervalOverrides: retryOverrides(p.definition, waitScale),
      },
      noThrowOnAbort: true,
    },
  );
  const drained = (async () => {
    for await (const log of execution.eventLogs) {
      const e = toWorkflowEvent(log as unknown as Record<string, unknown>);
      events.push(e);
      options.onEvent?.(e);
    }
  })();
  let output: unknown;
  let thrown: { name?: string; message?: string; cause?: { name?: string; message?: string } } | undefined;
  try {
    output = await execution.result;
  } catch (err) {
    thrown = err as typeof thrown;
  }
  // The event log ends with the execution's own outcome; read it once it is drained.
  await drained.catch(() => undefined);
  let error: WorkflowRun['error'];
  if (thrown) {
    const failed = [...events].reverse().find((x) => x.type === 'ExecutionFailed');
    error = failed?.error ?? {
      Error: thrown.cause?.name ?? thrown.name ?? 'Error',
      Cause: thrown.cause?.message ?? thrown.message,
    };
  }
  return error ? { status: 'FAILED', error, events } : { status: 'SUCCEEDED', output, events };
}

function toWorkflowEvent(log: Record<string, unknown>): WorkflowEvent {
  const state = log.state as { name?: string; type?: string; input?: unknown; output?: unknown } | undefined;
  const e: WorkflowEvent = { at: Number(log.timestamp ?? Date.now()), type: String(log.type) };
  if (state) {
    e.state = state.name;
    e.stateType = state.type;
    if (log.type === 'StateEntered') e.input = state.input;
    if (log.type === 'StateExited') e.output = state.output;
  }
  // The whole history is what Step Functions keeps: the execution's own input and output too.
  if (log.type === 'ExecutionStarted') e.input = log.input;
  if (log.type === 'ExecutionSucceeded') e.output = log.output;
  if (typeof log.Error === 'string') e.error = { Error: log.Error, Cause: log.Cause };
  const retry = log.retry as { attempt?: number } | undefined;
  if (retry?.attempt !== undefined) e.attempt = retry.attempt;
  return e;
}
