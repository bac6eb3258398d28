import middy from '@middy/core';
import { listDirectories } from '../core/workflow/directories';
import { ListDirectoriesInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  listDirectories(context.env, parseStepEvent(ListDirectoriesInput, event)),
).use(workflowStep('listDirectories'));
