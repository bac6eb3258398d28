import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REQUESTS_TABLE_INDEXES, TABLE_PARTITION_KEY, TTL_ATTRIBUTE } from '../../lambdas/core/tables';

export interface StorageProps {
  /** Days an export bundle (`exports/…`) is kept before S3 lifecycle expiry. */
  readonly retentionDays: number;
}

/** Prefixes of the export bucket (README "The export bundle"): the bundles, and the deletion evidence. */
export const EXPORTS_PREFIX = 'exports/';
export const EVIDENCE_PREFIX = 'evidence/';
/** Server access logs are kept for a year: they hold object keys (ids) and caller IPs, no contents. */
export const ACCESS_LOG_RETENTION_DAYS = 365;

/**
 * Where the connector keeps state: the rate limiter, the request records, and the export bucket,
 * plus the customer-managed key that protects everything holding personal data.
 */
export class Storage extends Construct {
  /** Customer-managed key of the requests table, the export bucket and the Qualtrics secret. */
  readonly dataKey: Key;
  readonly limiterTable: Table;
  readonly requestsTable: Table;
  readonly exportsBucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    // Our own key for the personal data (request records hold the subject's email, the bucket the
    // exports): the operator controls, audits (CloudTrail) and can revoke it — a crypto-shred switch.
    this.dataKey = new Key(this, 'DataKey', {
      description: 'qualtrics-dsr: requests table, export bucket and Qualtrics client secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.limiterTable = new Table(this, 'LimiterTable', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // One item per rate bucket, no personal data: the AWS-managed KMS key is enough and needs no
      // key grants on the hottest path (every Qualtrics call updates this table).
      encryption: TableEncryption.AWS_MANAGED,
      // Idle buckets and old job-duration lessons go by themselves.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.requestsTable = new Table(this, 'RequestsTable', {
      partitionKey: { name: TABLE_PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      // The audit trail of every privacy request: never dropped by a stack deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The ledger's indexes (lambdas/core/tables.ts, docs/deploy.md "Indexes"): sparse, and never
    // projecting the raw email, the evidence or the timeline.
    for (const index of Object.values(REQUESTS_TABLE_INDEXES)) {
      this.requestsTable.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...('include' in index
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: ProjectionType.KEYS_ONLY }),
      });
    }

    // S3 server access logs can only be delivered to an SSE-S3 bucket.
    this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the export bucket’s server access logs; logging it too would recurse.',
    });

    this.exportsBucket = new Bucket(this, 'ExportsBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      // One data key per bucket instead of one KMS call per object.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'exports-bucket/',
      lifecycleRules: [
        {
          id: 'expire-export-bundles',
          prefix: EXPORTS_PREFIX,
          expiration: Duration.days(props.retentionDays),
          // Versioning keeps overwritten/expired objects as noncurrent versions: remove those too,
          // or a subject's data would outlive the retention period.
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'clean-up',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
