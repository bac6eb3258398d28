import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTEXT_KEYS, DEFAULT_SETTINGS } from '../../infra/config';
import { CONNECTION_CHECK_FAILED_METRIC } from '../../infra/constructs/alarms';
import { API_ROUTES, DEFAULT_THROTTLING } from '../../infra/constructs/api';
import { ACCESS_LOG_RETENTION_DAYS } from '../../infra/constructs/storage';
import { SECRET_PLACEHOLDER_CLIENT_ID, SECRET_PLACEHOLDER_DATACENTER } from '../../infra/stack';
import { HANDLER_NAMES, HANDLERS, type HandlerName, type HandlerSpec } from '../../lambdas/catalog';
import { isLocalOnlyRoute, LIST_PARAMETERS, RECORDS_PARAMETERS, ROUTES } from '../../lambdas/core/api';
import { originFromEnv } from '../../lambdas/core/config';
import { ErrorNames, QualtricsError } from '../../lambdas/core/errors';
import { requestSubmission } from '../../lambdas/core/request-contract';
import { STORAGE_ENV, TABLE_PARTITION_KEY, TTL_ATTRIBUTE } from '../../lambdas/core/tables';
import {
  CONNECTION_CHECK_METRIC,
  publishConnectionCheckMetric,
} from '../../lambdas/handlers/connection-check';
import { stepLogging } from '../../lambdas/middleware';
import { readAsl } from '../../statemachines/definitions';
import { capturingStdout } from '../support/stdout';
import { list, resolve, resourcesOfType, type Synth, synth } from './support';

const spec = (name: HandlerName): HandlerSpec => HANDLERS[name];
const fnProps = (s: Synth, name: HandlerName) => s.json.Resources[s.functionIds[name]]?.Properties ?? {};
const envOf = (s: Synth, name: HandlerName) =>
  resolve((fnProps(s, name).Environment as { Variables: Record<string, unknown> }).Variables) as Record<
    string,
    string
  >;

