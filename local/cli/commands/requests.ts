import { resolve } from 'node:path';
import { ErrorNames, QualtricsError } from '../../../lambdas/core/errors';
import {
  normalizeRequestId,
  type RequestType,
  requestSubmission,
  validate,
} from '../../../lambdas/core/request-contract';
import { EmailForgottenError, type RequestRecord } from '../../../lambdas/core/request-store';
import { exportPrefix, manifestKey } from '../../../lambdas/core/tables';
import { workflowDeps } from '../../../lambdas/core/workflow/deps';
import { errorCode } from '../../../lambdas/core/workflow/record';
import { runWorkflow } from '../../engine/workflows';
import { type Runtime, startRuntime } from '../../runtime';
import { CliError, ExitCode } from '../exit-codes';
import { unusableDirError } from '../local-faults';
import type { CommonOptions } from '../main';
import { createProgress, type Progress } from '../progress';
import { connectionError } from './health';
import { checkReceiptTime, type SubmissionLedgerOptions, submissionLedgerFields } from './ledger';

/** `access`, `delete`, `status` and `retry`: one privacy request, run to its end in this process. */

type SubmitOptions = CommonOptions & SubmissionLedgerOptions;

export async function access(email: string, o: SubmitOptions & { out: string }): Promise<number> {
  return submit('access', email, o, { out: o.out });
}

export async function deletion(email: string, o: SubmitOptions & { dryRun?: boolean }): Promise<number> {
  return submit('deletion', email, o, { dryRun: Boolean(o.dryRun) });
}

async function submit(
  type: RequestType,
  email: string,
  o: SubmitOptions,
  extra: { out?: string; dryRun?: boolean },
): Promise<number> {
  // Bad input ends here: nothing started, nothing recorded, and the address is never echoed.
  const submission = validate(requestSubmission, {
    type,
    email,
    ...(extra.dryRun === undefined ? {} : { dryRun: extra.dryRun }),
    ...submissionLedgerFields(o),
  });
  if (!submission.ok)
    throw new CliError(ExitCode.BadInput, `invalid request: ${submission.problems.join('; ')}`);
  checkReceiptTime(submission.value.receivedAt);
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const progress = createProgress();
  try {
    progress.line(runtime.describe());
    await preflight(runtime);
    const deps = workflowDeps();
    const { record } = await deps.store.create({ ...submission.value, source: 'cli' });
    progress.line(
      `request ${record.requestId}: ${type}${extra.dryRun ? ' (dry run)' : ''} for ${record.maskedEmail}`,
    );
    return await runToEnd(runtime, record.requestId, type, o, progress, extra.out);
  } finally {
    progress.done();
    await runtime.close();
  }
}

/**
 * A token and `whoami` before anything is recorded, so wrong credentials or an unreachable
 * Qualtrics end with exit 3 naming the setting, not with a FAILED request.
 */
export async function preflight(runtime: Runtime): Promise<void> {
  try {
    const { api } = await workflowDeps().qualtrics();
    await api.whoami();
  } catch (err) {
    const mapped = connectionError(err, runtime.target);
    if (mapped instanceof CliError) throw mapped;
    // A transient fault or a limiter wait is not a configuration problem: the workflow retries those.
    if (err instanceof QualtricsError && err.retryable) return;
    if (err instanceof Error && err.name === ErrorNames.Throttled) return;
    throw mapped;
  }
}

