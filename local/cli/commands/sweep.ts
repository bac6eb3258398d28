import { withBackend } from '../backend/session';
import { ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';

/** `qualtrics-dsr sweep [--json]`, run by the data dir's owner (README "Stopping and crash recovery"). */
export async function sweep(o: CommonOptions): Promise<number> {
  return withBackend(o, async (session) => {
    const report = await session.retrying((b) => b.client.sweep());
    if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const ids = (list: string[]) => (list.length === 0 ? 'none' : list.join(' '));
      process.stdout.write(
        [
          `resumed: ${ids(report.resumed)}`,
          `failed: ${ids(report.failed)}`,
          `due soon: ${ids(report.dueSoon)}`,
          `overdue: ${ids(report.overdue)}`,
          `emails forgotten: ${report.emailsForgotten}`,
          '',
        ].join('\n'),
      );
    }
    return ExitCode.Ok;
  });
}
