import middy from '@middy/core';
import { writeEvidence } from '../core/workflow/bundle';
import { WriteEvidenceInput } from '../core/workflow/inputs';
import { parseStepEvent, type StepContext, workflowStep } from '../middleware';

export const handler = middy(async (event: unknown, context: StepContext) =>
  writeEvidence(context.env, parseStepEvent(WriteEvidenceInput, event)),
).use(workflowStep('writeEvidence'));
