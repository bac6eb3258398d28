import { REQUESTS_TABLE_INDEXES } from '../tables';
import { EmailForgottenError } from './errors';
import { FORGET_PARTITION } from './ledger-attributes';
import { allItems } from './ledger-queries';
import { epochSeconds, type RequestTable } from './table';
import type { RecordWithEmail, RequestRecord } from './types';
import { combine, type UpdateSpec } from './update-expression';
import { appendToTimeline, statusIs, timelineEntry } from './updates';

/**
 * How long a record is kept (README "Retention"): `retentionDays` after its response, or after its
 * receipt if it was never answered. Two floors keep a record from being written already expired,
 * which only a retention shorter than the 400 days a receipt may be backdated could do: an open
 * request is kept at least `retentionDays` from now (it must outlive its workflow), and a request
 * that just ended at least a day (so that its failure can be seen and retried).
 */

const DAY_SECONDS = 86_400;

/** The TTL (epoch seconds) of a record written at `now`; `from` is its respondedAt ?? receivedAt. */
export function recordExpiry(
  from: string,
  opts: { retentionDays: number; open: boolean },
  now: Date,
): number {
  const expiry = epochSeconds(new Date(from)) + opts.retentionDays * DAY_SECONDS;
  const floor = epochSeconds(now) + (opts.open ? opts.retentionDays : 1) * DAY_SECONDS;
  return Math.max(expiry, floor);
}

/** The record, which must still hold the subject's email (EmailForgottenError otherwise). */
export function requireEmail(record: RequestRecord): RecordWithEmail {
  if (typeof record.email !== 'string') throw new EmailForgottenError(record.requestId);
  return record as RecordWithEmail;
}

/**
 * Minimization (README "Retention"): erases the raw email — and the evidence's `emailsNotFound`,
 * which is the same address — from every COMPLETED request whose `forgetEmailAt` has come. The
 * hash and the masked email stay (find still works), `emailForgottenAt` says when, and the record
 * leaves the `byEmailForgetAt` index, so each run reads only what is due. Returns how many records
 * it changed.
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
    if (Array.isArray((record.evidence as { emailsNotFound?: unknown } | undefined)?.emailsNotFound)) {
      parts.push({ remove: ['evidence.emailsNotFound'] });
    }
    if (await table.updateRecord(record.requestId, 'forgetEmails', combine(...parts), now)) forgotten++;
  }
  return forgotten;
}
