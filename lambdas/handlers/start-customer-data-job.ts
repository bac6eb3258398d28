import middy from '@middy/core';
import { startCustomerDataJob } from '../core/workflow/customer-data';
import { StartCustomerDataJobInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  startCustomerDataJob(context.env, parseStepEvent(StartCustomerDataJobInput, event)),
).use(workflowStep('startCustomerDataJob'));