/** JSON lines the step-logging middleware writes while `act` runs. */
function stepLogLines(
  act: (mw: ReturnType<typeof stepLogging>, context: Record<string, unknown>) => void,
): string[] {
  const logger = new Logger({ serviceName: 'qualtrics-dsr', logLevel: 'INFO' });
  const mw = stepLogging('listDirectories', logger);
  const lines: string[] = [];
  const capture = ((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.startsWith('{')),
    );
    return true;
  }) as typeof process.stdout.write;
  // Powertools writes INFO to stdout and WARN/ERROR to stderr.
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const context: Record<string, unknown> = {};
    mw.before?.({ event: { requestId: '00000000-0000-4000-8000-000000000000' }, context } as never);
    act(mw, context);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return lines;
}

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('Lambda functions: one per catalog handler', () => {
  it('has exactly one function per catalog entry, from lambdas/handlers/<file>.ts', () => {
    expect(resourcesOfType(s.json, 'AWS::Lambda::Function')).toHaveLength(HANDLER_NAMES.length);
    for (const name of HANDLER_NAMES) {
      expect(existsSync(join(__dirname, '..', '..', 'lambdas', 'handlers', `${spec(name).file}.ts`))).toBe(
        true,
      );
      expect(fnProps(s, name).Description).toContain(`lambdas/handlers/${spec(name).file}.ts`);
      expect(fnProps(s, name).Handler).toBe('index.handler');
    }
  });

  it('runs Node.js 22 or later on arm64 with active tracing and JSON logs to its own log group', () => {
    for (const name of HANDLER_NAMES) {
      const p = fnProps(s, name);
      const major = Number(/^nodejs(\d+)\.x$/.exec(String(p.Runtime))?.[1]);
      expect(major, name).toBeGreaterThanOrEqual(22);
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      const logging = p.LoggingConfig as { LogFormat: string; LogGroup: unknown };
      expect(logging.LogFormat).toBe('JSON');
      expect(logging.LogGroup).toEqual({ Ref: s.id(s.stack.handlers.logGroups[name]) });
      expect(p.Role).toEqual({ 'Fn::GetAtt': [s.id(s.stack.handlers.roles[name]), 'Arn'] });
    }
  });

  it('sizes timeout and memory per handler, from the catalog', () => {
    for (const name of HANDLER_NAMES) {
      expect(fnProps(s, name).Timeout, name).toBe(spec(name).timeoutSeconds);
      expect(fnProps(s, name).MemorySize, name).toBe(spec(name).memoryMb);
    }
    // The API answers within API Gateway's 29 s; the file download may take the full 15 minutes.
    expect(fnProps(s, 'api').Timeout).toBeLessThanOrEqual(29);
    expect(fnProps(s, 'downloadCustomerDataFiles').Timeout).toBe(900);
  });

  it('reserves no concurrency by default: the stack deploys on accounts with a small concurrency quota', () => {
    expect(DEFAULT_SETTINGS.qualtricsConcurrency).toBe(0);
    for (const name of HANDLER_NAMES) {
      expect(fnProps(s, name).ReservedConcurrentExecutions, name).toBeUndefined();
    }
  });

  it('has a caller for every function: a state machine, the API, or an EventBridge rule or schedule', () => {
    const callers = [
      ...resourcesOfType(s.json, 'AWS::StepFunctions::StateMachine'),
      ...resourcesOfType(s.json, 'AWS::ApiGateway::Method'),
      ...resourcesOfType(s.json, 'AWS::Events::Rule'),
    ].map(([id, props]) => [id, JSON.stringify(props)] as const);
    for (const name of HANDLER_NAMES) {
      const arn = JSON.stringify({ 'Fn::GetAtt': [s.functionIds[name], 'Arn'] });
      const by = callers.filter(([, props]) => props.includes(arn)).map(([id]) => id);
      expect(by, `${name} has no caller`).not.toHaveLength(0);
    }
  });

  it('sets the Powertools env and the deletion mode on every function', () => {
    for (const name of HANDLER_NAMES) {
      const env = envOf(s, name);
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('qualtrics-dsr');
      expect(env.POWERTOOLS_LOG_LEVEL).toBe('INFO');
      expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('QualtricsDsr');
      expect(env.QDSR_DELETION_DONE).toBe('confirmed');
      // The bundles carry source maps (bundling.sourceMap); Node uses them only when told to.
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('names each resource a function uses in its env, and only those', () => {
    const st = s.stack.storage;
    for (const name of HANDLER_NAMES) {
      const env = envOf(s, name);
      const r = spec(name).resources;
      const has = (prefix: string) => r.some((x) => x.startsWith(prefix));
      expect(env[STORAGE_ENV.requestsTable], name).toBe(
        has('requestsTable') ? `<${s.id(st.requestsTable)}>` : undefined,
      );
      expect(env[STORAGE_ENV.limiterTable], name).toBe(
        has('limiterTable') ? `<${s.id(st.limiterTable)}>` : undefined,
      );
      expect(env.QDSR_TARGET_UTILIZATION, name).toBe(has('limiterTable') ? '0.75' : undefined);
      const bucket = has('exportsBucket') || has('evidence');
      expect(env[STORAGE_ENV.exportBucket], name).toBe(bucket ? `<${s.id(st.exportsBucket)}>` : undefined);
      expect(env.QDSR_EXPORT_KMS_KEY_ID, name).toBe(bucket ? `<${s.id(st.dataKey)}.Arn>` : undefined);
      expect(env.QUALTRICS_SECRET_ARN, name).toBe(
        has('qualtricsSecret') ? `<${s.id(s.stack.secret)}>` : undefined,
      );
      expect(env.QDSR_EVENT_BUS, name).toBe(has('events') ? `<${s.id(s.stack.events.bus)}>` : undefined);
      const machines = has('stateMachines');
      expect(env.QDSR_ACCESS_STATE_MACHINE_ARN, name).toBe(
        machines ? `<${s.id(s.stack.workflows.access)}>` : undefined,
      );
      expect(env.QDSR_DELETION_STATE_MACHINE_ARN, name).toBe(
        machines ? `<${s.id(s.stack.workflows.deletion)}>` : undefined,
      );
      // No datacenter in context: the functions take it from the secret.
      expect(env.QUALTRICS_DATACENTER).toBeUndefined();
    }
  });

  it("tells recordCompleted the deployed bucket, which the access execution's output names", () => {
    const env = envOf(s, 'recordCompleted');
    expect(env[STORAGE_ENV.exportBucket]).toBe(`<${s.id(s.stack.storage.exportsBucket)}>`);
  });

  it('sends intake events that failed every retry to the dead-letter queue', () => {
    expect(fnProps(s, 'intakeEvent').DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [s.id(s.stack.events.intakeDeadLetterQueue), 'Arn'] },
    });
  });
});

describe('state machines', () => {
  it('deploys both workflows as Standard machines, logged without execution data, traced', () => {
    const machines = resourcesOfType(s.json, 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(2);
    for (const [type, machine] of [
      ['access', s.stack.workflows.access],
      ['deletion', s.stack.workflows.deletion],
    ] as const) {
      const p = s.json.Resources[s.id(machine)]?.Properties ?? {};
      expect(p.StateMachineType).toBe('STANDARD');
      expect(p.StateMachineName).toBe(`QualtricsDsr-${type}`);
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(p.LoggingConfiguration).toEqual({
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [s.id(s.stack.workflows.logGroups[type]), 'Arn'] },
            },
          },
        ],
      });
      expect(p.DefinitionS3Location).toBeUndefined();
      // The timeout is the definition's own: 35 days, longer than the longest (30-day) Qualtrics job.
      const definition = JSON.parse(String(p.DefinitionString));
      expect(definition.TimeoutSeconds).toBe(JSON.parse(readAsl(type)).TimeoutSeconds);
      expect(definition.TimeoutSeconds).toBe(35 * 24 * 3600);
    }
    const name = resolve(
      s.json.Resources[s.id(s.stack.workflows.logGroups.access)]?.Properties?.LogGroupName,
    ) as string;
    // Unique per deployment (the stack's GUID), so a retained log group never blocks a redeploy.
    expect(name).toMatch(/^\/aws\/vendedlogs\/states\/QualtricsDsr-access-/);
    expect(JSON.stringify(s.json.Resources[s.id(s.stack.workflows.logGroups.access)])).toContain(
      'AWS::StackId',
    );
  });
});

