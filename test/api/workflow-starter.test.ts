import {
  ExecutionAlreadyExists,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors';
import {
  executionArn,
  StepFunctionsStarter,
  setWorkflowStarter,
  stepFunctionsStarterFromEnv,
  WorkflowStartError,
  type WorkflowStarter,
  workflowStarter,
} from '../../lambdas/core/workflow-starter';

/** The Step Functions starter: there is no local Step Functions API, so the SDK is mocked here. */

const ACCESS_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:qdsr-access';
const DELETION_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:qdsr-deletion';
const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

const sfn = mockClient(SFNClient);
afterEach(() => {
  sfn.reset();
  setWorkflowStarter(undefined);
});

function starter(arns = { access: ACCESS_ARN, deletion: DELETION_ARN }) {
  return new StepFunctionsStarter({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArns: arns });
}

const meta = { $metadata: {} };

describe('StepFunctionsStarter', () => {
  it('starts the type’s state machine under <requestId>-<attempt> with only the request id as input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    expect(await starter().start('deletion', ID)).toEqual({ executionName: `${ID}-1` });
    expect(await starter().start('access', ID, 3)).toEqual({ executionName: `${ID}-3` });
    const calls = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { stateMachineArn: DELETION_ARN, name: `${ID}-1`, input: JSON.stringify({ requestId: ID }) },
      { stateMachineArn: ACCESS_ARN, name: `${ID}-3`, input: JSON.stringify({ requestId: ID }) },
    ]);
  });

  it('treats an existing execution of the same name as started', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: `Execution ${ID}-1 exists`, ...meta }));
    expect(await starter().start('access', ID)).toEqual({ executionName: `${ID}-1` });
  });

  it('wraps other failures without the SDK message (it quotes ARNs)', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(
        new StateMachineDoesNotExist({ message: `State Machine ${ACCESS_ARN} does not exist`, ...meta }),
      );
    const err = await starter()
      .start('access', ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowStartError);
    expect((err as WorkflowStartError).code).toBe('WORKFLOW_START_FAILED');
    expect((err as Error).message).toBe('Step Functions StartExecution failed: StateMachineDoesNotExist');
  });

  it('names the missing setting when a state machine ARN is not configured', async () => {
    const err = await starter({ access: '', deletion: DELETION_ARN })
      .start('access', ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe('QDSR_ACCESS_STATE_MACHINE_ARN');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('resumes a failed request under the next attempt, never by RedriveExecution (it would re-run the Fail state)', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    expect(await starter().redrive(ID, 'deletion', `${ID}-2`)).toEqual({ executionName: `${ID}-3` });
    expect(await starter().redrive(ID, 'access')).toEqual({ executionName: `${ID}-2` });
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: DELETION_ARN, name: `${ID}-3`, input: JSON.stringify({ requestId: ID }) },
      expect.objectContaining({ name: `${ID}-2`, input: JSON.stringify({ requestId: ID }) }),
    ]);
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('reports a failed resume', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(starter().redrive(ID, 'access')).rejects.toThrow(
      'Step Functions StartExecution failed: ThrottlingException',
    );
  });
});

describe('executionArn', () => {
  it('derives the execution ARN in any partition', () => {
    expect(executionArn('arn:aws-cn:states:cn-north-1:1:stateMachine:m', 'n')).toBe(
      'arn:aws-cn:states:cn-north-1:1:execution:m:n',
    );
    expect(() => executionArn('arn:aws:lambda:us-east-1:1:function:f', 'n')).toThrow(ConfigError);
  });
});

describe('the process starter', () => {
  it('is Step Functions from the environment unless one was injected', async () => {
    const saved = process.env.QDSR_ACCESS_STATE_MACHINE_ARN;
    process.env.QDSR_ACCESS_STATE_MACHINE_ARN = ACCESS_ARN;
    try {
      expect(stepFunctionsStarterFromEnv()).toBeInstanceOf(StepFunctionsStarter);
      expect(workflowStarter()).toBeInstanceOf(StepFunctionsStarter);
      const local: WorkflowStarter = {
        start: async () => ({ executionName: 'local' }),
        redrive: async () => ({ executionName: 'local' }),
      };
      setWorkflowStarter(local);
      expect(workflowStarter()).toBe(local);
      setWorkflowStarter(undefined);
      expect(workflowStarter()).not.toBe(local);
    } finally {
      if (saved === undefined) delete process.env.QDSR_ACCESS_STATE_MACHINE_ARN;
      else process.env.QDSR_ACCESS_STATE_MACHINE_ARN = saved;
    }
  });
});
