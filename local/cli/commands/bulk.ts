import { readFileSync } from 'node:fs';
import {
  type BatchItemResult,
  type BulkRetryResult,
  bulkRetryRequest,
  MAX_BATCH_REQUESTS,
} from '../../../lambdas/core/api';
import { type RequestStatus, validate } from '../../../lambdas/core/request-contract';
import { withBackend } from '../backend/lazy';
import type { Session } from '../backend/session';
import { CliError, ExitCode } from '../exit-codes';
import { ImportFileError, readImportCsv } from '../import-csv';
import type { CommonOptions } from '../main';
import { createProgress } from '../progress';
import { createProgressBar } from '../progress-bar';

/**
 * `retry --failed [filters]` and `import FILE.csv` (README "Bulk"): many requests at once, through
 * the data dir's API (README "Several processes, one data dir") or `--api`'s (`retry --failed`):
 * the retry route, the batch route. Both follow every request they started to its end and exit 0
 * when all COMPLETED, 1 when any ended FAILED.
 */

export interface RetryFailedOptions extends CommonOptions {
  type?: string;
  since?: string;
  until?: string;
  errorCode?: string;
}

export async function retryFailedCommand(o: RetryFailedOptions): Promise<number> {
  const filter = {
    status: 'FAILED',
    ...(o.type === undefined ? {} : { type: o.type }),
    ...(o.since === undefined ? {} : { since: o.since }),
    ...(o.until === undefined ? {} : { until: o.until }),
    ...(o.errorCode === undefined ? {} : { errorCode: o.errorCode }),
  };
  // Checked by the route's own rules first, so a bad filter ends before anything is opened.
  const checked = validate(bulkRetryRequest, filter);
  if (!checked.ok) throw new CliError(ExitCode.BadInput, `invalid option: ${checked.problems.join('; ')}`);
  return bulkRun(o, async (session) => {
    // Once: a bulk retry is not repeated if the owner goes away meanwhile (it would take the next ones).
    const body = await session.backend.client.retryFailed(checked.value);
    const { statuses } = await followAll(session, body.retried, 'retried request(s) done');
    const summary: BulkRetryResult = { retried: body.retried, skipped: body.skipped };
    const human = [
      `${body.retried.length} FAILED request(s) retried, ${body.skipped.length} skipped`,
      ...body.retried.map((id) => `  ${id} ${statuses.get(id) ?? 'not finished'}`),
      ...body.skipped.map((s) => `  ${s.requestId} skipped: ${s.reason}`),
      '',
    ].join('\n');
    process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : human);
    return [...statuses.values()].includes('FAILED') ? ExitCode.RequestFailed : ExitCode.Ok;
  });
}

export interface ImportOptions extends CommonOptions {
  skipInvalid?: boolean;
}

/** What `import --json` prints: one entry per data row, in file order. */
interface ImportedRow {
  line: number;
  requestId?: string;
  status?: RequestStatus;
  error?: { code: string; message: string };
}

/** At most this many refused rows are listed on stderr (the rest are counted). */
const LISTED_PROBLEMS = 50;