describe('storage', () => {
  it('keeps the limiter and the requests on demand, with point-in-time recovery and KMS', () => {
    const limiter = s.json.Resources[s.id(s.stack.storage.limiterTable)]?.Properties;
    const requests = s.json.Resources[s.id(s.stack.storage.requestsTable)]?.Properties;
    for (const t of [limiter, requests]) {
      expect(t?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t?.KeySchema).toEqual([{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }]);
    }
    // Limiter: no personal data, AWS-managed KMS key. Requests: emails, our own key.
    expect(limiter?.SSESpecification).toEqual({ SSEEnabled: true });
    expect(requests?.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [s.id(s.stack.storage.dataKey), 'Arn'] },
    });
    for (const t of [limiter, requests]) {
      expect(t?.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    }
    expect(s.json.Resources[s.id(s.stack.storage.requestsTable)]?.DeletionPolicy).toBe('Retain');
  });

  it('encrypts the export bucket with our key, TLS only, no public access, versioned, logged, expiring', () => {
    const bucket = s.json.Resources[s.id(s.stack.storage.exportsBucket)];
    const p = bucket?.Properties ?? {};
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [s.id(s.stack.storage.dataKey), 'Arn'] },
          },
        },
      ],
    });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: s.id(s.stack.storage.accessLogsBucket) },
      LogFilePrefix: 'exports-bucket/',
    });
    const rules = (p.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        Prefix: 'exports/',
        ExpirationInDays: DEFAULT_SETTINGS.retentionDays,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Status: 'Enabled',
      }),
    );
    expect(bucket?.DeletionPolicy).toBe('Retain');

    const policy = resourcesOfType(s.json, 'AWS::S3::BucketPolicy').find(
      ([, pp]) => JSON.stringify(pp.Bucket) === JSON.stringify({ Ref: s.id(s.stack.storage.exportsBucket) }),
    )?.[1];
    expect(policy).toBeDefined();
    const statements = (policy!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    );
    expect(JSON.stringify(statements)).not.toContain('"Effect":"Allow"');
  });

  it('keeps server access logs in a separate SSE-S3 bucket that expires them', () => {
    const p = s.json.Resources[s.id(s.stack.storage.accessLogsBucket)]?.Properties ?? {};
    expect(p.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect((p.PublicAccessBlockConfiguration as Record<string, boolean>).BlockPublicPolicy).toBe(true);
    expect(JSON.stringify(p.LifecycleConfiguration)).toContain(
      `"ExpirationInDays":${ACCESS_LOG_RETENTION_DAYS}`,
    );
  });

  it('rotates the data key and keeps it', () => {
    const key = s.json.Resources[s.id(s.stack.storage.dataKey)];
    expect(key?.Properties?.EnableKeyRotation).toBe(true);
    expect(key?.DeletionPolicy).toBe('Retain');
  });
});

