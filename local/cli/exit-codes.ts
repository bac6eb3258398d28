/** Exit codes of the CLI contract (README "The CLI"). */
export const ExitCode = {
  Ok: 0,
  RequestFailed: 1,
  BadInput: 2,
  ConfigOrConnection: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a given exit code and a one-line, PII-free message. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
