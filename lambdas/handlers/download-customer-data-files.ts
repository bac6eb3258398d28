import middy from '@middy/core';
import { downloadCustomerDataFiles } from '../core/workflow/customer-data';
import { CustomerDataJobStepInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  downloadCustomerDataFiles(context.env, parseStepEvent(CustomerDataJobStepInput, event)),
).use(workflowStep('downloadCustomerDataFiles'));
