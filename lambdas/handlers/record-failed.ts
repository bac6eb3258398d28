import middy from '@middy/core';
import { RecordFailedInput } from '../core/workflow/inputs';
import { recordFailed } from '../core/workflow/record';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  recordFailed(context.env, parseStepEvent(RecordFailedInput, event)),
).use(workflowStep('recordFailed'));
