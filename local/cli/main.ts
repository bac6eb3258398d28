import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { assertQualtricsTarget, unknownSettings } from '../../lambdas/core/config';
import { ConfigError, isDsrError } from '../../lambdas/core/errors';
import { scrubPii } from '../../lambdas/core/request-store/scrub';
import type { ImportOptions, RetryFailedOptions } from './commands/bulk';
import {
  addLedgerCommands,
  type SubmissionLedgerOptions,
  withSubmissionLedgerOptions,
} from './commands/ledger';
import { addReportCommands } from './commands/reports';
import { type EmailFileOption, emailFrom, withEmailFileOption } from './email-input';
import { CliError, ExitCode } from './exit-codes';

/**
 * `qualtrics-dsr` (and `npm start --`): the CLI contract (README "The CLI"). Each command lives in
 * ./commands; this file only parses arguments and maps failures to exit codes. A command's module
 * is loaded when that command runs (`import()` in its action): `--help` and a mistyped command
 * answer without loading the local AWS services, the workflow engine and the AWS SDK.
 */

export interface CommonOptions {
  dataDir: string;
  waitScale?: number;
  json?: boolean;
  /** `--api URL`, `--api-region R` (README "The CLI against a deployment"). */
  api?: string;
  apiRegion?: string;
}

