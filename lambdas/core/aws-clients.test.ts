import { afterEach, describe, expect, it } from 'vitest';
import { dynamoDocumentClient, resetAwsClients, s3Client } from './aws-clients';

const saved = { ...process.env };

afterEach(() => {
  resetAwsClients();
  process.env = { ...saved };
});

describe('aws-clients', () => {
  it('caches one client of each kind until reset', () => {
    process.env.AWS_REGION = 'us-east-1';
    const s3 = s3Client();
    const doc = dynamoDocumentClient();
    expect(s3Client()).toBe(s3);
    expect(dynamoDocumentClient()).toBe(doc);
    resetAwsClients();
    expect(s3Client()).not.toBe(s3);
    expect(dynamoDocumentClient()).not.toBe(doc);
  });

  it('takes endpoints from the standard variables, path-style for a custom S3 endpoint', async () => {
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:4569';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:4567';
    const s3 = s3Client();
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    const s3Endpoint = await s3.config.endpoint?.();
    expect(s3Endpoint?.hostname).toBe('127.0.0.1');
    expect(s3Endpoint?.port).toBe(4569);
    const dynamoEndpoint = await dynamoDocumentClient().config.endpoint?.();
    expect(dynamoEndpoint?.port).toBe(4567);
    expect(dynamoDocumentClient().config.translateConfig?.marshallOptions).toEqual({
      removeUndefinedValues: true,
      convertClassInstanceToMap: false,
    });
  });

  it('uses virtual-hosted AWS endpoints when no local endpoint is set', () => {
    process.env.AWS_REGION = 'eu-west-1';
    delete process.env.AWS_ENDPOINT_URL_S3;
    expect(s3Client().config.forcePathStyle).toBe(false);
  });
});