describe('the Qualtrics secret', () => {
  it('is created with placeholders only, JSON-shaped, under the AWS-managed key, and retained', () => {
    const secrets = resourcesOfType(s.json, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [id, p] = secrets[0]!;
    expect(p.SecretString).toBeUndefined();
    const generate = p.GenerateSecretString as Record<string, unknown>;
    expect(generate.GenerateStringKey).toBe('clientSecret');
    expect(JSON.parse(String(generate.SecretStringTemplate))).toEqual({
      clientId: SECRET_PLACEHOLDER_CLIENT_ID,
      datacenter: SECRET_PLACEHOLDER_DATACENTER,
    });
    // A forgotten placeholder is a configuration error naming the setting, not a call to a bogus host.
    expect(() => originFromEnv({ QUALTRICS_DATACENTER: SECRET_PLACEHOLDER_DATACENTER })).toThrow(
      /QUALTRICS_DATACENTER/,
    );
    // A credential, not personal data: aws/secretsmanager, so storing the value needs no grant on our key.
    expect(p.KmsKeyId).toBeUndefined();
    expect(s.json.Resources[id]?.DeletionPolicy).toBe('Retain');
  });
});

describe('REST API', () => {
  const methods = () =>
    resourcesOfType(s.json, 'AWS::ApiGateway::Method').map(([, p]) => ({
      p,
      path: pathOf(String((p.ResourceId as { Ref: string }).Ref)),
    }));
  const pathOf = (resourceId: string): string => {
    const r = s.json.Resources[resourceId]?.Properties ?? {};
    const parent = r.ParentId as { Ref?: string } | undefined;
    const prefix = parent?.Ref ? pathOf(parent.Ref) : '';
    return `${prefix}/${String(r.PathPart)}`;
  };

  it('serves exactly the routes of the route table, all IAM-authorized, all to the api function', () => {
    const found = methods().map(({ p, path }) => `${p.HttpMethod} ${path}`);
    expect(found.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    // The local server's own routes (marked localOnly) are never built into API Gateway.
    const localOnly = ROUTES.filter((r) => isLocalOnlyRoute(r.name));
    expect(localOnly.length).toBeGreaterThan(0);
    for (const r of localOnly) expect(found).not.toContain(`${r.method} ${r.path}`);
    for (const { p } of methods()) {
      expect(p.AuthorizationType).toBe('AWS_IAM');
      expect(p.RequestValidatorId).toBeDefined();
      const integration = resolve(p.Integration) as { Type: string; Uri: string };
      expect(integration.Type).toBe('AWS_PROXY');
      expect(integration.Uri).toContain(`<${s.functionIds.api}.Arn>`);
    }
  });

  it('builds no local-only route: the sweep on demand (POST /sweep) and the operator page (GET /) are served by the local server alone', () => {
    const localOnly = ROUTES.filter((r) => isLocalOnlyRoute(r.name)).map((r) => `${r.method} ${r.path}`);
    expect(localOnly).toEqual(['POST /sweep', 'GET /']);
    for (const route of localOnly)
      expect(API_ROUTES.map((r) => `${r.method} ${r.path}`)).not.toContain(route);
    expect(API_ROUTES).toHaveLength(ROUTES.length - localOnly.length);
    // Every method hangs off a resource of ours; none off the API's root (`/`).
    for (const [, p] of resourcesOfType(s.json, 'AWS::ApiGateway::Method')) {
      expect((p.ResourceId as { Ref?: string }).Ref).toEqual(expect.any(String));
    }
  });

  it('validates request bodies against their models, path ids, and passes on the ledger’s query parameters', () => {
    const method = (verb: string, path: string) =>
      methods().find((m) => m.p.HttpMethod === verb && m.path === path)?.p;
    const modelName = (verb: string, path: string) => {
      const ref = ((method(verb, path)?.RequestModels ?? {}) as Record<string, { Ref: string }>)[
        'application/json'
      ];
      return s.json.Resources[ref?.Ref ?? '']?.Properties?.Name;
    };
    expect(modelName('POST', '/requests')).toBe('CreatePrivacyRequest');
    expect(modelName('POST', '/requests/search')).toBe('SearchPrivacyRequests');
    expect(modelName('POST', '/requests/{id}/extend')).toBe('ExtendPrivacyRequest');
    for (const { p, path } of methods()) {
      if (path.includes('{id}')) expect(p.RequestParameters).toEqual({ 'method.request.path.id': true });
    }
    const query = (names: readonly string[]) =>
      Object.fromEntries(names.map((n) => [`method.request.querystring.${n}`, false]));
    expect(method('GET', '/requests')?.RequestParameters).toEqual(query(LIST_PARAMETERS));
    expect(method('GET', '/records')?.RequestParameters).toEqual(query(RECORDS_PARAMETERS));
    s.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ additionalProperties: false, required: ['type', 'email'] }),
    });
  });

  it('validates POST /requests against the model generated from the request contract', () => {
    // What the model accepts and rejects, and that it follows the contract: test/infra/request-model.test.ts.
    const [, model] = resourcesOfType(s.json, 'AWS::ApiGateway::Model').find(
      ([, p]) => p.Name === 'CreatePrivacyRequest',
    )!;
    const { title, ...schema } = model.Schema as Record<string, unknown>;
    expect(title).toBe('CreatePrivacyRequest');
    expect(schema).toEqual(z.toJSONSchema(requestSubmission, { target: 'draft-04', io: 'input' }));
  });

  it('logs access as JSON (no bodies), logs errors, traces, and throttles the stage', () => {
    const [, stage] = resourcesOfType(s.json, 'AWS::ApiGateway::Stage')[0]!;
    expect(stage.StageName).toBe('v1');
    expect(stage.TracingEnabled).toBe(true);
    const access = stage.AccessLogSetting as { Format: string; DestinationArn: unknown };
    expect(String(resolve(access.DestinationArn))).toContain(`<${s.id(s.stack.api.accessLogs)}>`);
    const fields = Object.keys(JSON.parse(access.Format));
    expect(fields).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'caller', 'httpMethod', 'resourcePath', 'status']),
    );
    expect(access.Format).not.toMatch(/requestBody|input\.body|\$input/);
    expect(stage.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        DataTraceEnabled: false,
        LoggingLevel: 'ERROR',
        MetricsEnabled: true,
        ThrottlingRateLimit: DEFAULT_THROTTLING.rateLimit,
        ThrottlingBurstLimit: DEFAULT_THROTTLING.burstLimit,
      },
    ]);
  });

  it('answers API Gateway’s own errors in the connector’s error shape, never quoting the rejected body', () => {
    const responses = resourcesOfType(s.json, 'AWS::ApiGateway::GatewayResponse').map(([, p]) => p);
    expect(responses.map((r) => r.ResponseType).sort()).toEqual([
      'BAD_REQUEST_BODY',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]);
    for (const r of responses) {
      const template = (r.ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      expect(template).toMatch(/^\{"error":\{"code":/);
      expect(template).not.toContain('validationErrorString');
    }
  });
});

describe('EventBridge', () => {
  it('has the connector’s own bus with a rule that starts a request from "Privacy Request Submitted"', () => {
    s.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'QualtricsDsr-events' });
    const rule = s.json.Resources[s.id(s.stack.events.intakeRule!)]?.Properties ?? {};
    expect(rule.EventBusName).toEqual({ Ref: s.id(s.stack.events.bus) });
    expect(rule.EventPattern).toEqual({ 'detail-type': ['Privacy Request Submitted'] });
    const [target] = rule.Targets as Array<Record<string, unknown>>;
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': [s.functionIds.intakeEvent, 'Arn'] });
    expect(target?.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': [s.id(s.stack.events.intakeDeadLetterQueue), 'Arn'] },
    });
  });

  it('runs the connection check on the schedule', () => {
    const rule = s.json.Resources[s.id(s.stack.events.connectionCheckSchedule!)]?.Properties ?? {};
    expect(rule.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.EventBusName).toBeUndefined();
    expect((rule.Targets as Array<Record<string, unknown>>)[0]?.Arn).toEqual({
      'Fn::GetAtt': [s.functionIds.connectionCheck, 'Arn'],
    });
  });

  it('lets EventBridge invoke exactly the intake, connection-check, execution-ended and sweep functions', () => {
    const permissions = resourcesOfType(s.json, 'AWS::Lambda::Permission')
      .map(([, p]) => p)
      .filter((p) => p.Principal === 'events.amazonaws.com');
    expect(
      permissions.map((p) => (p.FunctionName as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).sort(),
    ).toEqual(
      [
        s.functionIds.intakeEvent,
        s.functionIds.connectionCheck,
        s.functionIds.executionEnded,
        s.functionIds.sweep,
      ].sort(),
    );
  });

  it('closes a request whose execution of either state machine ends FAILED, TIMED_OUT or ABORTED', () => {
    const rule = s.json.Resources[s.id(s.stack.events.executionEndedRule!)]?.Properties ?? {};
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ Ref: s.id(s.stack.workflows.access) }, { Ref: s.id(s.stack.workflows.deletion) }],
      },
    });
    const targets = rule.Targets as Array<{ Arn: unknown }>;
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ 'Fn::GetAtt': [s.functionIds.executionEnded, 'Arn'] });
  });

  it('keeps undeliverable submissions encrypted, TLS-only, for 14 days', () => {
    const q = s.json.Resources[s.id(s.stack.events.intakeDeadLetterQueue)]?.Properties ?? {};
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});

