import middy from '@middy/core';
import { getCustomerDataJob } from '../core/workflow/customer-data';
import { CustomerDataJobStepInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  getCustomerDataJob(context.env, parseStepEvent(CustomerDataJobStepInput, event)),
).use(workflowStep('getCustomerDataJob'));
