import middy from '@middy/core';
import { getErasure } from '../core/workflow/erasure';
import { GetErasureInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  getErasure(context.env, parseStepEvent(GetErasureInput, event)),
).use(workflowStep('getErasure'));
