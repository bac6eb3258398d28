import middy from '@middy/core';
import { RecordCompletedInput } from '../core/workflow/inputs';
import { recordCompleted } from '../core/workflow/record';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  recordCompleted(context.env, parseStepEvent(RecordCompletedInput, event)),
).use(workflowStep('recordCompleted'));
