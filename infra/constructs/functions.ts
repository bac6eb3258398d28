import { join } from 'node:path';
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import {
  HANDLER_NAMES,
  HANDLERS,
  type HandlerName,
  type HandlerSpec,
  reservedConcurrency,
} from '../../lambdas/catalog';
import {
  DEFAULT_JURISDICTION_ENV,
  FORGET_EMAIL_ENV,
  type Jurisdiction,
  RECORD_RETENTION_ENV,
} from '../../lambdas/core/ledger';
import { METRICS_NAMESPACE } from '../../lambdas/core/metric-names';
import { STORAGE_ENV } from '../../lambdas/core/tables';
import type { DeletionDoneMode } from '../config';
import { type GrantTargets, stateMachineResources, statementsFor } from '../grants';
import { REPO_ROOT } from '../paths';

/** Environment variables the stack sets (docs/deploy.md lists them). */
export const FUNCTION_ENV = {
  ...STORAGE_ENV,
  exportKmsKey: 'QDSR_EXPORT_KMS_KEY_ID',
  secretArn: 'QUALTRICS_SECRET_ARN',
  datacenter: 'QUALTRICS_DATACENTER',
  targetUtilization: 'QDSR_TARGET_UTILIZATION',
  eventBus: 'QDSR_EVENT_BUS',
  accessStateMachine: 'QDSR_ACCESS_STATE_MACHINE_ARN',
  deletionStateMachine: 'QDSR_DELETION_STATE_MACHINE_ARN',
  deletionDone: 'QDSR_DELETION_DONE',
  recordRetentionDays: RECORD_RETENTION_ENV,
  forgetEmailAfterDays: FORGET_EMAIL_ENV,
  defaultJurisdiction: DEFAULT_JURISDICTION_ENV,
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  nodeOptions: 'NODE_OPTIONS',
} as const;

export const SERVICE_NAME = 'qualtrics-dsr';
/** CloudWatch namespace of the connector's own metrics (metric filters and EMF). */
export { METRICS_NAMESPACE };
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const FUNCTION_LOG_RETENTION = RetentionDays.THREE_MONTHS;

export interface HandlerFunctionsProps {
  /** What the roles may reach (the state machines come later: `connectWorkflows`). */
  readonly grants: Omit<GrantTargets, 'stateMachines'>;
  /** The Qualtrics secret's ARN, for the env (the grants hold its IAM resource pattern). */
  readonly secretArn: string;
  readonly datacenter?: string;
  readonly targetUtilization: number;
  readonly deletionDone: DeletionDoneMode;
  /** The ledger's settings, for every function that writes request records (docs/deploy.md). */
  readonly ledger: {
    recordRetentionDays: number;
    forgetEmailAfterDays: number;
    defaultJurisdiction: Jurisdiction;
  };
  /** Reserved concurrency of each function that calls Qualtrics; 0 → none. */
  readonly qualtricsConcurrency: number;
  /** Dead-letter queues for asynchronously invoked functions (events that could not be handled). */
  readonly deadLetterQueues?: Partial<Record<HandlerName, IQueue>>;
}

/** Logical id of an L2 construct's resource, as cdk-nag names it in finding ids. */
export function logicalIdOf(c: IConstruct): string {
  return Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
}

/** Construct id of a handler's function: `RecordStartedFunction` for `recordStarted` (ids are a contract). */
export const functionId = (name: HandlerName): string => `${name[0]?.toUpperCase()}${name.slice(1)}Function`;

/**
 * One NodejsFunction per catalog entry (`lambdas/catalog.ts`), bundled by the local esbuild, each with
 * its own role that reaches only the resources its catalog entry lists, and its own log group.
 */
export class HandlerFunctions extends Construct {
  readonly functions: Record<HandlerName, NodejsFunction>;
  readonly logGroups: Record<HandlerName, LogGroup>;
  readonly roles: Record<HandlerName, Role>;
  private readonly grants: HandlerFunctionsProps['grants'];

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    this.grants = props.grants;
    const functions = {} as Record<HandlerName, NodejsFunction>;
    const logGroups = {} as Record<HandlerName, LogGroup>;
    const roles = {} as Record<HandlerName, Role>;

