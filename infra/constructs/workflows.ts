import { Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HandlerName } from '../../lambdas/catalog';
import {
  readAsl,
  substitutionIndex,
  substitutionKeys,
  type WorkflowType,
} from '../../statemachines/definitions';

export interface WorkflowsProps {
  /** The step functions, by catalog name; each ASL `${…}` substitution resolves to one of them. */
  readonly functions: Record<HandlerName, IFunction>;
}

export const STATE_MACHINE_IDS = {
  access: 'AccessStateMachine',
  deletion: 'DeletionStateMachine',
} as const satisfies Record<WorkflowType, string>;

/**
 * The ASL file with its substitutions: key → the catalog function it names. An unknown key fails
 * the synth (it would otherwise deploy a literal `${…}` as a Task resource).
 */
export function workflowSubstitutions(type: WorkflowType): {
  asl: string;
  handlers: Map<string, HandlerName>;
} {
  const asl = readAsl(type);
  const index = substitutionIndex();
  const handlers = new Map<string, HandlerName>();
  for (const key of substitutionKeys(asl)) {
    const name = index.get(key);
    if (!name)
      throw new Error(`statemachines/${type}.asl.json uses \${${key}}, which no catalog handler provides`);
    handlers.set(key, name);
  }
  return { asl, handlers };
}

/**
 * The access and deletion workflows: Standard state machines running `statemachines/*.asl.json` — the
 * very files the local engine runs — with each Lambda ARN substituted, logged without execution
 * data (state input/output never reaches CloudWatch), traced, and allowed to invoke only their own
 * functions. The timeout is the ASL's own `TimeoutSeconds` (35 days: the longest Qualtrics job we
 * wait for is 30 days).
 */
export class Workflows extends Construct {
  readonly access: StateMachine;
  readonly deletion: StateMachine;
  readonly logGroups: Record<WorkflowType, LogGroup>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const access = this.machine('access', props);
    const deletion = this.machine('deletion', props);
    this.access = access.machine;
    this.deletion = deletion.machine;
    this.logGroups = { access: access.logs, deletion: deletion.logs };
  }

  private machine(type: WorkflowType, props: WorkflowsProps): { machine: StateMachine; logs: LogGroup } {
    const stack = Stack.of(this);
    const { asl, handlers } = workflowSubstitutions(type);
    const id = STATE_MACHINE_IDS[type];
    const logs = new LogGroup(this, `${id}Logs`, {
      // The vendedlogs prefix keeps CloudWatch's log resource policy small (Step Functions guidance).
      // The stack's GUID makes the name unique per deployment: a retained group never blocks a redeploy.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-${type}-${Fn.select(2, Fn.split('/', stack.stackId))}`,
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const substitutions: Record<string, string> = {};
    const invoked: IFunction[] = [];
    for (const [key, name] of handlers) {
      substitutions[key] = props.functions[name].functionArn;
      invoked.push(props.functions[name]);
    }
    const machine = new StateMachine(this, id, {
      stateMachineName: `${stack.stackName}-${type}`,
      stateMachineType: StateMachineType.STANDARD,
      // Whitespace only: the definition is the file's JSON, byte for byte in meaning.
      definitionBody: DefinitionBody.fromString(JSON.stringify(JSON.parse(asl))),
      definitionSubstitutions: substitutions,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Unqualified ARNs, exactly as the definition names them: no `:*` version wildcard.
    machine.addToRolePolicy(
      new PolicyStatement({
        sid: 'InvokeOwnSteps',
        actions: ['lambda:InvokeFunction'],
        resources: invoked.map((f) => f.functionArn),
      }),
    );
    Validations.of(machine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:*LogDelivery, logs:PutResourcePolicy, logs:Describe*) and X-Ray ' +
        '(xray:PutTraceSegments and friends) support no resource-level permissions.',
    });
    return { machine, logs };
  }
}