export async function importCommand(file: string, o: ImportOptions): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(
      ExitCode.BadInput,
      `cannot read ${file === '-' ? 'stdin' : file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let rows: ReturnType<typeof readImportCsv>;
  try {
    rows = readImportCsv(text);
  } catch (err) {
    if (err instanceof ImportFileError)
      throw new CliError(ExitCode.BadInput, `invalid import file: ${err.message}`);
    throw err;
  }
  const invalid = rows.filter((r) => r.problem !== undefined);
  for (const r of invalid.slice(0, LISTED_PROBLEMS))
    process.stderr.write(`qualtrics-dsr: line ${r.line}: ${r.problem}\n`);
  if (invalid.length > LISTED_PROBLEMS) {
    process.stderr.write(`qualtrics-dsr: … and ${invalid.length - LISTED_PROBLEMS} more invalid row(s)\n`);
  }
  if (invalid.length > 0 && !o.skipInvalid) {
    throw new CliError(
      ExitCode.BadInput,
      `nothing was submitted: ${invalid.length} of ${rows.length} row(s) are invalid (fix them, or import with --skip-invalid to submit the others)`,
    );
  }
  const valid = rows.filter((r) => r.submission !== undefined);
  return bulkRun(o, async (session) => {
    const bar = createProgressBar(valid.length, 'row(s) submitted');
    const submitted: BatchItemResult[] = [];
    for (let at = 0; at < valid.length; at += IMPORT_BATCH_ROWS) {
      const chunk = valid
        .slice(at, at + IMPORT_BATCH_ROWS)
        .flatMap((r) => (r.submission ? [r.submission] : []));
      // Every row has an idempotency key (given or derived): a batch sent again records nothing twice.
      const results = await session.retrying((b) => b.client.submitBatch(chunk));
      submitted.push(...results.map((r) => ({ ...r, index: r.index + at })));
      bar.tick(chunk.length);
    }
    bar.done();
    const started = submitted.flatMap((r) =>
      r.requestId && r.status !== 'COMPLETED' && r.status !== 'FAILED' ? [r.requestId] : [],
    );
    const { statuses } = await followAll(session, started, 'request(s) done');
    const byLine = new Map(valid.map((r, i) => [r.line, submitted[i]!]));
    const results: ImportedRow[] = rows.map((r) => {
      if (r.problem !== undefined)
        return { line: r.line, error: { code: 'INVALID_ROW', message: r.problem } };
      const s = byLine.get(r.line)!;
      if (!s.requestId) return { line: r.line, ...(s.error ? { error: s.error } : {}) };
      return { line: r.line, requestId: s.requestId, status: statuses.get(s.requestId) ?? s.status };
    });
    const failed = results.filter(
      (r) => r.status === 'FAILED' || (r.error && r.error.code !== 'INVALID_ROW'),
    );
    const completed = results.filter((r) => r.status === 'COMPLETED').length;
    process.stdout.write(
      o.json
        ? `${JSON.stringify({ results })}\n`
        : `${completed} of ${rows.length} row(s) COMPLETED, ${failed.length} FAILED, ${invalid.length} invalid\n${results
            .filter((r) => r.error || r.status === 'FAILED')
            .map(
              (r) =>
                `  line ${r.line}: ${r.requestId ?? ''}${r.requestId ? ' ' : ''}${r.status ?? r.error?.code}${r.error ? `: ${r.error.message}` : ''}`,
            )
            .join('\n')}${failed.length + invalid.length > 0 ? '\n' : ''}`,
    );
    return failed.length > 0 ? ExitCode.RequestFailed : ExitCode.Ok;
  });
}

/**
 * Rows sent in one `POST /requests/batch`: a tenth of what the route takes (MAX_BATCH_REQUESTS), so
 * the progress bar moves as batches are answered.
 */
const IMPORT_BATCH_ROWS = MAX_BATCH_REQUESTS / 10;

/** The data dir's API for a bulk run, its first progress line saying who runs the requests. */
function bulkRun(o: CommonOptions, action: (session: Session) => Promise<number>): Promise<number> {
  return withBackend(o, async (session) => {
    const progress = createProgress();
    progress.line(session.backend.describe());
    progress.done();
    await session.backend.preflight();
    return action(session);
  });
}

/**
 * Follows each request to its end where it runs, with a bar; the status of each that ended (a
 * request left out was still running when the command was stopped).
 */
async function followAll(
  session: Session,
  requestIds: readonly string[],
  label: string,
): Promise<{ statuses: Map<string, RequestStatus> }> {
  const bar = createProgressBar(requestIds.length, label);
  const statuses = new Map<string, RequestStatus>();
  await session.followAllToEnd(requestIds, (requestId, status) => {
    statuses.set(requestId, status);
    bar.tick();
  });
  bar.done();
  return { statuses };
}