const positiveNumber = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number`);
  return n;
};

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number (0–65535)');
  return n;
};

function common(cmd: Command, opts: { json?: boolean } = { json: true }): Command {
  cmd
    .addOption(
      new Option('--data-dir <dir>', 'where local DynamoDB and S3 keep their data').default(
        './.qualtrics-dsr',
      ),
    )
    .addOption(
      new Option(
        '--wait-scale <factor>',
        'multiplies every wait (polls, limiter waits, Retry backoff, Retry-After)',
      ).argParser(positiveNumber('--wait-scale')),
    );
  if (opts.json) cmd.option('--json', 'print exactly one JSON document (the final summary) on stdout');
  return cmd;
}

/** The commands `--api` sends to an HTTP API instead of the data dir. */
const API_COMMANDS = [
  'status',
  'list',
  'find',
  'records',
  'metrics',
  'retry',
  'extend',
  'evidence',
  'access',
  'delete',
];

/** Adds `--api` and `--api-region` to those commands (`--api` goes without a data dir and its waits). */
function withApiOptions(program: Command, names: readonly string[]): void {
  for (const cmd of program.commands.filter((c) => names.includes(c.name()))) {
    cmd
      .addOption(
        new Option(
          '--api <url>',
          "send the command to this HTTP API: the stack's ApiUrl (SigV4, default AWS credentials) or a local serve",
        ).conflicts(['dataDir', 'waitScale']),
      )
      .option('--api-region <region>', 'with --api: the region to sign for (an API behind a custom domain)');
  }
}

export function buildProgram(run: (action: () => Promise<number>) => void): Command {
  const program = new Command('qualtrics-dsr')
    .description('Fulfil GDPR/CCPA access and deletion requests against Qualtrics')
    .showSuggestionAfterError(true)
    .exitOverride();

  withSubmissionLedgerOptions(
    withEmailFileOption(common(program.command('access').argument('[email]', "the data subject's email"))),
  )
    .description('export everything Qualtrics holds on the subject into a bundle')
    .option('--out <dir>', 'copy the bundle to <dir>/<requestId>/', './exports')
    .action(
      async (
        email: string | undefined,
        o: CommonOptions & SubmissionLedgerOptions & EmailFileOption & { out: string },
      ) => run(async () => (await import('./commands/requests.js')).access(emailFrom(email, o), o)),
    );

  withSubmissionLedgerOptions(
    withEmailFileOption(common(program.command('delete').argument('[email]', "the data subject's email"))),
  )
    .description('erase the subject from Qualtrics (an erasure request), with evidence')
    .option('--dry-run', "only report what would be erased (Qualtrics' searchOnly)")
    .action(
      async (
        email: string | undefined,
        o: CommonOptions & SubmissionLedgerOptions & EmailFileOption & { dryRun?: boolean },
      ) => run(async () => (await import('./commands/requests.js')).deletion(emailFrom(email, o), o)),
    );

  common(program.command('status').argument('<requestId>', 'the id printed when the request was submitted'))
    .description("print a request's status document")
    .action(async (requestId: string, o: CommonOptions) =>
      run(async () => (await import('./commands/requests.js')).status(requestId, o)),
    );

  common(
    program
      .command('retry')
      .argument('[requestId]', 'a FAILED or interrupted request (or --failed for every FAILED one)'),
  )
    .description(
      'resume a FAILED or interrupted request from where it stopped, reusing Qualtrics jobs already created',
    )
    .option('--out <dir>', 'for an access request: copy the bundle to <dir>/<requestId>/', './exports')
    .option('--failed', 'retry every FAILED request that matches the filters below (at most 100 a run)')
    .option('--type <type>', 'with --failed: only access or deletion requests')
    .option('--since <time>', 'with --failed: received at or after (ISO-8601 instant, or YYYY-MM-DD)')
    .option('--until <time>', 'with --failed: received before (same forms)')
    .option('--error-code <code>', 'with --failed: only requests that failed with this code')
    .action(
      async (
        requestId: string | undefined,
        o: CommonOptions & RetryFailedOptions & { out: string; failed?: boolean },
      ) =>
        run(async () => {
          const filters = o.type ?? o.since ?? o.until ?? o.errorCode;
          if (o.failed && requestId !== undefined)
            throw new CliError(ExitCode.BadInput, 'give a request id or --failed, not both');
          if (o.failed) return (await import('./commands/bulk.js')).retryFailedCommand(o);
          if (requestId === undefined)
            throw new CliError(ExitCode.BadInput, 'give the request id to retry, or --failed');
          if (filters !== undefined)
            throw new CliError(
              ExitCode.BadInput,
              '--type, --since, --until and --error-code go with --failed',
            );
          return (await import('./commands/requests.js')).retry(requestId, o);
        }),
    );

  common(
    program
      .command('import')
      .argument('<file>', 'a CSV file (- for stdin): header row, then one request per row'),
  )
    .description(
      'submit a request for each row of a CSV (type,email[,jurisdiction,receivedAt,channel,dryRun,idempotencyKey]) and run them',
    )
    .option('--skip-invalid', 'submit the valid rows even when some are invalid (they are reported)')
    .action(async (file: string, o: ImportOptions) =>
      run(async () => (await import('./commands/bulk.js')).importCommand(file, o)),
    );

  common(program.command('export').argument('<requestId>', 'a COMPLETED access request'))
    .description("copy a completed access request's bundle from the data dir to <dir>/<requestId>/")
    .option('--out <dir>', 'copy the bundle to <dir>/<requestId>/', './exports')
    .action(async (requestId: string, o: CommonOptions & { out: string }) =>
      run(async () => (await import('./commands/requests.js')).exportBundle(requestId, o)),
    );

  addLedgerCommands(program, common, run);
  addReportCommands(program, common, run);
  withApiOptions(program, API_COMMANDS);

  common(program.command('sweep'))
    .description(
      'resume stalled requests, send due-soon and overdue events, erase the emails due (serve does this every 10 minutes)',
    )
    .action(async (o: CommonOptions) => run(async () => (await import('./commands/sweep.js')).sweep(o)));

  common(program.command('health'))
    .description('check the Qualtrics connection: token, whoami, granted vs required scopes')
    .action(async (o: CommonOptions) => run(async () => (await import('./commands/health.js')).health(o)));

  common(program.command('serve'), { json: false })
    .description('the HTTP API (same routes as API Gateway) on 127.0.0.1')
    .addOption(new Option('--port <port>', 'port on 127.0.0.1').default(3000).argParser(port))
    .action(async (o: CommonOptions & { port: number }) =>
      run(async () => (await import('./commands/serve.js')).serve(o)),
    );

  program
    .command('simulator')
    .description('run the built-in Qualtrics simulator on its own (127.0.0.1)')
    .addOption(new Option('--port <port>', 'port on 127.0.0.1').default(4010).argParser(port))
    .addOption(
      new Option(
        '--time-scale <factor>',
        'multiplies simulated durations (rate-limit window, jobs, token TTL)',
      )
        .default(1)
        .argParser(positiveNumber('--time-scale')),
    )
    .action(async (o: { port: number; timeScale: number }) =>
      run(async () => (await import('./commands/simulator.js')).simulator(o)),
    );

  return program;
}

/** Runs the CLI; resolves the exit code (the process exits with it). */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let pending: Promise<void> | undefined;
  const program = buildProgram((action) => {
    pending = (async () => {
      checkSettings();
      return action();
    })().then(
      (code) => {
        exitCode = code;
      },
      (err) => {
        exitCode = reportError(err);
      },
    );
  });
  const output = {
    writeErr: (s: string) => process.stderr.write(s),
    writeOut: (s: string) => process.stdout.write(s),
    // Commander quotes a bad option or argument back (`unknown option '--…'`): never an address.
    outputError: (s: string, write: (s: string) => void) => write(scrubPii(s)),
  };
  // Subcommands copied their parent's settings when they were made: configure each.
  for (const cmd of [program, ...program.commands]) cmd.configureOutput(output);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors.
      if (err.exitCode === 0) return ExitCode.Ok;
      return ExitCode.BadInput;
    }
    return reportError(err);
  }
  if (pending) await pending;
  return exitCode;
}

/**
 * Before any command: a warning for each unknown QUALTRICS_* / QDSR_* variable (a typo would
 * otherwise be ignored), and exit 3 for credentials with no Qualtrics to send them to.
 */
function checkSettings(): void {
  for (const u of unknownSettings()) {
    process.stderr.write(
      `qualtrics-dsr: warning: ${u.name} is not a qualtrics-dsr setting (ignored); did you mean ${u.closest}?\n`,
    );
  }
  assertQualtricsTarget();
}

function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`qualtrics-dsr: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`qualtrics-dsr: configuration: ${err.message} (fix ${err.setting})\n`);
    return ExitCode.ConfigOrConnection;
  }
  if (isDsrError(err) && err.name === 'Input.Invalid') {
    process.stderr.write(`qualtrics-dsr: ${err.message}\n`);
    return ExitCode.BadInput;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  process.stderr.write(`qualtrics-dsr: ${message}\n`);
  return ExitCode.RequestFailed;
}
