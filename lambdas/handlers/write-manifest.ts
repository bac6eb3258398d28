import middy from '@middy/core';
import { writeManifest } from '../core/workflow/bundle';
import { WriteManifestInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  writeManifest(context.env, parseStepEvent(WriteManifestInput, event)),
).use(workflowStep('writeManifest'));
