import middy from '@middy/core';
import { createErasure } from '../core/workflow/erasure';
import { CreateErasureInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  createErasure(context.env, parseStepEvent(CreateErasureInput, event)),
).use(workflowStep('createErasure'));
