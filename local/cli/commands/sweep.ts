import { describeSweep } from '../../sweep';
import { withBackend } from '../backend/lazy';
import { ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';

/**
 * `qualtrics-dsr sweep [--json]` (README "The sweep"): the sweep once, run by the data dir's owner
 * (this process, or the one it hands the command to). Requests it resumes run there to their end;
 * a command that owns the data dir waits for them before it exits. `--json`:
 * `{"resumed","failed","dueSoon","overdue","emailsForgotten"}`.
 */
export async function sweep(o: CommonOptions): Promise<number> {
  return withBackend(o, async (session) => {
    const report = await session.retrying((b) => b.client.sweep());
    process.stdout.write(
      o.json ? `${JSON.stringify(report)}\n` : `${describeSweep(report) ?? 'sweep: nothing to do'}\n`,
    );
    return ExitCode.Ok;
  });
}
