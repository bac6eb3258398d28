import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { extensionRequest, subjectSearch } from '../../../lambdas/core/api/body';
import { ApiError } from '../../../lambdas/core/api/errors';
import type { QueryParameters } from '../../../lambdas/core/api/http';
import { parseListQuery, parseRecordsQuery } from '../../../lambdas/core/api/ledger-query';
import {
  CHANNELS,
  JURISDICTIONS,
  LIST_LIMIT_MAX,
  parseInstant,
  receivedAtProblem,
  recordsCsv,
} from '../../../lambdas/core/ledger';
import {
  normalizeRequestId,
  REQUEST_STATUSES,
  REQUEST_TYPES,
  validate,
} from '../../../lambdas/core/request-contract';
import type { RequestSummary } from '../../../lambdas/core/request-store';
import { withBackend } from '../backend/lazy';
import { type EmailFileOption, emailFrom, withEmailFileOption } from '../email-input';
import { CliError, ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';

/**
 * The ledger's commands (README "The request ledger"): `list`, `find`, `records` and `extend`, and
 * the ledger flags of `access` and `delete`, through the data dir's API (no Qualtrics). Filters and
 * bodies are checked by the HTTP API's own rules first, so both refuse alike.
 */

export interface ListOptions extends CommonOptions {
  status?: string;
  type?: string;
  jurisdiction?: string;
  overdue?: boolean;
  since?: string;
  until?: string;
  limit?: number;
  csv?: boolean;
}

export interface RecordsOptions extends CommonOptions {
  since?: string;
  until?: string;
  out?: string;
}

/** `--jurisdiction`, `--received-at`, `--channel` of `access` and `delete`. */
export interface SubmissionLedgerOptions {
  jurisdiction?: string;
  receivedAt?: string;
  channel?: string;
}

type Common = (cmd: Command, opts?: { json?: boolean }) => Command;
type Run = (action: () => Promise<number>) => void;

const positiveInteger = (value: string) => {
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : 0;
  if (n < 1) throw new InvalidArgumentError('--limit must be a positive whole number');
  return n;
};

// Values are checked by the request contract and the HTTP API's query rules (not commander's
// `choices`, whose message would quote the value back).
const values = (list: readonly string[]) => list.join('|');

/** Adds the ledger flags to a submitting command (`access`, `delete`). */
export function withSubmissionLedgerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--jurisdiction <law>',
      `${values(JURISDICTIONS)}: the law the request is answered under (default QDSR_DEFAULT_JURISDICTION, else gdpr)`,
    )
    .option(
      '--received-at <instant>',
      'when you received the request: ISO-8601 with Z or an offset (default now)',
    )
    .option(
      '--channel <channel>',
      `${values(CHANNELS)}: how the person made the request (default unspecified)`,
    );
}

/** The ledger fields of a submission, as given (the request contract validates them). */
export function submissionLedgerFields(o: SubmissionLedgerOptions): SubmissionLedgerOptions {
  return {
    ...(o.jurisdiction === undefined ? {} : { jurisdiction: o.jurisdiction }),
    ...(o.receivedAt === undefined ? {} : { receivedAt: o.receivedAt }),
    ...(o.channel === undefined ? {} : { channel: o.channel }),
  };
}

/**
 * Refuses a receipt time the store would refuse (more than 5 minutes ahead, more than 400 days
 * back) before the command starts Qualtrics and the workflow: exit 2 with the one rule.
 */
export function checkReceiptTime(receivedAt: string | undefined, now = new Date()): void {
  const at = receivedAt === undefined ? undefined : parseInstant(receivedAt);
  const problem = at && receivedAtProblem(at, now);
  if (problem) throw new CliError(ExitCode.BadInput, `invalid request: ${problem}`);
}

/** Registers `list`, `find`, `records` and `extend`. */
export function addLedgerCommands(program: Command, common: Common, run: Run): void {
  common(program.command('list'))
    .description('list requests, newest receipt first (every page), with their due dates')
    .option('--status <status>', `only this status: ${values(REQUEST_STATUSES)}`)
    .option('--type <type>', `only this type: ${values(REQUEST_TYPES)}`)
    .option('--jurisdiction <law>', `only this jurisdiction: ${values(JURISDICTIONS)}`)
    .option('--overdue', 'only requests past their due date and not COMPLETED')
    .option('--no-overdue', 'only requests not overdue')
    .option('--since <time>', 'received at or after (ISO-8601 instant, or YYYY-MM-DD = 00:00 UTC)')
    .option('--until <time>', 'received before (same forms)')
    .addOption(new Option('--limit <n>', 'at most n requests (default: all)').argParser(positiveInteger))
    .addOption(new Option('--csv', 'print the records CSV of the requests listed').conflicts('json'))
    .action(async (o: ListOptions) => run(async () => list(o)));

  withEmailFileOption(
    common(program.command('find').argument('[email]', "the data subject's email (never printed)")),
  )
    .description("every request for a subject (matched on the email's hash), newest receipt first")
    .action(async (email: string | undefined, o: CommonOptions & EmailFileOption) =>
      run(async () => find(emailFrom(email, o), o)),
    );

  common(program.command('records'), { json: false })
    .description('the request records as CSV (date, nature, manner, response; no email)')
    .option('--since <time>', 'received at or after (ISO-8601 instant, or YYYY-MM-DD = 00:00 UTC)')
    .option('--until <time>', 'received before (same forms)')
    .option('--out <file>', 'write the CSV to <file> instead of stdout')
    .action(async (o: RecordsOptions) => run(async () => records(o)));

  common(program.command('extend').argument('<requestId>', 'an open request, within its first period'))
    .description('extend the due date once (GDPR: to 3 months; CCPA/us-state: to 90 days)')
    .requiredOption(
      '--reason <text>',
      'why the longer period is needed (1-500 characters; kept in the record only)',
    )
    .action(async (requestId: string, o: CommonOptions & { reason: string }) =>
      run(async () => extend(requestId, o)),
    );
}

