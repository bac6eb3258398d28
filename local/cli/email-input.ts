import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, ExitCode } from './exit-codes';

/**
 * The subject's email from the command line or from a file (README "The CLI"): an argument is
 * visible to every user of the machine in `ps` and lands in shell history; `--email-file FILE`
 * (or `-` for stdin) keeps it out of both. The file holds the address alone; surrounding
 * whitespace and a final newline are ignored. Its content is never echoed.
 */

export interface EmailFileOption {
  emailFile?: string;
}

/** Adds `--email-file` to a command whose `[email]` argument it replaces. */
export function withEmailFileOption(cmd: Command): Command {
  return cmd.option(
    '--email-file <file>',
    "read the subject's email from <file> (- for stdin), not the command line",
  );
}

/** The email given one way or the other, never both; exit 2 otherwise. */
export function emailFrom(argument: string | undefined, o: EmailFileOption): string {
  if (argument !== undefined && o.emailFile !== undefined) {
    throw new CliError(ExitCode.BadInput, 'give the email as an argument or with --email-file, not both');
  }
  if (o.emailFile === undefined) {
    if (argument === undefined)
      throw new CliError(ExitCode.BadInput, "give the subject's email, or --email-file FILE");
    return argument;
  }
  const from = o.emailFile === '-' ? 'stdin' : o.emailFile;
  let text: string;
  try {
    text = readFileSync(o.emailFile === '-' ? 0 : o.emailFile, 'utf8');
  } catch (err) {
    throw new CliError(
      ExitCode.BadInput,
      `cannot read the email from ${from} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const email = text.trim();
  if (email === '') throw new CliError(ExitCode.BadInput, `${from} holds no email`);
  if (/\r|\n/.test(email)) throw new CliError(ExitCode.BadInput, `${from} must hold one email, on one line`);
  return email;
}