async function runToEnd(
  runtime: Runtime,
  requestId: string,
  type: RequestType,
  o: CommonOptions,
  progress: Progress,
  out?: string,
): Promise<number> {
  const run = await runWorkflow({
    type,
    requestId,
    waitScale: runtime.waitScale,
    onEvent: (e) => progress.workflowEvent(e),
  });
  const deps = workflowDeps();
  let record = await deps.store.get(requestId);
  if (!record) throw new Error(`request ${requestId} vanished from the request store`);
  if (run.status === 'FAILED' && record.status !== 'FAILED') {
    // The execution itself ended (timeout, an error outside every Catch): no request stays open.
    record = await deps.store.fail(requestId, {
      code: errorCode(run.error?.Error ?? 'Execution.Failed'),
      message: `the workflow execution failed (${run.error?.Error ?? 'unknown error'})`,
    });
  }
  if (run.status === 'SUCCEEDED' && record.status === 'COMPLETED') {
    const summary = { ...(run.output as Record<string, unknown>) };
    let notCopied: CliError | undefined;
    if (type === 'access') {
      const exp = (summary.export ?? {}) as Record<string, unknown>;
      let localDir: string | null = null;
      try {
        localDir = await copyBundle(requestId, out ?? DEFAULT_OUT);
      } catch (err) {
        // The request is done and its bundle is safe in the data dir: say how to copy it again.
        notCopied = new CliError(
          ExitCode.ConfigOrConnection,
          `request ${requestId} is COMPLETED, but its bundle was not copied: ${(err as Error).message}. Copy it with: qualtrics-dsr export ${requestId} --out DIR`,
        );
      }
      summary.export = { bucket: exp.bucket, prefix: exp.prefix, localDir };
    }
    progress.line(`request ${requestId}: COMPLETED`);
    progress.done();
    print(o, summary, humanSummary(summary));
    if (notCopied) throw notCopied;
    return ExitCode.Ok;
  }
  const failed = failedSummary(record);
  progress.line(`request ${requestId}: FAILED (${failed.error.code})`);
  progress.done();
  print(
    o,
    failed,
    `request ${requestId} FAILED: ${failed.error.message}\n  retry with: qualtrics-dsr retry ${requestId}\n`,
  );
  return ExitCode.RequestFailed;
}

const DEFAULT_OUT = './exports';

/** Copies a stored bundle to `<out>/<requestId>/`; an unusable `--out` is a configuration error naming it. */
async function copyBundle(requestId: string, out: string): Promise<string> {
  try {
    return await workflowDeps().writer.copyBundleTo(requestId, out);
  } catch (err) {
    const mapped = unusableDirError(err, resolve(out), '--out');
    throw mapped instanceof Error ? mapped : err;
  }
}

/**
 * `export <requestId> --out DIR`: copies the bundle of a COMPLETED access request from the data dir
 * again (the copy after the run failed, or another copy is wanted).
 */
export async function exportBundle(idArgument: string, o: CommonOptions & { out: string }): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale, qualtrics: false });
  try {
    const record = await knownRequest(requestId);
    refuseForgottenEmail(record);
    if (record.type !== 'access') {
      throw new CliError(
        ExitCode.BadInput,
        `request ${requestId} is a deletion: only access requests have a bundle`,
      );
    }
    if (record.status !== 'COMPLETED') {
      throw new CliError(
        ExitCode.BadInput,
        `request ${requestId} is ${record.status}: its bundle exists once it is COMPLETED`,
      );
    }
    const writer = workflowDeps().writer;
    if (!(await writer.readJson(manifestKey(requestId)))) {
      throw new CliError(
        ExitCode.RequestFailed,
        `the bundle of request ${requestId} is no longer in ${runtime.dataDir}`,
      );
    }
    const localDir = await copyBundle(requestId, o.out);
    const summary = {
      requestId,
      type: record.type,
      status: record.status,
      export: { bucket: writer.bucket, prefix: exportPrefix(requestId), localDir },
    };
    print(o, summary, `request ${requestId}: bundle copied to ${localDir}\n`);
    return ExitCode.Ok;
  } finally {
    await runtime.close();
  }
}

export function failedSummary(record: RequestRecord) {
  return {
    requestId: record.requestId,
    type: record.type,
    status: 'FAILED' as const,
    ...(record.type === 'deletion' ? { dryRun: Boolean(record.dryRun) } : {}),
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    counts: record.counts,
    qualtrics: {
      target: record.qualtrics.target,
      customerDataRequestId: record.qualtrics.customerDataRequestId,
      fileIds: record.qualtrics.fileIds,
      erasureRequestId: record.qualtrics.erasureRequestId,
    },
    error: record.error ?? { code: 'UNKNOWN', message: 'the workflow ended without recording a reason' },
  };
}

