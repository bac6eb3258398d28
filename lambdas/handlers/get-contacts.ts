import middy from '@middy/core';
import { getContacts } from '../core/workflow/directories';
import { GetContactsInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  getContacts(context.env, parseStepEvent(GetContactsInput, event)),
).use(workflowStep('getContacts'));
