import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { parseMetricsQuery } from '../../../lambdas/core/api/ledger-query';
import type { YearMetrics } from '../../../lambdas/core/ledger';
import { normalizeRequestId, REQUEST_TYPES, type RequestType } from '../../../lambdas/core/request-contract';
import { ApiCallError } from '../backend/client';
import { withBackend } from '../backend/lazy';
import { CliError, ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';
import { badInput, given } from './ledger';

/**
 * What people read, from the CLI (README "Metrics", "Deletion evidence"): `metrics` and `evidence`,
 * through the data dir's API (or `--api`'s). Arguments are checked by the HTTP API's own rules,
 * and refusals are its own, so both refuse alike; nothing here prints an email.
 */

type Common = (cmd: Command, opts?: { json?: boolean }) => Command;
type Run = (action: () => Promise<number>) => void;

export interface MetricsOptions extends CommonOptions {
  year?: string;
  md?: boolean;
}

export interface EvidenceOptions extends CommonOptions {
  out?: string;
}

/** Registers `metrics` and `evidence`. */
export function addReportCommands(program: Command, common: Common, run: Run): void {
  common(program.command('metrics'))
    .description('yearly request metrics: received, completed, failed, open, days to respond (by type)')
    .option('--year <YYYY>', 'the year the requests were received in (UTC)')
    .addOption(new Option('--md', 'print a Markdown table (for a published report)').conflicts('json'))
    .action(async (o: MetricsOptions) => run(async () => metrics(o)));

  common(program.command('evidence').argument('<requestId>', 'a deletion request'), { json: false })
    .description("print a deletion's evidence (JSON; no raw email), or write it to --out")
    .option('--out <file>', 'write the evidence to <file> (owner-only) instead of stdout')
    .action(async (requestId: string, o: EvidenceOptions) => run(async () => evidence(requestId, o)));
}

export async function evidence(idArgument: string, o: EvidenceOptions): Promise<number> {
  const requestId = normalizeRequestId(idArgument);
  if (!requestId) throw new CliError(ExitCode.BadInput, 'unknown request id (expected a UUID)');
  return withBackend(o, async (session) => {
    let doc: Awaited<ReturnType<typeof session.backend.client.evidence>>;
    try {
      doc = await session.retrying((b) => b.client.evidence(requestId));
    } catch (err) {
      // The API's refusals (404, 409, 410) are the command's bad input: exit 2, the same words.
      if (err instanceof ApiCallError && err.status < 500 && err.status !== 429) {
        throw new CliError(
          ExitCode.BadInput,
          err.status === 404 ? `unknown request id ${requestId}` : `${err.code}: ${err.message}`,
        );
      }
      throw err;
    }
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (o.out === undefined) {
      process.stdout.write(text);
    } else {
      writeFileSync(o.out, text, { mode: 0o600 });
      process.stderr.write(`the evidence of request ${requestId} was written to ${o.out}\n`);
    }
    return ExitCode.Ok;
  });
}

export async function metrics(o: MetricsOptions): Promise<number> {
  const { year } = badInput(() => parseMetricsQuery(given({ year: o.year })));
  return withBackend(o, async (session) => {
    const m = await session.retrying((b) => b.client.metrics(year));
    process.stdout.write(o.json ? `${JSON.stringify(m)}\n` : o.md ? metricsMarkdown(m) : metricsTable(m));
    return ExitCode.Ok;
  });
}

const TYPE_NAMES: Record<RequestType, string> = {
  access: 'Requests to know (access)',
  deletion: 'Requests to delete (deletion)',
};

/** One line per type: the counts, then the days (– when nothing was completed). */
function rowsOf(m: YearMetrics): string[][] {
  const days = (d: number | null) => (d === null ? '–' : d.toFixed(1));
  return REQUEST_TYPES.map((t) => {
    const x = m.byType[t];
    return [
      TYPE_NAMES[t],
      String(x.received),
      String(x.completed),
      String(x.failed),
      String(x.open),
      days(x.medianDaysToRespond),
      days(x.meanDaysToRespond),
    ];
  });
}

const HEADER = ['Received', 'Completed', 'Failed', 'Open', 'Median days to respond', 'Mean days to respond'];

const NOTE =
  'Counted by the date each request was received (UTC); days to respond run from receipt to completion, over the completed requests (– when none was).';

/** The human table. */
export function metricsTable(m: YearMetrics): string {
  const rows = [[`Requests received in ${m.year}`, ...HEADER], ...rowsOf(m)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${rows.map(line).join('\n')}\n${NOTE}\n`;
}

/** A Markdown table a privacy team can paste into its published report. */
export function metricsMarkdown(m: YearMetrics): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line([`Privacy requests received in ${m.year}`, ...HEADER]),
    line(['---', ...HEADER.map(() => '---:')]),
    ...rowsOf(m).map(line),
    '',
    NOTE,
    '',
  ].join('\n');
}
