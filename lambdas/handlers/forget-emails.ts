import middy from '@middy/core';
import { requestStoreFromEnv } from '../core/request-store';
import { stepLogger } from '../middleware';

/**
 * Minimization on a schedule (README "Retention"): erases the raw email of every COMPLETED request
 * answered QDSR_FORGET_EMAIL_AFTER_DAYS ago. A failure is thrown: the next run, or the schedule's
 * retry, picks up whatever is still due.
 */

const logger = stepLogger.createChild({ persistentKeys: { handler: 'forgetEmails' } });

export async function runForgetEmails(): Promise<{ emailsForgotten: number }> {
  const emailsForgotten = await requestStoreFromEnv().forgetEmails();
  logger.info('emails forgotten', { emailsForgotten });
  return { emailsForgotten };
}

export const handler = middy(async () => runForgetEmails());
