import type { RequestSummary } from '../request-store/types';

/**
 * The request records export (`GET /records`, `qualtrics-dsr records`): what 11 CCR §7101 and
 * Colorado Rule 6.11 ask a business to keep of each request — when it came and how, what it asked,
 * when and how it was answered, why it failed. No email, not even masked.
 *
 * RFC 4180: CRLF after every line (the header's too), a field in double quotes when it holds a
 * comma, a quote or a line break, quotes doubled. An empty field is an absent value.
 */

export const RECORDS_CSV_COLUMNS = [
  'requestId',
  'receivedAt',
  'type',
  'channel',
  'source',
  'jurisdiction',
  'dueAt',
  'extendedDueAt',
  'respondedAt',
  'status',
  'outcome',
  'errorCode',
  'daysToRespond',
] as const;

export const RECORDS_CSV_HEADER = RECORDS_CSV_COLUMNS.join(',');
export const CSV_LINE_END = '\r\n';

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // A spreadsheet runs a cell that starts like a formula; none of our values does, unless forged.
  if (/^[=+\-@\t\r]/.test(text) && typeof value !== 'number') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One request as one CSV line (with its line end). */
export function recordsCsvLine(r: RequestSummary): string {
  const values: Record<(typeof RECORDS_CSV_COLUMNS)[number], string | number | null | undefined> = {
    requestId: r.requestId,
    receivedAt: r.receivedAt,
    type: r.type,
    channel: r.channel,
    source: r.source,
    jurisdiction: r.jurisdiction,
    dueAt: r.dueAt,
    extendedDueAt: r.extendedDueAt,
    respondedAt: r.respondedAt,
    status: r.status,
    outcome: r.outcome,
    errorCode: r.error?.code,
    daysToRespond: r.daysToRespond,
  };
  return RECORDS_CSV_COLUMNS.map((c) => field(values[c])).join(',') + CSV_LINE_END;
}

/** The header and one line per request, in the order given. */
export function recordsCsv(rows: Iterable<RequestSummary>): string {
  let text = RECORDS_CSV_HEADER + CSV_LINE_END;
  for (const row of rows) text += recordsCsvLine(row);
  return text;
}
