import { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { isRequestId } from '../core/request-contract';
import { scrubPii } from '../core/request-store/scrub';

/**
 * Logging of every step: Powertools Logger (JSON lines), each line with the request id and the
 * step. An email never reaches a log line: state carries none, and as a last line of defence
 * every string value is scrubbed of anything shaped like an address before it is written.
 */

/** Outside Lambda (the local runtime, tests) steps are silent unless POWERTOOLS_LOG_LEVEL asks. */
function defaultLogLevel(env: NodeJS.ProcessEnv): 'INFO' | 'SILENT' | undefined {
  if (env.POWERTOOLS_LOG_LEVEL || env.AWS_LAMBDA_LOG_LEVEL) return undefined;
  return env.AWS_LAMBDA_FUNCTION_NAME ? 'INFO' : 'SILENT';
}

export function scrubLogValue(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? scrubPii(value) : value;
}

export const stepLogger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'qualtrics-dsr',
  logLevel: defaultLogLevel(process.env),
  jsonReplacerFn: scrubLogValue,
});

/** The request id of a step event, when it has a well-formed one (anything else is not echoed). */
export function requestIdOf(event: unknown): string | undefined {
  const id = (event as { requestId?: unknown } | null | undefined)?.requestId;
  return isRequestId(id) ? id : undefined;
}

export type LoggedContext = Context & { log: Logger };

/**
 * A child logger per invocation (concurrent invocations in one process — the local engine's Map
 * and Parallel states — must not share keys), on `context.log`; one line when the step starts,
 * one when it ends, with the error's name and code if it failed.
 */
export function stepLogging(
  step: string,
  root: Logger = stepLogger,
): MiddlewareObj<unknown, unknown, Error, LoggedContext> {
  const started = new WeakMap<object, number>();
  return {
    before: (request) => {
      const requestId = requestIdOf(request.event);
      const log = root.createChild({ persistentKeys: { step, ...(requestId ? { requestId } : {}) } });
      if (typeof request.context.awsRequestId === 'string' && request.context.functionName) {
        log.addContext(request.context);
      }
      request.context.log = log;
      started.set(request.context, Date.now());
      log.info('step started');
    },
    after: (request) => {
      request.context.log?.info('step finished', { durationMs: elapsed(started, request.context) });
    },
    onError: (request) => {
      const error = request.error as
        | (Error & { code?: unknown; retryable?: unknown; originalName?: string })
        | null;
      const log = request.context.log ?? root.createChild({ persistentKeys: { step } });
      log.error('step failed', {
        durationMs: elapsed(started, request.context),
        errorName: error?.name,
        ...(typeof error?.code === 'string' ? { errorCode: error.code } : {}),
        ...(typeof error?.retryable === 'boolean' ? { retryable: error.retryable } : {}),
        ...(error?.originalName ? { originalErrorName: error.originalName } : {}),
      });
    },
  };
}

function elapsed(started: WeakMap<object, number>, context: object): number | undefined {
  const at = started.get(context);
  return at === undefined ? undefined : Date.now() - at;
}