describe('alarms', () => {
  it('alarms on failed executions, failed connection checks, Qualtrics 429s, overdue requests and dead letters, to the topic', () => {
    const alarms = resourcesOfType(s.json, 'AWS::CloudWatch::Alarm').map(([, p]) => p);
    expect(alarms).toHaveLength(6);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: s.id(s.stack.alarms.topic) }]);
    const text = JSON.stringify(alarms);
    for (const metric of [
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ConnectionCheckFailed',
      'QualtricsThrottled',
      'OverdueRequests',
    ]) {
      expect(text).toContain(`"MetricName":"${metric}"`);
    }
    for (const machine of [s.stack.workflows.access, s.stack.workflows.deletion]) {
      expect(text).toContain(`"Value":{"Ref":"${s.id(machine)}"}`);
    }
  });

  it('counts 429s from the logs of every function that calls Qualtrics', () => {
    const filters = resourcesOfType(s.json, 'AWS::Logs::MetricFilter').map(([, p]) => p);
    const callers = HANDLER_NAMES.filter((n) => spec(n).callsQualtrics);
    expect(filters.map((f) => (f.LogGroupName as { Ref: string }).Ref).sort()).toEqual(
      callers.map((n) => s.id(s.stack.handlers.logGroups[n])).sort(),
    );
  });

  it('matches the 429 filter against what a step logs when Qualtrics throttles it', () => {
    const [, filter] = resourcesOfType(s.json, 'AWS::Logs::MetricFilter')[0]!;
    const m = /^\{ \$\.(\w+) = "([^"]+)" \}$/.exec(String(filter.FilterPattern));
    expect(m).not.toBeNull();
    const matches = (line: string) => {
      const doc = JSON.parse(line) as Record<string, unknown>;
      return doc[m![1]!] === m![2];
    };
    const lines = stepLogLines((mw, context) => {
      mw.onError?.({
        event: {},
        context,
        error: new QualtricsError(ErrorNames.RateLimited, 'Qualtrics rate limit reached', {
          httpStatus: 429,
        }),
        response: undefined,
        internal: {},
      } as never);
    });
    expect(lines.filter(matches)).toHaveLength(1);
    const other = stepLogLines((mw, context) => {
      mw.onError?.({
        event: {},
        context,
        error: new QualtricsError(ErrorNames.Transient, 'Qualtrics unavailable', { httpStatus: 503 }),
        response: undefined,
        internal: {},
      } as never);
    });
    expect(other.length).toBeGreaterThan(0);
    expect(other.filter(matches)).toHaveLength(0);
  });

  it('alarms on the metric the connection-check handler emits (namespace, name, no dimensions)', async () => {
    expect(CONNECTION_CHECK_METRIC).toEqual({
      namespace: 'QualtricsDsr',
      name: CONNECTION_CHECK_FAILED_METRIC,
    });
    // What the handler writes to stdout (Powertools Metrics, EMF) …
    const { out } = await capturingStdout(() => publishConnectionCheckMetric(true));
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(emf[directive.Metrics[0].Name]).toBe(1);

    // … is the metric the alarm reads: same namespace and name, and the alarm names no dimension.
    const alarm = resourcesOfType(s.json, 'AWS::CloudWatch::Alarm')
      .map(([, p]) => p.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown> } }>)
      .flatMap((metrics) => metrics ?? [])
      .map((m) => m.MetricStat?.Metric)
      .filter((m) => m?.MetricName === CONNECTION_CHECK_FAILED_METRIC);
    expect(alarm).toEqual([{ Namespace: directive.Namespace, MetricName: directive.Metrics[0].Name }]);
    expect(directive).toEqual({
      Namespace: 'QualtricsDsr',
      Dimensions: [[]],
      Metrics: [{ Name: CONNECTION_CHECK_FAILED_METRIC, Unit: 'Count' }],
    });
  });

  it('publishes to a KMS-encrypted topic whose key CloudWatch may use, with no subscription by default', () => {
    const topic = s.json.Resources[s.id(s.stack.alarms.topic)]?.Properties ?? {};
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [s.id(s.stack.alarms.topicKey), 'Arn'] });
    const keyPolicy = s.json.Resources[s.id(s.stack.alarms.topicKey)]?.Properties?.KeyPolicy as {
      Statement: Array<Record<string, unknown>>;
    };
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      }),
    );
    expect(resourcesOfType(s.json, 'AWS::SNS::Subscription')).toHaveLength(0);
  });
});

