import { beforeAll, describe, expect, it } from 'vitest';
import { workflowSubstitutions } from '../../infra/constructs/workflows';
import { HANDLER_NAMES, HANDLERS, type HandlerName, type HandlerResource } from '../../lambdas/catalog';
import { WORKFLOW_TYPES } from '../../statemachines/definitions';
import {
  allStatements,
  type FoundStatement,
  list,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Synth,
  synth,
} from './support';

/**
 * Least privilege, checked on the synthesized template: no `*` action anywhere, `*` resources only
 * where AWS requires them (each case listed below), and each function's role holds exactly the
 * grants its catalog entry implies — derived here independently of infra/grants.ts.
 */

let s: Synth;
let statements: FoundStatement[];
beforeAll(() => {
  s = synth();
  statements = allStatements(s.json);
});

const XRAY_LAMBDA = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const STEP_FUNCTIONS_SERVICE = [
  // Vended log delivery to CloudWatch Logs (no resource-level permissions)…
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  // …and X-Ray tracing (neither).
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

describe('no wildcard permissions beyond what AWS requires', () => {
  it('has no statement whose action is "*", and no NotAction', () => {
    for (const { owner, statement } of statements) {
      expect(list(statement.Action), owner).not.toContain('*');
      expect(statement.NotAction, owner).toBeUndefined();
    }
  });

  it('allows service-wide actions (`svc:*`) only to the account root in key policies', () => {
    const wildcardAllows = statements.filter(
      ({ statement }) => statement.Effect === 'Allow' && list(statement.Action).some((a) => a.includes('*')),
    );
    // AWS's default key policy: it lets IAM policies govern the key and keeps the key manageable.
    expect(wildcardAllows.map((f) => [f.ownerType, list(f.statement.Action), f.statement.Principal])).toEqual(
      [
        ['AWS::KMS::Key', ['kms:*'], { AWS: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root' }],
        ['AWS::KMS::Key', ['kms:*'], { AWS: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root' }],
      ],
    );
    // Service-wide denies are the TLS-only guards of the bucket and queue policies.
    for (const { statement, owner } of statements.filter(
      (f) => f.statement.Effect === 'Deny' && list(f.statement.Action).some((a) => a.includes('*')),
    )) {
      expect(owner).toMatch(/^AWS::(S3::BucketPolicy|SQS::QueuePolicy):/);
      expect(JSON.stringify(statement.Condition)).toMatch(/aws:SecureTransport|s3:TlsVersion/);
    }
  });

  it('uses the `*` resource only for X-Ray, Step Functions log delivery, and key policies', () => {
    const star = statements.filter(({ statement }) => list(statement.Resource).includes('*'));
    const expected: string[] = [];
    // 1. Every function's role: X-Ray trace segments (tracing is on).
    for (const _ of HANDLER_NAMES) expected.push(`AWS::IAM::Policy ${XRAY_LAMBDA.join(',')}`);
    // 2. Each state machine's role: log delivery and X-Ray.
    for (const _ of WORKFLOW_TYPES) expected.push(`AWS::IAM::Policy ${STEP_FUNCTIONS_SERVICE.join(',')}`);
    // 3. Key policies, where `*` means "this key": the default root statement of both keys, and
    //    CloudWatch's use of the alarm topic's key.
    expected.push(
      'AWS::KMS::Key kms:*',
      'AWS::KMS::Key kms:*',
      'AWS::KMS::Key kms:Decrypt,kms:GenerateDataKey',
    );
    const found = star.map(
      ({ ownerType, statement }) => `${ownerType} ${list(statement.Action).sort().join(',')}`,
    );
    expect(found.sort()).toEqual(expected.sort());
    for (const { statement } of star) expect(statement.Effect).toBe('Allow');
  });

  it('attaches no AWS-managed policy except API Gateway’s own logging role', () => {
    const managed = resourcesOfType(s.json, 'AWS::IAM::Role').flatMap(([id, p]) =>
      ((p.ManagedPolicyArns as unknown[]) ?? []).map((arn) => [id, JSON.stringify(arn)]),
    );
    expect(managed).toHaveLength(1);
    expect(managed[0]?.[1]).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
  });
});

describe('each function reaches exactly what its catalog entry lists', () => {
  const ids = () => ({
    requests: `<${s.id(s.stack.storage.requestsTable)}.Arn>`,
    limiter: `<${s.id(s.stack.storage.limiterTable)}.Arn>`,
    bucket: `<${s.id(s.stack.storage.exportsBucket)}.Arn>`,
    dataKey: `<${s.id(s.stack.storage.dataKey)}.Arn>`,
    secret: `<${s.id(s.stack.secret)}>`,
    bus: `<${s.id(s.stack.events.bus)}.Arn>`,
    access: `<${s.id(s.stack.workflows.access)}>`,
    deletion: `<${s.id(s.stack.workflows.deletion)}>`,
    dlq: `<${s.id(s.stack.events.intakeDeadLetterQueue)}.Arn>`,
  });

  /** `action @ resource` pairs a catalog resource implies (KMS pairs carry the service they go through). */
  function expectedPairs(resource: HandlerResource): string[] {
    const i = ids();
    const via = (service: string, actions: string[]) =>
      actions.map((a) => `${a} @ ${i.dataKey} via ${service}`);
    switch (resource) {
      case 'requestsTable:read':
        return [`dynamodb:GetItem @ ${i.requests}`, ...via('dynamodb', ['kms:Decrypt', 'kms:DescribeKey'])];
      case 'requestsTable:write':
        return [
          `dynamodb:PutItem @ ${i.requests}`,
          `dynamodb:UpdateItem @ ${i.requests}`,
          ...via('dynamodb', ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']),
        ];
      // Query on the named indexes only, never on the table (whose items hold the raw email).
      case 'requestsTable:queryLedger':
        return [
          ...['byReceivedAt', 'byStatus', 'bySubject'].map(
            (x) => `dynamodb:Query @ ${i.requests}/index/${x}`,
          ),
          ...via('dynamodb', ['kms:Decrypt', 'kms:DescribeKey']),
        ];
      case 'requestsTable:queryEmailsDue':
        return [
          `dynamodb:Query @ ${i.requests}/index/byEmailForgetAt`,
          ...via('dynamodb', ['kms:Decrypt', 'kms:DescribeKey']),
        ];
      case 'requestsTable:queryByStatus':
        return [
          `dynamodb:Query @ ${i.requests}/index/byStatus`,
          ...via('dynamodb', ['kms:Decrypt', 'kms:DescribeKey']),
        ];
      case 'limiterTable:write':
        return [`dynamodb:GetItem @ ${i.limiter}`, `dynamodb:UpdateItem @ ${i.limiter}`];
      case 'exportsBucket:write':
        return [
          `s3:PutObject @ ${i.bucket}/exports/*`,
          `s3:AbortMultipartUpload @ ${i.bucket}/exports/*`,
          ...via('s3', ['kms:GenerateDataKey', 'kms:Decrypt']),
        ];
      case 'exportsBucket:read':
        return [
          `s3:GetObject @ ${i.bucket}/exports/*`,
          `s3:ListBucket @ ${i.bucket} if s3:prefix exports/*`,
          ...via('s3', ['kms:Decrypt']),
        ];
      case 'exportsBucket:name':
        return [];
      case 'evidence:write':
        return [
          `s3:PutObject @ ${i.bucket}/evidence/*`,
          ...via('s3', ['kms:GenerateDataKey', 'kms:Decrypt']),
        ];
      case 'evidence:read':
        return [
          `s3:GetObject @ ${i.bucket}/evidence/*`,
          `s3:ListBucket @ ${i.bucket} if s3:prefix evidence/*`,
          ...via('s3', ['kms:Decrypt']),
        ];
      case 'qualtricsSecret:read':
        return [`secretsmanager:GetSecretValue @ ${i.secret}`];
      case 'stateMachines:start':
        return [`states:StartExecution @ ${i.access}`, `states:StartExecution @ ${i.deletion}`];
      // The executions of our two machines only (their names are per request).
      case 'stateMachines:describeExecutions':
        return [i.access, i.deletion].map(
          (m) =>
            `states:DescribeExecution @ arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${m.slice(0, -1)}.Name>:*`,
        );
      case 'events:put':
        return [`events:PutEvents @ ${i.bus}`];
    }
  }

  /** Pairs of a role's statements, KMS with its ViaService and listings with their prefix condition. */
  function pairsOf(statementsOfRole: Statement[]): string[] {
    const out = new Set<string>();
    for (const st of statementsOfRole) {
      expect(st.Effect).toBe('Allow');
      const via = st.Condition?.StringEquals?.['kms:ViaService'];
      const prefix = st.Condition?.StringLike?.['s3:prefix'];
      const other = Object.keys(st.Condition ?? {}).filter(
        (k) => !['StringEquals', 'StringLike'].includes(k),
      );
      expect(other).toEqual([]);
      for (const a of list(st.Action)) {
        for (const r of list(st.Resource)) {
          let pair = `${a} @ ${r}`;
          if (via) pair += ` via ${String(via).split('.')[0]}`;
          if (prefix) pair += ` if s3:prefix ${list(prefix as string[]).join(',')}`;
          out.add(pair);
        }
      }
    }
    return [...out].sort();
  }

  for (const name of HANDLER_NAMES) {
    it(`${name}`, () => {
      const roleId = s.id(s.stack.handlers.roles[name]);
      const expected = new Set<string>([
        `logs:CreateLogStream @ <${s.id(s.stack.handlers.logGroups[name])}.Arn>`,
        `logs:PutLogEvents @ <${s.id(s.stack.handlers.logGroups[name])}.Arn>`,
        ...XRAY_LAMBDA.map((a) => `${a} @ *`),
      ]);
      for (const r of HANDLERS[name as HandlerName].resources)
        for (const p of expectedPairs(r)) expected.add(p);
      // A function invoked asynchronously parks failed events in its dead-letter queue.
      if (name === 'intakeEvent') expected.add(`sqs:SendMessage @ ${ids().dlq}`);
      expect(pairsOf(roleStatements(s.json, roleId))).toEqual([...expected].sort());
    });
  }
});

describe('state machine roles', () => {
  it('invoke only their own step functions, by unqualified ARN', () => {
    for (const type of WORKFLOW_TYPES) {
      const machine = s.stack.workflows[type];
      const roleId = s.id(machine.role);
      const invoke = roleStatements(s.json, roleId).filter((st) =>
        list(st.Action).includes('lambda:InvokeFunction'),
      );
      expect(invoke).toHaveLength(1);
      expect(list(invoke[0]!.Action)).toEqual(['lambda:InvokeFunction']);
      const own = [...new Set(workflowSubstitutions(type).handlers.values())];
      expect(list(invoke[0]!.Resource).sort()).toEqual(own.map((n) => `<${s.functionIds[n]}.Arn>`).sort());
      const others = roleStatements(s.json, roleId).filter(
        (st) => !list(st.Action).includes('lambda:InvokeFunction'),
      );
      expect(others.flatMap((st) => list(st.Action)).sort()).toEqual(STEP_FUNCTIONS_SERVICE);
      for (const st of others) expect(list(st.Resource)).toEqual(['*']);
    }
  });

  it('give the access and deletion machines different function sets (no blanket grant)', () => {
    const fns = (type: 'access' | 'deletion') => new Set(workflowSubstitutions(type).handlers.values());
    expect(fns('access').has('createErasure' as HandlerName)).toBe(false);
    expect(fns('deletion').has('startCustomerDataJob' as HandlerName)).toBe(false);
  });
});
