import { checkConnection } from '../../../lambdas/core/connection-check';
import { ErrorNames, QualtricsError } from '../../../lambdas/core/errors';
import { workflowDeps } from '../../../lambdas/core/workflow/deps';
import { startRuntime } from '../../runtime';
import { CliError, ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';
import { createProgress } from '../progress';

/** `qualtrics-dsr health`: token, whoami and the scope check, through the shared rate limiter. */
export async function health(o: CommonOptions): Promise<number> {
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const progress = createProgress();
  try {
    progress.line(runtime.describe());
    const { api } = await workflowDeps().qualtrics();
    let report: Awaited<ReturnType<typeof checkConnection>>;
    try {
      report = await checkConnection(api, runtime.origin);
    } catch (err) {
      throw connectionError(err, runtime.target);
    }
    const summary = { status: report.ok ? 'ok' : 'failing', target: runtime.target, ...report };
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const q = report.qualtrics;
      process.stdout.write(
        [
          `connection: ${report.ok ? 'ok' : 'FAILING'}`,
          `  Qualtrics: ${q.origin} (brand ${q.brandId}, user ${q.userId}${q.datacenter ? `, datacenter ${q.datacenter}` : ''})`,
          `  scopes required: ${report.scopes.required.join(' ')}`,
          `  scopes granted:  ${report.scopes.granted === null ? '(not reported by Qualtrics)' : report.scopes.granted.join(' ')}`,
          ...report.problems.map((p) => `  problem: ${p}`),
          '',
        ].join('\n'),
      );
    }
    return report.ok ? ExitCode.Ok : ExitCode.ConfigOrConnection;
  } finally {
    progress.done();
    await runtime.close();
  }
}

/** Maps a failed check to exit 3 with the setting to fix; never the secret or a token. */
export function connectionError(err: unknown, target: 'simulator' | 'tenant'): unknown {
  if (!(err instanceof QualtricsError)) return err;
  if (err.name === ErrorNames.Auth) {
    return new CliError(
      ExitCode.ConfigOrConnection,
      `Qualtrics rejected the OAuth client credentials: check QUALTRICS_CLIENT_ID and QUALTRICS_CLIENT_SECRET (${err.message})`,
    );
  }
  if (err.name === ErrorNames.MissingScope) {
    return new CliError(
      ExitCode.ConfigOrConnection,
      `the OAuth client (QUALTRICS_CLIENT_ID) lacks a scope this connector needs (${err.message})`,
    );
  }
  if (err.name === ErrorNames.Transient && err.httpStatus === 0) {
    const setting =
      target === 'tenant' ? 'QUALTRICS_BASE_URL / QUALTRICS_DATACENTER' : 'the built-in simulator';
    return new CliError(
      ExitCode.ConfigOrConnection,
      `cannot reach Qualtrics: check ${setting} (${err.message})`,
    );
  }
  if (err.name === ErrorNames.NotFound) {
    return new CliError(
      ExitCode.ConfigOrConnection,
      `no Qualtrics API at this address: check QUALTRICS_BASE_URL / QUALTRICS_DATACENTER (${err.message})`,
    );
  }
  return err;
}