describe('outputs', () => {
  it('exports what docs/deploy.md tells users to look up', () => {
    expect(Object.keys(s.json.Outputs ?? {}).sort()).toEqual(
      [
        'AccessStateMachineArn',
        'AlarmTopicArn',
        'ApiUrl',
        'DeletionStateMachineArn',
        'EventBusName',
        'ExportsBucketName',
        'QualtricsSecretArn',
        'RequestsTableName',
      ].sort(),
    );
  });
});

describe('settings from CDK context', () => {
  let custom: Synth;
  const secretArn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:qualtrics/oauth';
  beforeAll(() => {
    // As the CLI passes them (`-c key=value`): strings.
    custom = synth({
      [CONTEXT_KEYS.datacenter]: 'fra1',
      [CONTEXT_KEYS.qualtricsSecretArn]: secretArn,
      [CONTEXT_KEYS.targetUtilization]: '0.5',
      [CONTEXT_KEYS.retentionDays]: '7',
      [CONTEXT_KEYS.connectionCheckSchedule]: 'rate(15 minutes)',
      [CONTEXT_KEYS.deletionDone]: 'submitted',
      [CONTEXT_KEYS.alarmEmail]: 'privacy-ops@example.org',
      [CONTEXT_KEYS.qualtricsConcurrency]: '5',
    });
  });

  it('applies every setting', () => {
    const env = envOf(custom, 'listDirectories');
    expect(env.QUALTRICS_DATACENTER).toBe('fra1');
    expect(env.QDSR_TARGET_UTILIZATION).toBe('0.5');
    expect(env.QUALTRICS_SECRET_ARN).toBe(secretArn);
    for (const name of HANDLER_NAMES) {
      expect(envOf(custom, name).QDSR_DELETION_DONE).toBe('submitted');
      // A reservation, when asked for, goes to exactly the functions that call Qualtrics.
      expect(fnProps(custom, name).ReservedConcurrentExecutions, name).toBe(
        spec(name).callsQualtrics ? 5 : undefined,
      );
    }
    const bucket = custom.json.Resources[custom.id(custom.stack.storage.exportsBucket)]?.Properties ?? {};
    expect(JSON.stringify(bucket.LifecycleConfiguration)).toContain('"ExpirationInDays":7');
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    custom.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'privacy-ops@example.org',
    });
  });

  it('uses an existing secret instead of creating one, and reads only that secret', () => {
    expect(resourcesOfType(custom.json, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    const text = JSON.stringify(custom.json);
    // A partial ARN: Secrets Manager appends six random characters.
    expect(text).toContain(`"${secretArn}-??????"`);
    for (const [, p] of resourcesOfType(custom.json, 'AWS::IAM::Policy')) {
      for (const st of (
        p.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }
      ).Statement) {
        if (list(st.Action).includes('secretsmanager:GetSecretValue'))
          expect(st.Resource).toBe(`${secretArn}-??????`);
      }
    }
  });
});

describe('cdk.json', () => {
  it('runs the app offline through the local tsx', () => {
    const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
    expect(cdkJson.context['cli-telemetry']).toBe(false);
  });
});
