import middy from '@middy/core';
import { WhoamiInput } from '../core/workflow/inputs';
import { whoami } from '../core/workflow/whoami';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  whoami(context.env, parseStepEvent(WhoamiInput, event)),
).use(workflowStep('whoami'));
