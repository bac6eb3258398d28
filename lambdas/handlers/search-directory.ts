import middy from '@middy/core';
import { searchDirectory } from '../core/workflow/directories';
import { SearchDirectoryInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  searchDirectory(context.env, parseStepEvent(SearchDirectoryInput, event)),
).use(workflowStep('searchDirectory'));
