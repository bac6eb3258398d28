import { readFileSync } from 'node:fs';
import { createApi, MAX_BATCH_REQUESTS, submitBatch } from '../../../lambdas/core/api';
import type { BatchItemResult, BulkRetryResult } from '../../../lambdas/core/api/bulk';
import type { RequestStatus } from '../../../lambdas/core/request-contract';
import { workflowDeps } from '../../../lambdas/core/workflow/deps';
import { type BackgroundWorkflows, createBackgroundWorkflows } from '../../api/background-workflows';
import { type Runtime, startRuntime } from '../../runtime';
import { preflight } from '../backend/owner-backend';
import { CliError, ExitCode } from '../exit-codes';
import { ImportFileError, readImportCsv } from '../import-csv';
import type { CommonOptions } from '../main';
import { createProgress } from '../progress';
import { createProgressBar } from '../progress-bar';

/**
 * `retry --failed [filters]` and `import FILE.csv` (README "Bulk"): many requests at once, in this
 * process. Both go through the HTTP API's own core (the retry route, the batch submission), run
 * every request they started to its end in the background workflows, and exit 0 when all
 * COMPLETED, 1 when any ended FAILED.
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
  return inProcess(o, async (runtime, workflows) => {
    await preflight(runtime);
    // The route itself, called in-process: the same filters, bound and reasons as over HTTP.
    const api = createApi({
      store: workflowDeps().store,
      starter: workflows,
      bundles: workflowDeps().writer,
      checkConnection: () => Promise.reject(new Error('not used')),
    });
    const res = await api({
      method: 'POST',
      path: '/requests/retry',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(filter),
    });
    const body = JSON.parse(res.body) as BulkRetryResult & { error?: { code: string; message: string } };
    if (res.statusCode === 400)
      throw new CliError(ExitCode.BadInput, `invalid option: ${body.error?.message}`);
    if (res.statusCode !== 200)
      throw new CliError(ExitCode.ConfigOrConnection, `${body.error?.code}: ${body.error?.message}`);
    const statuses = await runToTheirEnd(workflows, body.retried, 'retried request(s) done');
    const summary: BulkRetryResult = { retried: body.retried, skipped: body.skipped };
    const human = [
      `${body.retried.length} FAILED request(s) retried, ${body.skipped.length} skipped`,
      ...body.retried.map((id) => `  ${id} ${statuses.get(id)}`),
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
  return inProcess(o, async (runtime, workflows) => {
    await preflight(runtime);
    const deps = { store: workflowDeps().store, starter: workflows };
    const bar = createProgressBar(valid.length, 'row(s) submitted');
    const submitted: BatchItemResult[] = [];
    for (let at = 0; at < valid.length; at += MAX_BATCH_REQUESTS) {
      const chunk = valid.slice(at, at + MAX_BATCH_REQUESTS);
      const results = await submitBatch(
        deps,
        chunk.map((r) => r.submission),
        'import',
        () => bar.tick(),
      );
      submitted.push(...results.map((r) => ({ ...r, index: r.index + at })));
    }
    bar.done();
    const started = submitted.flatMap((r) =>
      r.requestId && r.status !== 'COMPLETED' && r.status !== 'FAILED' ? [r.requestId] : [],
    );
    const statuses = await runToTheirEnd(workflows, started, 'request(s) done');
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

/** This process owns the data dir and runs the workflows it starts; stopped cleanly at the end. */
async function inProcess(
  o: CommonOptions,
  action: (runtime: Runtime, workflows: BackgroundWorkflows) => Promise<number>,
): Promise<number> {
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const workflows = createBackgroundWorkflows({ waitScale: runtime.waitScale });
  const progress = createProgress();
  try {
    progress.line(runtime.describe());
    progress.done();
    return await action(runtime, workflows);
  } finally {
    await workflows.shutdown({ graceMs: 0, stepGraceMs: 0 });
    await runtime.close();
  }
}

/** Waits for each request's workflow in this process, with a bar; the final status of each. */
async function runToTheirEnd(
  workflows: BackgroundWorkflows,
  requestIds: readonly string[],
  label: string,
): Promise<Map<string, RequestStatus>> {
  const bar = createProgressBar(requestIds.length, label);
  const store = workflowDeps().store;
  const statuses = new Map<string, RequestStatus>();
  await Promise.all(
    requestIds.map(async (id) => {
      await workflows.settled(id);
      const record = await store.get(id);
      if (record) statuses.set(id, record.status);
      bar.tick();
    }),
  );
  bar.done();
  return statuses;
}
