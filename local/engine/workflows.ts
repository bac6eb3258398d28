import './polyfills';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { StateMachine } from 'aws-local-stepfunctions';
import PQueue from 'p-queue';
import type { HandlerName } from '../../lambdas/catalog';
import { DEFAULT_QUALTRICS_CONCURRENCY, HANDLERS, reservedConcurrency } from '../../lambdas/catalog';
import { ConfigError } from '../../lambdas/core/errors';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { type AslDefinition, type WorkflowType, walkStates } from '../../statemachines/definitions';
import { loadLocalDefinition, taskHandlerNames } from './definitions';

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
  /**
   * The state's input for StateEntered events, the execution's for ExecutionStarted (ids, counts and
   * cursors only: README "How it is built").
   */
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
  /**
   * The deployed `qualtricsConcurrency` setting: each function that calls Qualtrics runs at most
   * this many invocations at once, over every execution of the process, and an invocation beyond it
   * fails with `Lambda.TooManyRequestsException`, which the ASL retries, as in AWS. Default the
   * deployed default, 0: no reservation. QDSR_LOCAL_CONCURRENCY still caps all steps together.
   */
  qualtricsConcurrency?: number;
  /**
   * How many of the execution's events `WorkflowRun.events` keeps: the last ones. Default all (the
   * execution history, for tests and the CLI). A long-lived process running many executions keeps
   * few, so an execution's memory is bounded while it runs and released when it ends.
   */
  history?: number;
  /**
   * Stops the execution at its next state: a step already running finishes (what it records stays,
   * as a Lambda's would), a step not yet started never starts, and the run resolves `ABORTED` once
   * its running steps have ended. The request is left as it was: resumable.
   */
  signal?: AbortSignal;
  /** The Lambda timeout of a function in ms; default its catalog `timeoutSeconds`. */
  lambdaTimeoutMs?: (name: HandlerName) => number;
}

export interface WorkflowRun {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: { Error: string; Cause?: unknown };
  /** The execution's events, in order (the local equivalent of the execution history); see `history`. */
  events: WorkflowEvent[];
}

/**
 * What Lambda reports when a function runs past its timeout (the ASL's Catch takes it like any
 * other task failure); `States.Timeout` when a Task's own `TimeoutSeconds` (from the ASL) passed.
 */
export class StepTimeoutError extends Error {
  constructor(name: HandlerName | string, seconds: number, kind: 'lambda' | 'state') {
    super(
      kind === 'lambda'
        ? `Task timed out after ${seconds.toFixed(2)} seconds (${name})`
        : `the state's TimeoutSeconds (${seconds}) passed`,
    );
    this.name = kind === 'lambda' ? 'Sandbox.Timedout' : 'States.Timeout';
  }
}

/** A step that was waiting for a slot when its execution was stopped: it never ran. */
class StepNotStartedError extends Error {
  constructor() {
    super('the execution was stopped before this step started');
    this.name = 'Local.ExecutionStopped';
  }
}

interface Prepared {
  definition: AslDefinition;
  machine: StateMachine;
  taskNames: Map<string, HandlerName>;
  /** The ASL's own Task timeouts (seconds), enforced by the step runner. */
  stateTimeouts: Map<string, number>;
}

// Constructing a StateMachine validates the definition (~0.5 s): do it once per workflow type.
const prepared = new Map<WorkflowType, Prepared>();

function prepare(type: WorkflowType): Prepared {
  let p = prepared.get(type);
  if (!p) {
    // Loaded when a workflow first runs: a command that runs none (list, status…) does without the
    // engine and the ASL validator it brings.
    const engine = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions');
    const { definition, stateTimeouts } = loadLocalDefinition(type);
    // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than our JSON
    const machine = new engine.StateMachine(definition as any, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    p = { definition, machine, taskNames: taskHandlerNames(definition), stateTimeouts };
    prepared.set(type, p);
  }
  return p;
}

function lambdaContext(name: HandlerName, timeoutMs: number): Record<string, unknown> {
  const spec = HANDLERS[name];
  const deadline = Date.now() + timeoutMs;
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

/** Step handlers running at once in this process when QDSR_LOCAL_CONCURRENCY is not set. */
export const DEFAULT_LOCAL_CONCURRENCY = 32;

/**
 * At most this many step handlers run at once, over every execution of the process: the local
 * equivalent of Lambda's concurrency (a waiting execution holds no slot; steps a Wait timed go
 * first, `timedByWait`). Without it, a batch of hundreds of requests starts hundreds of steps
 * together in one event loop, and every DynamoDB request waits seconds behind the others. The rate
 * limiter takes a slot relative to when it asked, so a write answered seconds late grants a slot
 * seconds in the past, and calls granted one interval apart leave together: a bench batch of 500
 * saw 0.96 of a Qualtrics limit in one minute. In AWS each step has a container of its own.
 */
export function localConcurrencyFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.QDSR_LOCAL_CONCURRENCY?.trim();
  if (!raw) return DEFAULT_LOCAL_CONCURRENCY;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(
      'QDSR_LOCAL_CONCURRENCY',
      'QDSR_LOCAL_CONCURRENCY must be a whole number of at least 1, e.g. 32',
    );
  }
  return value;
}

let stepQueue: PQueue | undefined;

/** Invocations of each function running now, over every execution of the process. */
const inFlight = new Map<HandlerName, number>();

