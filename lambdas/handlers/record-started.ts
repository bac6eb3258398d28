import middy from '@middy/core';
import { RecordStartedInput } from '../core/workflow/inputs';
import { recordStarted } from '../core/workflow/record';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  recordStarted(context.env, parseStepEvent(RecordStartedInput, event)),
).use(workflowStep('recordStarted'));
