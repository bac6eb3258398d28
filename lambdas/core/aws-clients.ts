import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients shared by every handler of one process (Lambda container or the local runtime):
 * created on first use, then cached, so a warm Lambda reuses its connections.
 *
 * Endpoints come from the standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` variables,
 * so the same code talks to AWS in Lambda and to dynalite/s3rver locally (`local/aws`).
 */

let dynamo: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;

function endpointFromEnv(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

export function dynamoDocumentClient(): DynamoDBDocumentClient {
  if (!documentClient) {
    const endpoint = endpointFromEnv('AWS_ENDPOINT_URL_DYNAMODB');
    dynamo = new DynamoDBClient(endpoint ? { endpoint } : {});
    documentClient = DynamoDBDocumentClient.from(dynamo, {
      // Optional fields left undefined must not fail a write; we never store class instances.
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }
  return documentClient;
}

export function s3Client(): S3Client {
  if (!s3) {
    const endpoint = endpointFromEnv('AWS_ENDPOINT_URL_S3');
    s3 = new S3Client({
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // Default (WHEN_SUPPORTED) checksums send streamed bodies as aws-chunked, which s3rver stores
      // verbatim (corrupting the object), and put a stale CRC into presigned URLs.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }
  return s3;
}

/** Drops the cached clients (closing their sockets), so the next call reads the env afresh. */
export function resetAwsClients(): void {
  // The document client's destroy() is a no-op; the sockets belong to the base client.
  dynamo?.destroy();
  s3?.destroy();
  dynamo = undefined;
  documentClient = undefined;
  s3 = undefined;
}
