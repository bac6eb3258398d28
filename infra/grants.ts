import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { HandlerResource } from '../lambdas/catalog';
import { REQUESTS_TABLE_INDEXES, type RequestsTableIndex } from '../lambdas/core/tables';
import { EVIDENCE_PREFIX, EXPORTS_PREFIX } from './constructs/storage';

/**
 * Turns each catalog resource (`lambdas/catalog.ts`) into the narrowest IAM statements: exact
 * actions (no wildcards), exact resources (ARNs or object-key prefixes), and KMS use only through
 * the service that stores the data (`kms:ViaService`).
 */

export interface GrantTargets {
  readonly requestsTable: ITable;
  readonly limiterTable: ITable;
  readonly exportsBucket: IBucket;
  /** Key of the requests table and the export bucket. */
  readonly dataKey: IKey;
  /** ARN pattern(s) that match the Qualtrics secret (a partial ARN needs its `-??????` suffix). */
  readonly secretResourceArns: readonly string[];
  readonly eventBus: IEventBus;
  /** The workflows; absent until they exist (functions are created before the state machines). */
  readonly stateMachines?: readonly StateMachine[];
}

/** DynamoDB actions per catalog resource: exactly the operations the core issues (Get/Put/UpdateItem). */
export const DYNAMODB_ACTIONS = {
  requestsRead: ['dynamodb:GetItem'],
  requestsWrite: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // The limiter reads a bucket and moves it with conditional updates; nothing else.
  limiterWrite: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  requestsQuery: ['dynamodb:Query'],
} as const;

/** The requests table's indexes each query resource reaches (Query on the index ARNs, never the table). */
export const INDEX_QUERIES = {
  'requestsTable:queryLedger': ['byReceivedAt', 'byStatus', 'bySubject'],
  'requestsTable:queryEmailsDue': ['byEmailForgetAt'],
  'requestsTable:queryByStatus': ['byStatus'],
} as const satisfies Partial<Record<HandlerResource, readonly RequestsTableIndex[]>>;

export const S3_ACTIONS = {
  // Multipart uploads of large files abort their parts on failure. (The writer's CopyObject onto the
  // object itself also reads it: the catalog lists `exportsBucket:read` for every writer.)
  exportsWrite: ['s3:PutObject', 's3:AbortMultipartUpload'],
  exportsRead: ['s3:GetObject'],
  evidenceWrite: ['s3:PutObject'],
  evidenceRead: ['s3:GetObject'],
} as const;

/** KMS actions through DynamoDB (table key) and S3 (envelope encryption). */
const KMS = {
  dynamodbRead: ['kms:Decrypt', 'kms:DescribeKey'],
  dynamodbWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
  // Multipart uploads decrypt the parts they assemble.
  s3Write: ['kms:GenerateDataKey', 'kms:Decrypt'],
  s3Read: ['kms:Decrypt'],
} as const;

type KmsService = 'dynamodb' | 's3';

