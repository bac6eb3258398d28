import { createBackgroundWorkflows } from '../../api/background-workflows';
import { startRuntime } from '../../runtime';
import { describeSweep, runLocalSweep } from '../../sweep';
import { ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';
import { createProgress } from '../progress';

/**
 * `qualtrics-dsr sweep [--json]` (README "The sweep"): the sweep once, in this process. The
 * requests it resumes run here to their end before it prints (a resumed workflow cannot outlive
 * the process that runs it). `--json`: `{"resumed","failed","dueSoon","overdue","emailsForgotten"}`.
 */
export async function sweepCommand(o: CommonOptions): Promise<number> {
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const progress = createProgress();
  const workflows = createBackgroundWorkflows({ waitScale: runtime.waitScale });
  try {
    progress.line(runtime.describe());
    const result = await runLocalSweep(workflows, runtime.waitScale);
    if (result.resumed.length > 0) {
      progress.line(`sweep: running ${result.resumed.length} resumed request(s) to their end`);
      await Promise.all(result.resumed.map((id) => workflows.settled(id)));
    }
    progress.done();
    const summary = {
      resumed: result.resumed,
      failed: result.failed,
      dueSoon: result.dueSoon,
      overdue: result.overdue,
      emailsForgotten: result.emailsForgotten,
    };
    process.stdout.write(
      o.json ? `${JSON.stringify(summary)}\n` : `${describeSweep(result) ?? 'sweep: nothing to do'}\n`,
    );
    return ExitCode.Ok;
  } finally {
    progress.done();
    await workflows.shutdown(0);
    await runtime.close();
  }
}
