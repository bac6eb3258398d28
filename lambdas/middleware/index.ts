import type { MiddlewareObj } from '@middy/core';
import type { HandlerName } from '../catalog';
import { unknownSettings } from '../core/config';
import { workflowDeps } from '../core/workflow/deps';
import type { StepEnv } from '../core/workflow/env';
import { stepErrors } from './errors';
import { type LoggedContext, stepLogging } from './logger';

export { INTERNAL_ERROR, InternalError, stepErrors, toStepError } from './errors';
export { type LoggedContext, requestIdOf, scrubLogValue, stepLogger, stepLogging } from './logger';
export { parseStepEvent } from './parse';

/** The Lambda context a step handler sees: the invocation's logger and the step's dependencies. */
export type StepContext = LoggedContext & { env: StepEnv };

let settingsChecked = false;

/** Puts the step's dependencies (with the invocation's logger) on `context.env`. */
export function stepDependencies(): MiddlewareObj<unknown, unknown, Error, StepContext> {
  return {
    before: (request) => {
      if (!settingsChecked) {
        // Once per container: a misspelled setting is ignored, so say so (names only, never values).
        settingsChecked = true;
        for (const u of unknownSettings()) {
          request.context.log.warn('unknown setting ignored', { setting: u.name, closest: u.closest });
        }
      }
      const { getRemainingTimeInMillis } = request.context as { getRemainingTimeInMillis?: () => number };
      request.context.env = {
        ...workflowDeps(),
        log: request.context.log,
        ...(typeof getRemainingTimeInMillis === 'function'
          ? { remainingTimeMs: () => getRemainingTimeInMillis.call(request.context) }
          : {}),
      };
    },
  };
}

/**
 * Everything a workflow step handler needs around its one line of logic, in order: logging with
 * the request id (first in, so it also logs failures of the others), error mapping, dependencies.
 */
export function workflowStep(step: HandlerName): MiddlewareObj<unknown, unknown, Error, StepContext>[] {
  return [
    stepLogging(step) as MiddlewareObj<unknown, unknown, Error, StepContext>,
    stepErrors(step) as MiddlewareObj<unknown, unknown, Error, StepContext>,
    stepDependencies(),
  ];
}