export function statementsFor(
  scope: Construct,
  resources: readonly HandlerResource[],
  t: GrantTargets,
): PolicyStatement[] {
  const stack = Stack.of(scope);
  const statements: PolicyStatement[] = [];
  const kms = new Map<KmsService, Set<string>>();
  const useKey = (service: KmsService, actions: readonly string[]) => {
    const set = kms.get(service) ?? new Set<string>();
    for (const a of actions) set.add(a);
    kms.set(service, set);
  };
  const allow = (
    sid: string,
    actions: readonly string[],
    res: string[],
    conditions?: Record<string, unknown>,
  ) =>
    statements.push(
      new PolicyStatement({ sid, effect: Effect.ALLOW, actions: [...actions], resources: res, conditions }),
    );
  const exportsActions = new Set<string>();
  for (const resource of new Set(resources)) {
    switch (resource) {
      case 'requestsTable:read':
        allow('RequestsTableRead', DYNAMODB_ACTIONS.requestsRead, [t.requestsTable.tableArn]);
        useKey('dynamodb', KMS.dynamodbRead);
        break;
      case 'requestsTable:write':
        allow('RequestsTableWrite', DYNAMODB_ACTIONS.requestsWrite, [t.requestsTable.tableArn]);
        useKey('dynamodb', KMS.dynamodbWrite);
        break;
      case 'requestsTable:queryLedger':
      case 'requestsTable:queryEmailsDue':
      case 'requestsTable:queryByStatus':
        allow(
          INDEX_QUERY_SIDS[resource],
          DYNAMODB_ACTIONS.requestsQuery,
          INDEX_QUERIES[resource].map(
            (index) => `${t.requestsTable.tableArn}/index/${REQUESTS_TABLE_INDEXES[index].name}`,
          ),
        );
        useKey('dynamodb', KMS.dynamodbRead);
        break;
      case 'limiterTable:write':
        // AWS-managed table key: its key policy already admits DynamoDB callers of this account.
        allow('LimiterTableWrite', DYNAMODB_ACTIONS.limiterWrite, [t.limiterTable.tableArn]);
        break;
      case 'exportsBucket:write':
        for (const a of S3_ACTIONS.exportsWrite) exportsActions.add(a);
        useKey('s3', KMS.s3Write);
        break;
      case 'exportsBucket:read':
        for (const a of S3_ACTIONS.exportsRead) exportsActions.add(a);
        // Listing (the manifest lists the bundle) only under exports/.
        allow('ExportsList', ['s3:ListBucket'], [t.exportsBucket.bucketArn], {
          StringLike: { 's3:prefix': [`${EXPORTS_PREFIX}*`] },
        });
        useKey('s3', KMS.s3Read);
        break;
      case 'evidence:write':
        allow('EvidenceWrite', S3_ACTIONS.evidenceWrite, [
          t.exportsBucket.arnForObjects(`${EVIDENCE_PREFIX}*`),
        ]);
        useKey('s3', KMS.s3Write);
        break;
      case 'evidence:read':
        allow('EvidenceRead', S3_ACTIONS.evidenceRead, [
          t.exportsBucket.arnForObjects(`${EVIDENCE_PREFIX}*`),
        ]);
        // A missing object reads as 403 without a listing of its key (ExportWriter tells them apart).
        allow('EvidenceList', ['s3:ListBucket'], [t.exportsBucket.bucketArn], {
          StringLike: { 's3:prefix': [`${EVIDENCE_PREFIX}*`] },
        });
        useKey('s3', KMS.s3Read);
        break;
      case 'qualtricsSecret:read':
        // The secret uses Secrets Manager's AWS-managed key: no key grant needed.
        allow('QualtricsSecretRead', ['secretsmanager:GetSecretValue'], [...t.secretResourceArns]);
        break;
      case 'stateMachines:start':
        if (!t.stateMachines) break;
        allow(
          'StartWorkflows',
          ['states:StartExecution'],
          t.stateMachines.map((m) => m.stateMachineArn),
        );
        break;
      case 'stateMachines:describeExecutions':
        if (!t.stateMachines) break;
        allow(
          'DescribeWorkflowExecutions',
          ['states:DescribeExecution'],
          t.stateMachines.map((m) => executionsArnOf(stack, m)),
        );
        break;
      case 'events:put':
        allow('PutConnectorEvents', ['events:PutEvents'], [t.eventBus.eventBusArn]);
        break;
    }
  }
  if (exportsActions.size > 0) {
    allow('ExportsObjects', [...exportsActions].sort(), [
      t.exportsBucket.arnForObjects(`${EXPORTS_PREFIX}*`),
    ]);
  }

  for (const [service, actions] of kms) {
    allow(`DataKeyVia${SERVICE_SID[service]}`, [...actions].sort(), [t.dataKey.keyArn], {
      StringEquals: { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com` },
    });
  }
  return statements;
}

const SERVICE_SID: Record<KmsService, string> = {
  dynamodb: 'DynamoDb',
  s3: 'S3',
};

/** Grants of `resources` that concern the state machines only. */
export function stateMachineResources(resources: readonly HandlerResource[]): HandlerResource[] {
  return resources.filter((r) => r === 'stateMachines:start' || r === 'stateMachines:describeExecutions');
}

const INDEX_QUERY_SIDS = {
  'requestsTable:queryLedger': 'RequestsLedgerQuery',
  'requestsTable:queryEmailsDue': 'RequestsEmailsDueQuery',
  'requestsTable:queryByStatus': 'RequestsByStatusQuery',
} as const satisfies Record<keyof typeof INDEX_QUERIES, string>;

/** Every execution of `machine`: `arn:…:execution:<machine name>:*` (execution names are per request). */
export function executionsArnOf(stack: Stack, machine: StateMachine): string {
  return stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${machine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
