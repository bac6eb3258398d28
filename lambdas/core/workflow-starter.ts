import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConfigError } from './errors';
import { executionName } from './execution-names';
import type { RequestType } from './request-contract';

export { executionName };

/**
 * Starts the workflow of a request: a Step Functions execution in AWS, the embedded engine
 * locally (`serve` injects its own with `setWorkflowStarter`). The execution's input is
 * `{"requestId"}` only — handlers load everything else, the email included, from the record.
 */
export interface WorkflowStarter {
  /**
   * Starts the workflow under the deterministic name `<requestId>-<attempt>` (attempt 1 unless
   * given). Starting a name that already exists is not an error: the request is already started.
   */
  start(type: RequestType, requestId: string, attempt?: number): Promise<{ executionName: string }>;
  /**
   * Resumes a FAILED request from its failed step, after `executionName` (default attempt 1), by
   * running the workflow again under the next attempt's name; completed steps are reused.
   * Resolves to the execution that now runs the request.
   */
  redrive(requestId: string, type: RequestType, executionName?: string): Promise<{ executionName: string }>;
  /**
   * Whether an execution of the request runs now, for a starter that knows (the local one: every
   * workflow of a data dir runs in the process that owns it). Step Functions' starter does not
   * say; there the sweep asks DescribeExecution.
   */
  isRunning?(requestId: string): Promise<boolean>;
}

export const STATE_MACHINE_ENV = {
  access: 'QDSR_ACCESS_STATE_MACHINE_ARN',
  deletion: 'QDSR_DELETION_STATE_MACHINE_ARN',
} as const satisfies Record<RequestType, string>;

/** `arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>` (the ARN Step Functions assigns). */
export function executionArn(stateMachineArn: string, name: string): string {
  const marker = ':stateMachine:';
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) throw new ConfigError('QDSR_*_STATE_MACHINE_ARN', 'a state machine ARN has an unexpected form');
  return `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:${name}`;
}

/** Step Functions could not start or resume the workflow; the request's record tells what was done. */
export class WorkflowStartError extends Error {
  readonly code = 'WORKFLOW_START_FAILED';
  constructor(operation: string, cause: unknown) {
    const name = (cause as { name?: string })?.name ?? 'Error';
    // SDK messages may quote ARNs and names; keep only the error name.
    super(`Step Functions ${operation} failed: ${name}`, { cause });
    this.name = 'WorkflowStartError';
  }
}

export interface StepFunctionsStarterOptions {
  client: Pick<SFNClient, 'send'>;
  stateMachineArns: Record<RequestType, string>;
}

export class StepFunctionsStarter implements WorkflowStarter {
  constructor(private readonly opts: StepFunctionsStarterOptions) {}

  async start(type: RequestType, requestId: string, attempt = 1): Promise<{ executionName: string }> {
    const name = executionName(requestId, attempt);
    const stateMachineArn = this.stateMachineArn(type);
    try {
      await this.opts.client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name,
          input: JSON.stringify({ requestId }),
        }),
      );
    } catch (e) {
      // Same name and input while running → success; a closed one → ExecutionAlreadyExists. Either
      // way this request's execution exists, which is what a repeated start wants.
      if ((e as { name?: string })?.name !== 'ExecutionAlreadyExists')
        throw new WorkflowStartError('StartExecution', e);
    }
    return { executionName: name };
  }

  async redrive(requestId: string, type: RequestType, name?: string): Promise<{ executionName: string }> {
    // Not RedriveExecution: every failure in our ASL is caught and routed through "Record request
    // failed" into a Fail state, so a redrive would only re-run that Fail state. A new execution
    // under the next name resumes at the failed step instead: each step reads the request record
    // and reuses what is done (the Qualtrics job and erasure ids, the files already in S3).
    return this.start(type, requestId, nextAttempt(requestId, name ?? executionName(requestId, 1)));
  }

  /** The state machine of `type` (ConfigError when its variable is not set). */
  stateMachineArn(type: RequestType): string {
    const arn = this.opts.stateMachineArns[type];
    if (!arn) throw new ConfigError(STATE_MACHINE_ENV[type], `${STATE_MACHINE_ENV[type]} is not set`);
    return arn;
  }
}

function nextAttempt(requestId: string, name: string): number {
  const suffix = name.startsWith(`${requestId}-`) ? Number(name.slice(requestId.length + 1)) : Number.NaN;
  return Number.isSafeInteger(suffix) && suffix >= 1 ? suffix + 1 : 2;
}

/** The state machines' ARNs from the environment (empty when unset: checked when one is needed). */
export function stateMachineArnsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<RequestType, string> {
  return {
    access: env[STATE_MACHINE_ENV.access]?.trim() ?? '',
    deletion: env[STATE_MACHINE_ENV.deletion]?.trim() ?? '',
  };
}

/** The AWS starter with the ARNs from the environment (checked when a start needs one). */
export function stepFunctionsStarterFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  client: Pick<SFNClient, 'send'> = new SFNClient({}),
): StepFunctionsStarter {
  return new StepFunctionsStarter({ client, stateMachineArns: stateMachineArnsFromEnv(env) });
}

let current: WorkflowStarter | undefined;

/** The process's starter: the injected one, else Step Functions from the environment (created once). */
export function workflowStarter(): WorkflowStarter {
  current ??= stepFunctionsStarterFromEnv();
  return current;
}

/** Injects the starter (the local runtime, tests); `undefined` goes back to the default. */
export function setWorkflowStarter(starter: WorkflowStarter | undefined): void {
  current = starter;
}
