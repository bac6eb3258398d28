import { withoutRawEmails } from '../evidence';
import { REQUESTS_TABLE_INDEXES } from '../tables';
import { EmailForgottenError } from './errors';
import { FORGET_PARTITION } from './ledger-attributes';
import { allItems } from './ledger-queries';
import type { RequestTable } from './table';
import type { RecordWithEmail, RequestRecord } from './types';
import { combine, type UpdateSpec } from './update-expression';
import { appendToTimeline, statusIs, timelineEntry } from './updates';

/**
 * Minimization (README "Retention"): a request's raw email is kept while something may need it
 * (its workflow, a retry, an export), and erased once it has been answered long enough ago.
 */

/** The record, which must still hold the subject's email (EmailForgottenError otherwise). */
export function requireEmail(record: RequestRecord): RecordWithEmail {
  if (typeof record.email !== 'string') throw new EmailForgottenError(record.requestId);
  return record as RecordWithEmail;
}

/**
 * Erases the raw email from every COMPLETED request whose `forgetEmailAt` has come. The hash and
 * the masked email stay (find still works), `emailForgottenAt` says when, and the record leaves the
 * `byEmailForgetAt` index, so each run reads only what is due. The evidence's `emailsNotFound` is
 * masked and hashed from the start; one recorded before that (raw addresses) is masked here too.
 * Returns how many records it changed.
 */
export async function forgetEmails(table: RequestTable, now: Date): Promise<number> {
  const due = allItems(table, {
    index: REQUESTS_TABLE_INDEXES.byEmailForgetAt,
    partition: FORGET_PARTITION,
    upTo: now.toISOString(),
    newestFirst: false,
    filters: [],
  });
  let forgotten = 0;
  for await (const key of due) {
    const record = await table.getItem<RequestRecord>(String(key.pk));
    if (!record) continue;
    const parts: UpdateSpec[] = [
      {
        set: ['emailForgottenAt = :forgottenAt'],
        remove: ['email', 'forgetPartition', 'forgetEmailAt'],
        values: { ':forgottenAt': now.toISOString(), ':due': now.toISOString() },
        // Still due: a concurrent run, or a record that changed meanwhile, is left alone.
        condition: 'forgetEmailAt <= :due',
      },
      statusIs('COMPLETED'),
      appendToTimeline(
        timelineEntry(now, 'EMAIL_FORGOTTEN', "the subject's email was erased (minimization)"),
      ),
    ];
    const notFound = (record.evidence as { emailsNotFound?: unknown } | undefined)?.emailsNotFound;
    if (Array.isArray(notFound) && notFound.some((e) => typeof e === 'string')) {
      parts.push({
        set: ['evidence.emailsNotFound = :notFound'],
        values: { ':notFound': withoutRawEmails({ emailsNotFound: notFound }).emailsNotFound },
      });
    }
    if (await table.updateRecord(record.requestId, 'forgetEmails', combine(...parts), now)) forgotten++;
  }
  return forgotten;
}
