import { ConfigError, type DsrError, ErrorNames, InputError, isDsrError } from '../errors';
import {
  EmailForgottenError,
  ExtensionRefusedError,
  IdempotencyConflictError,
  RecordUnreadableError,
  RequestNotFoundError,
  RequestStateError,
  StorageError,
} from '../request-store/errors';
import { type ApiErrorBody, type ApiResponse, jsonResponse } from './http';

/**
 * An answer the API gives on purpose: a status, a stable code and a message that names what is
 * wrong with the request without quoting it (the body may hold an email, a header an injection).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string): ApiError => new ApiError(400, code, message);

/** Input the core refused (an InputError, or one of its refinements). */
export const isInputError = (err: unknown): err is DsrError =>
  isDsrError(err) && err.name === ErrorNames.Input;

/** The code an input error answers with: a refinement's own (INVALID_CURSOR), else INVALID_INPUT. */
export function inputErrorCode(err: DsrError): string {
  return err.constructor === InputError ? 'INVALID_INPUT' : err.code;
}

/** How an error reached the caller: the response, plus what the log may say about it (no PII). */
export interface MappedError {
  response: ApiResponse;
  /** For the log line: the error's class name and code only; set for server-side failures. */
  serverFault?: { name: string; code: string };
}

/**
 * Maps anything thrown while serving a request to a JSON error. Expected errors keep their
 * message (the core builds them PII-free); anything else becomes a generic 500 whose message says
 * nothing about the cause — never a stack trace.
 */
export function toErrorResponse(err: unknown): MappedError {
  const reply = (status: number, code: string, message: string, headers?: Record<string, string>) =>
    jsonResponse(status, { error: { code, message } } satisfies ApiErrorBody, headers);

  if (err instanceof ApiError) {
    const response = reply(err.status, err.code, err.message, err.headers);
    if (err.status < 500) return { response };
    const cause = err.cause instanceof Error ? err.cause.name : err.name;
    return { response, serverFault: { name: cause, code: err.code } };
  }
  if (err instanceof IdempotencyConflictError) {
    return { response: reply(409, 'IDEMPOTENCY_CONFLICT', err.message) };
  }
  if (err instanceof RequestNotFoundError) {
    return { response: reply(404, 'REQUEST_NOT_FOUND', 'no request with this id') };
  }
  if (err instanceof ExtensionRefusedError || err instanceof EmailForgottenError) {
    return { response: reply(409, err.code, err.message) };
  }
  if (err instanceof RequestStateError) {
    return { response: reply(409, 'REQUEST_STATE_CONFLICT', err.message) };
  }
  if (err instanceof RecordUnreadableError) {
    const response = reply(500, err.code, err.message);
    return { response, serverFault: { name: err.name, code: err.code } };
  }
  if (err instanceof StorageError) {
    const response = reply(503, 'STORAGE_UNAVAILABLE', 'the request store is unavailable; try again later', {
      'retry-after': '5',
    });
    return { response, serverFault: { name: err.name, code: err.code } };
  }
  if (err instanceof ConfigError) {
    // The setting's name helps the operator; its value is never part of the message.
    const response = reply(500, 'CONFIGURATION_ERROR', `the connector is misconfigured (${err.setting})`);
    return { response, serverFault: { name: err.name, code: err.code } };
  }
  if (isInputError(err)) return { response: reply(400, inputErrorCode(err), err.message) };
  const name = err instanceof Error ? err.name : typeof err;
  const code = isDsrError(err) ? err.code : 'INTERNAL_ERROR';
  return {
    response: reply(500, 'INTERNAL_ERROR', 'the request could not be processed'),
    serverFault: { name, code },
  };
}
