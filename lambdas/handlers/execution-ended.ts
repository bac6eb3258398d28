import middy from '@middy/core';
import { ExecutionEndedInput } from '../core/workflow/inputs';
import { executionEnded } from '../core/workflow/record';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

/** EventBridge: a state machine execution FAILED, TIMED_OUT or ABORTED → the request ends FAILED. */
export const handler = middy(async (event: unknown, context: StepContext) =>
  executionEnded(context.env, parseStepEvent(ExecutionEndedInput, event)),
).use(workflowStep('executionEnded'));