/** What Lambda answers an invocation beyond a function's reserved concurrency. */
export class LambdaThrottledError extends Error {
  constructor(name: HandlerName, reserved: number) {
    super(`Rate Exceeded: ${name} already runs its ${reserved} reserved concurrent executions`);
    this.name = 'Lambda.TooManyRequestsException';
  }
}

function stepQueueFor(concurrency: number): PQueue {
  if (stepQueue?.concurrency !== concurrency) stepQueue = new PQueue({ concurrency });
  return stepQueue;
}

/**
 * Whether a Wait state timed this step: its input carries the instant it waited for (`waitUntil`)
 * or rate-limiter reservations, anywhere in the state. Such a step polls a job at the moment its
 * news is due, or returns for a slot the limiter booked for it (which lapses 2 s of a minute after
 * it begins), so it runs before steps that were merely next in line: behind a queue of a batch's
 * first steps, a poll would come seconds late and a reserved slot would lapse and be taken again.
 */
export function timedByWait(input: unknown, depth = 0): boolean {
  if (depth > 4 || input === null || typeof input !== 'object' || Array.isArray(input)) return false;
  for (const [key, value] of Object.entries(input)) {
    if (key === 'waitUntil' && typeof value === 'string' && value !== '') return true;
    if (key === 'reservations' && Array.isArray(value) && value.length > 0) return true;
    if (timedByWait(value, depth + 1)) return true;
  }
  return false;
}

/** Runs `work` but rejects with `onTimeout()` when it has not settled after `ms` (the work itself goes on). */
async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const { type, requestId, waitScale = 1, signal } = options;
  const p = prepare(type);
  const registry: StepHandlers = options.handlers ?? (STEP_HANDLERS as StepHandlers);
  const queue = stepQueueFor(localConcurrencyFromEnv());
  const qualtricsConcurrency = options.qualtricsConcurrency ?? DEFAULT_QUALTRICS_CONCURRENCY;
  const lambdaTimeoutMs = options.lambdaTimeoutMs ?? ((name) => HANDLERS[name].timeoutSeconds * 1000);
  /** Handlers of this execution running now: a stopped run ends once they have. */
  const running = new Set<Promise<unknown>>();
  const local: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [stateName, name] of p.taskNames) {
    const fn = registry[name];
    if (!fn) throw new Error(`no handler registered for ${name} (state "${stateName}")`);
    const reserved = reservedConcurrency(HANDLERS[name], qualtricsConcurrency);
    const stateTimeoutSeconds = p.stateTimeouts.get(stateName);
    local[stateName] = (input) =>
      queue.add(
        // Run in the caller's async context, not in that of the step that freed the slot.
        AsyncResource.bind(async () => {
          if (signal?.aborted) throw new StepNotStartedError();
          const inFlightNow = inFlight.get(name) ?? 0;
          if (reserved !== undefined && inFlightNow >= reserved)
            throw new LambdaThrottledError(name, reserved);
          inFlight.set(name, inFlightNow + 1);
          // The clocks start now, when the step runs, not when the engine asked for it.
          const lambdaMs = lambdaTimeoutMs(name);
          const stateMs =
            stateTimeoutSeconds === undefined ? Number.POSITIVE_INFINITY : stateTimeoutSeconds * 1000;
          const work = (async () => {
            // The Lambda boundary is JSON: nothing but plain data crosses it.
            const event = JSON.parse(JSON.stringify(input));
            const result = await fn(event, lambdaContext(name, lambdaMs));
            return result === undefined ? null : JSON.parse(JSON.stringify(result));
          })();
          const settled = work.then(
            () => undefined,
            () => undefined,
          );
          running.add(settled);
          // The handler's own promise is not abandoned when the step times out: like a Lambda past
          // its timeout it may still be finishing; only then does it give its slot back.
          void settled.finally(() => {
            running.delete(settled);
            inFlight.set(name, (inFlight.get(name) ?? 1) - 1);
          });
          return withTimeout(work, Math.min(lambdaMs, stateMs), () =>
            stateMs < lambdaMs
              ? new StepTimeoutError(stateName, stateTimeoutSeconds as number, 'state')
              : new StepTimeoutError(name, lambdaMs / 1000, 'lambda'),
          );
        }),
        { priority: timedByWait(input) ? 1 : 0 },
      );
  }
  const keep = options.history ?? Number.POSITIVE_INFINITY;
  const events: WorkflowEvent[] = [];
  let failure: WorkflowEvent | undefined;
  let aborted = false;
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
  const onAbort = () => {
    aborted = true;
    execution.abort();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const drained = (async () => {
    for await (const log of execution.eventLogs) {
      const e = toWorkflowEvent(log as unknown as Record<string, unknown>);
      if (e.type === 'ExecutionFailed') failure = e;
      if (keep > 0) {
        events.push(e);
        if (events.length > keep) events.shift();
      }
      options.onEvent?.(e);
    }
  })();
  let output: unknown;
  let thrown: { name?: string; message?: string; cause?: { name?: string; message?: string } } | undefined;
  try {
    output = await execution.result;
  } catch (err) {
    thrown = err as typeof thrown;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (aborted) {
    // The engine settles at once; the steps that were running have not. Wait for them (each is
    // bounded by its Lambda timeout), so what they record is recorded before the caller moves on.
    await Promise.all([...running]);
    return { status: 'ABORTED', events };
  }
  // The event log ends with the execution's own outcome; read it once it is drained.
  await drained.catch(() => undefined);
  let error: WorkflowRun['error'];
  if (thrown) {
    error = failure?.error ?? {
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