function humanSummary(s: Record<string, unknown>): string {
  const lines = [`request ${s.requestId} ${s.status} (${s.type}${s.dryRun ? ', dry run' : ''})`];
  const counts = s.counts as Record<string, number> | undefined;
  if (counts)
    lines.push(
      `  ${Object.entries(counts)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
  const exp = s.export as { localDir?: string } | undefined;
  if (exp?.localDir) lines.push(`  bundle: ${exp.localDir}`);
  if (s.type === 'deletion') {
    const q = s.qualtrics as { erasureRequestId?: string; status?: string } | undefined;
    const v = s.verification as { contactsRemaining?: number } | undefined;
    lines.push(
      `  erasure ${q?.erasureRequestId ?? '?'}: ${q?.status ?? '?'}; subject found: ${s.subjectFound}`,
    );
    // A dry run erased nothing: what its search found is what an erasure would take away.
    if (v?.contactsRemaining !== undefined) {
      lines.push(
        s.dryRun
          ? `  would be erased: ${v.contactsRemaining} contact(s) (dry run: nothing was erased)`
          : `  contacts remaining: ${v.contactsRemaining}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function print(o: CommonOptions, doc: unknown, human: string): void {
  process.stdout.write(o.json ? `${JSON.stringify(doc)}\n` : human);
}

/** The `<requestId>` argument in its stored form (any case is accepted); exit 2 when it is not an id. */
function requestIdArgument(value: string): string {
  const requestId = normalizeRequestId(value);
  if (!requestId) throw new CliError(ExitCode.BadInput, 'unknown request id (expected a UUID)');
  return requestId;
}

/** After minimization a request is no longer retried or exported (README "The request ledger"): exit 2. */
function refuseForgottenEmail(record: RequestRecord): void {
  if (record.emailForgottenAt) {
    const forgotten = new EmailForgottenError(record.requestId);
    throw new CliError(ExitCode.BadInput, `${forgotten.code}: ${forgotten.message}`);
  }
}

async function knownRequest(requestId: string): Promise<RequestRecord> {
  const record = await workflowDeps().store.get(requestId);
  if (!record) throw new CliError(ExitCode.BadInput, `unknown request id ${requestId}`);
  return record;
}

export async function status(idArgument: string, o: CommonOptions): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale, qualtrics: false });
  try {
    await knownRequest(requestId);
    const doc = await workflowDeps().store.getStatusDocument(requestId);
    if (!doc) throw new CliError(ExitCode.BadInput, `unknown request id ${requestId}`);
    const human = [
      `request ${doc.requestId} ${doc.status} (${doc.type}, ${doc.maskedEmail})`,
      ...doc.timeline.map((t) => `  ${t.at}  ${t.step}${t.detail ? `  ${t.detail}` : ''}`),
      ...(doc.error ? [`  error: ${doc.error.code}: ${doc.error.message}`] : []),
      '',
    ].join('\n');
    print(o, doc, human);
    return ExitCode.Ok;
  } finally {
    await runtime.close();
  }
}

export async function retry(idArgument: string, o: CommonOptions & { out?: string }): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  const runtime = await startRuntime({ dataDir: o.dataDir, waitScale: o.waitScale });
  const progress = createProgress();
  try {
    progress.line(runtime.describe());
    const record = await knownRequest(requestId);
    refuseForgottenEmail(record);
    if (record.status !== 'FAILED') {
      throw new CliError(
        ExitCode.BadInput,
        `request ${requestId} is ${record.status}; only a FAILED request can be retried`,
      );
    }
    await preflight(runtime);
    await workflowDeps().store.reopenForRetry(requestId);
    progress.line(`request ${requestId}: retrying ${record.type}, reusing Qualtrics jobs already created`);
    return await runToEnd(runtime, requestId, record.type, o, progress, o.out);
  } finally {
    progress.done();
    await runtime.close();
  }
}