export async function list(o: ListOptions): Promise<number> {
  const flags = given({
    status: o.status,
    type: o.type,
    jurisdiction: o.jurisdiction,
    overdue: o.overdue === undefined ? undefined : String(o.overdue),
    since: o.since,
    until: o.until,
  });
  // Checked here by the API's own rules, so a bad flag ends before the data dir is opened.
  badInput(() => parseListQuery(flags));
  return withBackend(o, async (session) => {
    const wanted = o.limit ?? Number.POSITIVE_INFINITY;
    const requests: RequestSummary[] = [];
    let cursor: string | undefined;
    do {
      const limit = String(Math.min(LIST_LIMIT_MAX, wanted - requests.length));
      const page = await session.retrying((b) =>
        b.client.listRequests({ ...flags, limit: [limit], ...(cursor ? { cursor: [cursor] } : {}) }),
      );
      requests.push(...page.requests);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && requests.length < wanted);
    if (o.csv) process.stdout.write(recordsCsv(requests));
    else printRequests(o, requests);
    return ExitCode.Ok;
  });
}

export async function find(email: string, o: CommonOptions): Promise<number> {
  const search = validate(subjectSearch, { email });
  if (!search.ok) throw new CliError(ExitCode.BadInput, `invalid email: ${search.problems.join('; ')}`);
  return withBackend(o, async (session) => {
    const { requests } = await session.retrying((b) => b.client.searchRequests(search.value.email));
    printRequests(o, requests);
    return ExitCode.Ok;
  });
}

export async function records(o: RecordsOptions): Promise<number> {
  const range = given({ since: o.since, until: o.until });
  badInput(() => parseRecordsQuery(range));
  return withBackend(o, async (session) => {
    const csv = await session.retrying((b) => b.client.records(range));
    if (o.out === undefined) {
      process.stdout.write(csv);
    } else {
      writeFileSync(o.out, csv, { mode: 0o600 });
      const rows = Math.max(0, csv.split('\r\n').filter((line) => line !== '').length - 1);
      process.stderr.write(`${rows} request record(s) written to ${o.out}\n`);
    }
    return ExitCode.Ok;
  });
}

export async function extend(idArgument: string, o: CommonOptions & { reason: string }): Promise<number> {
  const requestId = normalizeRequestId(idArgument);
  if (!requestId) throw new CliError(ExitCode.BadInput, 'unknown request id (expected a UUID)');
  const body = validate(extensionRequest, { reason: o.reason });
  if (!body.ok) throw new CliError(ExitCode.BadInput, `invalid extension: ${body.problems.join('; ')}`);
  return withBackend(o, async (session) => {
    // Once: an extension is not repeated if the owner goes away meanwhile.
    const doc = await session.backend.client.extend(requestId, body.value.reason);
    const human = `request ${doc.requestId}: due date extended to ${doc.extendedDueAt} (${doc.jurisdiction})\n`;
    process.stdout.write(o.json ? `${JSON.stringify(doc)}\n` : human);
    return ExitCode.Ok;
  });
}

/** The flags given, as the query string the HTTP API would receive. */
export function given(flags: Record<string, string | undefined>): QueryParameters {
  return Object.fromEntries(
    Object.entries(flags).flatMap(([name, value]) => (value === undefined ? [] : [[name, [value]]])),
  );
}

/** The HTTP API's 400 as exit 2, with the same message (it names the flag's rule, not its value). */
export function badInput<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(ExitCode.BadInput, `invalid option: --${err.message}`);
    throw err;
  }
}

function printRequests(o: CommonOptions, requests: RequestSummary[]): void {
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ requests })}\n`);
    return;
  }
  process.stdout.write(requestTable(requests, new Date()));
}

const DAY_MS = 86_400_000;

/** The human table: one line per request, the due date that applies and the days left on it. */
export function requestTable(requests: readonly RequestSummary[], now: Date): string {
  if (requests.length === 0) return 'no requests\n';
  const rows = requests.map((r) => {
    const due = r.extendedDueAt ?? r.dueAt;
    let left: string;
    if (r.status === 'COMPLETED') left = 'done';
    else if (r.overdue) left = 'OVERDUE';
    else left = String(Math.ceil((Date.parse(due) - now.getTime()) / DAY_MS));
    return [
      r.requestId,
      r.type,
      r.status,
      r.jurisdiction,
      minute(r.receivedAt),
      `${minute(due)}${r.extendedDueAt ? ' (ext)' : ''}`,
      left,
      r.maskedEmail,
    ];
  });
  const header = [
    'id',
    'type',
    'status',
    'jurisdiction',
    'received (UTC)',
    'due (UTC)',
    'days left',
    'email',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** `2026-01-31T10:00:00.000Z` → `2026-01-31 10:00`. */
function minute(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