    for (const name of HANDLER_NAMES) {
      const spec: HandlerSpec = HANDLERS[name];
      const fid = functionId(name);
      const logGroup = new LogGroup(this, `${fid}Logs`, {
        retention: FUNCTION_LOG_RETENTION,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // Our own role: no AWS-managed policy, logs only to this function's log group.
      const role = new Role(this, `${fid}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `qualtrics-dsr ${name}: ${spec.resources.join(', ') || 'logs only'}`,
      });
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'WriteOwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      for (const statement of statementsFor(this, spec.resources, props.grants)) {
        role.addToPrincipalPolicy(statement);
      }

      const fn = new NodejsFunction(this, fid, {
        description: `qualtrics-dsr ${name} (lambdas/handlers/${spec.file}.ts)`,
        entry: join(REPO_ROOT, 'lambdas', 'handlers', `${spec.file}.ts`),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: LAMBDA_RUNTIME,
        architecture: Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        tracing: Tracing.ACTIVE,
        role,
        logGroup,
        loggingFormat: LoggingFormat.JSON,
        applicationLogLevelV2: ApplicationLogLevel.INFO,
        systemLogLevelV2: SystemLogLevel.INFO,
        // None by default: the limiter meters the rate. A reservation (`qualtricsConcurrency`) caps
        // the calls in flight per function; invocations beyond it get Lambda.TooManyRequestsException,
        // which every Task state retries for long enough (docs/deploy.md, "Lambda concurrency").
        reservedConcurrentExecutions: reservedConcurrency(spec, props.qualtricsConcurrency),
        deadLetterQueue: props.deadLetterQueues?.[name],
        environment: this.environmentFor(spec, props),
        bundling: {
          forceDockerBundling: false,
          format: OutputFormat.CJS,
          target: 'node24',
          minify: true,
          sourceMap: true,
          // Ship the SDK versions the tests ran against, not whichever the runtime carries.
          bundleAwsSDK: true,
          mainFields: ['module', 'main'],
          logLevel: LogLevel.WARNING,
        },
      });
      functions[name] = fn;
      logGroups[name] = logGroup;
      roles[name] = role;

      // X-Ray accepts trace segments only on `*` (no resource-level permissions).
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (tracing) support no resource-level scoping.',
      });
      const bucket = `<${logicalIdOf(props.grants.exportsBucket)}.Arn>`;
      if (spec.resources.includes('exportsBucket:write') || spec.resources.includes('exportsBucket:read')) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${bucket}/exports/*]`,
          reason:
            'Object-level access is limited to the exports/ prefix: bundle keys contain request ids unknown at deploy time.',
        });
      }
      if (spec.resources.includes('evidence:write') || spec.resources.includes('evidence:read')) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${bucket}/evidence/*]`,
          reason: 'Evidence objects are evidence/<requestId>.json: the request id is unknown at deploy time.',
        });
      }
    }
    this.functions = functions;
    this.logGroups = logGroups;
    this.roles = roles;
  }

  /** Grants and env of the functions that start or resume workflows (the machines need the step functions first). */
  connectWorkflows(machines: { access: StateMachine; deletion: StateMachine }): void {
    const stateMachines = [machines.access, machines.deletion];
    for (const name of HANDLER_NAMES) {
      const spec: HandlerSpec = HANDLERS[name];
      const resources = stateMachineResources(spec.resources);
      if (resources.length === 0) continue;
      for (const statement of statementsFor(this, resources, { ...this.grants, stateMachines })) {
        this.roles[name].addToPrincipalPolicy(statement);
      }
      if (resources.includes('stateMachines:describeExecutions')) {
        for (const machine of stateMachines) {
          Validations.of(this.roles[name]).acknowledge({
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(machine)}.Name>:*]`,
            reason:
              "DescribeExecution of this state machine's executions only: their names (<requestId>-<attempt>) are unknown at deploy time.",
          });
        }
      }
      this.functions[name].addEnvironment(FUNCTION_ENV.accessStateMachine, machines.access.stateMachineArn);
      this.functions[name].addEnvironment(
        FUNCTION_ENV.deletionStateMachine,
        machines.deletion.stateMachineArn,
      );
    }
  }

  private environmentFor(spec: HandlerSpec, props: HandlerFunctionsProps): Record<string, string> {
    const uses = (r: string) => spec.resources.some((x) => x === r || x.startsWith(`${r}:`));
    const env: Record<string, string> = {
      [FUNCTION_ENV.serviceName]: SERVICE_NAME,
      [FUNCTION_ENV.logLevel]: 'INFO',
      [FUNCTION_ENV.metricsNamespace]: METRICS_NAMESPACE,
      // The bundles ship their source maps: a stack trace in the logs names our .ts files and lines.
      [FUNCTION_ENV.nodeOptions]: '--enable-source-maps',
      // A product-wide mode: every function sees the same value, never a silent default.
      [FUNCTION_ENV.deletionDone]: props.deletionDone,
    };
    if (uses('requestsTable')) env[FUNCTION_ENV.requestsTable] = props.grants.requestsTable.tableName;
    if (spec.resources.includes('requestsTable:write')) {
      // Every writer computes expiries and defaults the same way.
      env[FUNCTION_ENV.recordRetentionDays] = String(props.ledger.recordRetentionDays);
      env[FUNCTION_ENV.forgetEmailAfterDays] = String(props.ledger.forgetEmailAfterDays);
      env[FUNCTION_ENV.defaultJurisdiction] = props.ledger.defaultJurisdiction;
    }
    if (uses('limiterTable')) {
      env[FUNCTION_ENV.limiterTable] = props.grants.limiterTable.tableName;
      env[FUNCTION_ENV.targetUtilization] = String(props.targetUtilization);
    }
    if (uses('exportsBucket') || uses('evidence')) {
      env[FUNCTION_ENV.exportBucket] = props.grants.exportsBucket.bucketName;
      env[FUNCTION_ENV.exportKmsKey] = props.grants.dataKey.keyArn;
    }
    if (uses('qualtricsSecret')) {
      env[FUNCTION_ENV.secretArn] = props.secretArn;
      if (props.datacenter) env[FUNCTION_ENV.datacenter] = props.datacenter;
    }
    if (uses('events')) env[FUNCTION_ENV.eventBus] = props.grants.eventBus.eventBusName;
    return env;
  }
}
