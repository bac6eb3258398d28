import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { parseInstant, receivedAtProblem } from '../../lambdas/core/ledger';
import { emailSha256, normalizeEmail } from '../../lambdas/core/privacy';
import { type RequestSubmission, requestSubmission, validate } from '../../lambdas/core/request-contract';

/**
 * The CSV of `qualtrics-dsr import` (README "Bulk"): RFC 4180 (quoted fields, CRLF or LF, a UTF-8
 * BOM) read by csv-parse, a header row naming the columns, one request per row. Every row is
 * checked by the request contract before anything is submitted; a problem names the row's line and
 * the rule, never a value (a bad cell may be an email). A row without an idempotency key gets one
 * derived from its content, so importing the same file twice records nothing new.
 */

export const IMPORT_COLUMNS = [
  'type',
  'email',
  'jurisdiction',
  'receivedAt',
  'channel',
  'dryRun',
  'idempotencyKey',
] as const;
type Column = (typeof IMPORT_COLUMNS)[number];
const REQUIRED: readonly Column[] = ['type', 'email'];

export interface ImportRow {
  /** Line of the file the row starts on (the header is line 1). */
  line: number;
  /** The validated submission, its idempotency key given or derived. */
  submission?: RequestSubmission;
  /** Why the row is refused (field and rule only). */
  problem?: string;
}

/** The file itself cannot be read as an import (no header, unknown columns, broken CSV). */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

/** Every data row of `text`, each valid (with its submission) or not (with its problem). */
export function readImportCsv(text: string, now: Date = new Date()): ImportRow[] {
  const bytes = Buffer.from(text, 'utf8');
  let records: Array<{ record: string[]; info: { bytes: number } }>;
  try {
    records = parse(bytes, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (err) {
    // csv-parse's messages may quote the field they stopped at: its code and line only.
    const { code, lines } = err as { code?: string; lines?: number };
    throw new ImportFileError(
      `the file is not valid CSV${lines ? ` at line ${lines}` : ''} (${code ?? 'parse error'})`,
    );
  }
  const [header, ...rows] = records;
  if (!header)
    throw new ImportFileError(
      'the file is empty: it needs a header row (type,email,…) and one row per request',
    );
  const columns = header.record.map((name) => name.trim());
  const unknown = columns.flatMap((name, i) =>
    (IMPORT_COLUMNS as readonly string[]).includes(name) ? [] : [i + 1],
  );
  if (unknown.length > 0) {
    // Not named: a first row that is data, not a header, would put an email here.
    throw new ImportFileError(
      `the header row must name columns from ${IMPORT_COLUMNS.join(',')}; ${
        unknown.length > 1 ? `columns ${unknown.join(', ')} are` : `column ${unknown[0]} is`
      } none of them`,
    );
  }
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0)
    throw new ImportFileError(`the header row lacks the required column ${missing.join(' and ')}`);
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (repeated.length > 0) throw new ImportFileError(`the header row names ${repeated[0]} twice`);
  if (rows.length === 0) throw new ImportFileError('the file has a header row but no request rows');

  const lines = lineCounter(bytes);
  return rows.map(({ record }, i) => {
    const line = lines.startOfRecordAfter(records[i]!.info.bytes);
    if (record.length > columns.length) return { line, problem: 'the row has more fields than the header' };
    return { line, ...rowSubmission(columns as Column[], record, now) };
  });
}

/**
 * The line a record starts on, from where the one before it ended (`info.bytes`, an offset in the
 * file), counted once through the file: csv-parse's own line count takes a CRLF inside a quoted
 * field for two lines.
 */
function lineCounter(bytes: Buffer): { startOfRecordAfter(previousEnd: number): number } {
  let at = 0;
  let line = 1;
  return {
    startOfRecordAfter(previousEnd) {
      let start = previousEnd;
      while (bytes[start] === 0x0d || bytes[start] === 0x0a) start++; // blank lines are skipped
      for (; at < start; at++) if (bytes[at] === 0x0a) line++;
      return line;
    },
  };
}

function rowSubmission(
  columns: readonly Column[],
  record: readonly string[],
  now: Date,
): { submission: RequestSubmission } | { problem: string } {
  const fields: Record<string, unknown> = {};
  for (const [i, column] of columns.entries()) {
    const value = (record[i] ?? '').trim();
    if (value === '') continue;
    if (column === 'dryRun') {
      const flag = value.toLowerCase();
      if (flag !== 'true' && flag !== 'false') return { problem: 'dryRun must be true or false (or empty)' };
      fields.dryRun = flag === 'true';
    } else fields[column] = value;
  }
  const checked = validate(requestSubmission, fields);
  if (!checked.ok) return { problem: checked.problems.join('; ') };
  const submission = checked.value;
  const receivedAt = submission.receivedAt === undefined ? undefined : parseInstant(submission.receivedAt);
  const tooFar = receivedAt && receivedAtProblem(receivedAt, now);
  if (tooFar) return { problem: tooFar };
  return {
    submission: {
      ...submission,
      idempotencyKey: submission.idempotencyKey ?? derivedKey(submission, receivedAt),
    },
  };
}

/**
 * `import:<sha256>` of the row's normalized content (type, the email's hash, jurisdiction, receipt
 * time, channel, dry run): the same row in the same or another file is the same request.
 */
export function derivedKey(s: RequestSubmission, receivedAt?: Date): string {
  const content = [
    s.type,
    emailSha256(normalizeEmail(s.email)),
    s.jurisdiction ?? '',
    receivedAt?.toISOString() ?? '',
    s.channel ?? '',
    s.dryRun === undefined ? '' : String(s.dryRun),
  ].join('|');
  return `import:${createHash('sha256').update(content).digest('hex')}`;
}
