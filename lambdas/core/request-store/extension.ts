import { InputError } from '../errors';
import { dueDates } from '../ledger/due-dates';
import { type ExtensionRefusal, ExtensionRefusedError } from './errors';
import { ledgerOf } from './ledger-attributes';
import { clip, scrubPii } from './scrub';
import type { RequestTable } from './table';
import type { RequestRecord } from './types';
import { combine } from './update-expression';
import { appendToTimeline, timelineEntry } from './updates';

/**
 * Extending a request's due date (README "Deadlines"): once, before the first due date passes,
 * never once it is COMPLETED — GDPR Art. 12(3) lets the period be extended by two months, CCPA
 * §1798.130(a)(2) by 45 days, each once and announced within the first period. A FAILED request
 * may be extended: it can still be retried.
 */

export const MAX_EXTENSION_REASON = 500;

/** Why the rules refuse an extension of `record` at `now`, or undefined when they allow it. */
function refusal(record: RequestRecord, now: Date): ExtensionRefusal | undefined {
  if (record.status === 'COMPLETED') return 'ALREADY_COMPLETED';
  const ledger = ledgerOf(record);
  if (ledger.extendedDueAt) return 'ALREADY_EXTENDED';
  if (now.getTime() > Date.parse(ledger.dueAt)) return 'OVERDUE';
  return undefined;
}

/**
 * One conditional UpdateItem: whatever happened since the read (a completion, another extension)
 * makes the write fail, and the fresh record says why. The reason is kept in the record alone —
 * the timeline says only the new due date — scrubbed of addresses like every stored text.
 */
export async function extendDueDate(
  table: RequestTable,
  requestId: string,
  reason: string,
): Promise<RequestRecord> {
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_EXTENSION_REASON) {
    throw new InputError(`reason must be 1-${MAX_EXTENSION_REASON} characters`);
  }
  const now = table.now();
  const current = await table.mustGetRecord(requestId);
  const refused = refusal(current, now);
  if (refused) throw new ExtensionRefusedError(current.requestId, refused);
  // Receipt and jurisdiction never change: the extended date computed from this read stands.
  const ledger = ledgerOf(current);
  const { extendedDueAt } = dueDates(ledger.jurisdiction, new Date(ledger.receivedAt));
  const extension = {
    at: now.toISOString(),
    reason: clip(scrubPii(reason, current.email), MAX_EXTENSION_REASON),
  };
  const spec = combine(
    {
      set: [
        'extendedDueAt = :extendedDueAt',
        'effectiveDueAt = :extendedDueAt',
        'extension = :extension',
        'dueAt = if_not_exists(dueAt, :dueAt)',
      ],
      names: { '#status': 'status' },
      values: {
        ':extendedDueAt': extendedDueAt,
        ':extension': extension,
        ':dueAt': ledger.dueAt,
        ':completed': 'COMPLETED',
      },
      condition: 'attribute_not_exists(extendedDueAt) AND #status <> :completed',
    },
    appendToTimeline(timelineEntry(now, 'EXTENDED', `due date extended to ${extendedDueAt}`)),
  );
  const updated = await table.updateRecord(requestId, 'extend', spec, now);
  if (updated) return updated;
  const after = await table.mustGetRecord(requestId);
  throw new ExtensionRefusedError(after.requestId, refusal(after, now) ?? 'ALREADY_EXTENDED');
}
