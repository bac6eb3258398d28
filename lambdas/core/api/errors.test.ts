import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, ThrottledError } from '../errors';
import { InvalidCursorError } from '../ledger';
import {
  EmailForgottenError,
  ExtensionRefusedError,
  IdempotencyConflictError,
  RequestNotFoundError,
  RequestStateError,
  StorageError,
} from '../request-store';
import { ApiError, toErrorResponse } from './errors';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

function mapped(err: unknown) {
  const { response, serverFault } = toErrorResponse(err);
  return {
    status: response.statusCode,
    body: JSON.parse(response.body),
    headers: response.headers,
    serverFault,
  };
}

describe('toErrorResponse', () => {
  it('maps the core’s errors to fitting statuses with stable codes', () => {
    expect(mapped(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'json only'))).toMatchObject({
      status: 415,
      body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'json only' } },
      serverFault: undefined,
    });
    expect(mapped(new InputError('email is empty'))).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_INPUT' } },
    });
    expect(mapped(new IdempotencyConflictError())).toMatchObject({
      status: 409,
      body: { error: { code: 'IDEMPOTENCY_CONFLICT' } },
    });
    expect(mapped(new RequestNotFoundError(ID))).toMatchObject({
      status: 404,
      body: { error: { code: 'REQUEST_NOT_FOUND' } },
    });
    for (const refusal of ['ALREADY_EXTENDED', 'OVERDUE', 'ALREADY_COMPLETED'] as const) {
      expect(mapped(new ExtensionRefusedError(ID, refusal))).toMatchObject({
        status: 409,
        body: { error: { code: refusal } },
      });
    }
    expect(mapped(new EmailForgottenError(ID))).toMatchObject({
      status: 409,
      body: { error: { code: 'EMAIL_FORGOTTEN' } },
    });
    expect(mapped(new InvalidCursorError())).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_CURSOR' } },
    });
    expect(mapped(new RequestStateError(ID, 'COMPLETED', 'reopen for retry'))).toMatchObject({
      status: 409,
      body: { error: { code: 'REQUEST_STATE_CONFLICT' } },
    });
  });

  it('answers 503 with Retry-After when storage is down, and names the failure only in the log', () => {
    const storage = mapped(
      new StorageError('GetItem', Object.assign(new Error('x'), { name: 'ServiceUnavailable' })),
    );
    expect(storage).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      body: { error: { code: 'STORAGE_UNAVAILABLE' } },
      serverFault: { name: 'Storage.Unavailable', code: 'STORAGE_UNAVAILABLE' },
    });
  });

  it('names the setting of a configuration error, never its value', () => {
    const config = mapped(
      new ConfigError('QDSR_ACCESS_STATE_MACHINE_ARN', 'secret-looking value abc123 is wrong'),
    );
    expect(config.status).toBe(500);
    expect(config.body.error).toEqual({
      code: 'CONFIGURATION_ERROR',
      message: 'the connector is misconfigured (QDSR_ACCESS_STATE_MACHINE_ARN)',
    });
  });

  it('turns anything unexpected into a generic 500 without message or stack', () => {
    const err = new TypeError("Cannot read properties of undefined (reading 'jane@example.com')");
    const res = mapped(err);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'the request could not be processed' },
    });
    expect(res.serverFault).toEqual({ name: 'TypeError', code: 'INTERNAL_ERROR' });
    expect(mapped(new ThrottledError(1200, 'brand')).status).toBe(500);
    expect(mapped('a string').body.error.code).toBe('INTERNAL_ERROR');
  });

  it('logs a 5xx ApiError by the name of its cause', () => {
    const err = new ApiError(
      503,
      'WORKFLOW_START_FAILED',
      'x',
      {},
      { cause: Object.assign(new Error('y'), { name: 'WorkflowStartError' }) },
    );
    expect(mapped(err).serverFault).toEqual({ name: 'WorkflowStartError', code: 'WORKFLOW_START_FAILED' });
  });
});
