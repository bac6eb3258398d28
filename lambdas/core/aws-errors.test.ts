import { describe, expect, it } from 'vitest';
import { awsSdkError, isRetryableAwsError, networkErrorCode } from './aws-errors';

const sdkError = (name: string, httpStatusCode?: number) =>
  Object.assign(new Error('message that may quote a key'), {
    name,
    $metadata: httpStatusCode === undefined ? { attempts: 3 } : { httpStatusCode },
  });

describe('isRetryableAwsError', () => {
  it.each([
    ['ThrottlingException', 400],
    ['ProvisionedThroughputExceededException', 400],
    ['RequestLimitExceeded', 400],
    ['TooManyRequestsException', 429],
    ['SlowDown', 503],
    ['InternalServerError', 500],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['RequestTimeout', 400],
    ['SomethingNew', 502],
    ['SomethingNew', 429],
  ])('retries %s (HTTP %i)', (name, status) => {
    expect(isRetryableAwsError(sdkError(name, status))).toBe(true);
  });

  it('retries a call that got no answer (the SDK adds $metadata without a status)', () => {
    expect(isRetryableAwsError(sdkError('TimeoutError'))).toBe(true);
    expect(isRetryableAwsError(sdkError('Error'))).toBe(true);
  });

  it.each([
    ['AccessDeniedException', 400],
    ['AccessDenied', 403],
    ['ResourceNotFoundException', 400],
    ['ValidationException', 400],
    ['DecryptionFailure', 400],
    ['NoSuchKey', 404],
    ['ConditionalCheckFailedException', 400],
  ])('does not retry %s (HTTP %i): the answer would be the same', (name, status) => {
    expect(isRetryableAwsError(sdkError(name, status))).toBe(false);
  });
});

describe('awsSdkError', () => {
  it('names an SDK error and its status, and nothing else', () => {
    expect(awsSdkError(sdkError('ThrottlingException', 400))).toEqual({
      name: 'ThrottlingException',
      status: 400,
    });
    expect(awsSdkError(sdkError('TimeoutError'))).toEqual({ name: 'TimeoutError', status: undefined });
    expect(awsSdkError(new Error('plain'))).toBeUndefined();
    expect(awsSdkError(null)).toBeUndefined();
    expect(awsSdkError('text')).toBeUndefined();
  });
});

describe('networkErrorCode', () => {
  it('returns the code of a Node transport error, and nothing for other codes', () => {
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeUndefined();
    expect(networkErrorCode(new Error('x'))).toBeUndefined();
    expect(networkErrorCode(undefined)).toBeUndefined();
  });
});
