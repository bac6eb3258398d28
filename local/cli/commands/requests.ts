import type { ExportLinks } from '../../../lambdas/core/api';
import { ConfigError } from '../../../lambdas/core/errors';
import {
  normalizeRequestId,
  type RequestType,
  requestSubmission,
  validate,
} from '../../../lambdas/core/request-contract';
import type { RequestStatusDocument } from '../../../lambdas/core/request-store';
import { exportPrefix } from '../../../lambdas/core/tables';
import { ApiCallError } from '../backend/client';
import { withBackend } from '../backend/lazy';
import type { Session } from '../backend/session';
import { copyBundleFromLinks } from '../bundle-copy';
import { CliError, ExitCode } from '../exit-codes';
import type { CommonOptions } from '../main';
import { createProgress, type Progress } from '../progress';
import { signalExitCode } from '../signals';
import { checkReceiptTime, type SubmissionLedgerOptions, submissionLedgerFields } from './ledger';

/**
 * `access`, `delete`, `status`, `retry` and `export`: one privacy request, through the data dir's
 * API (README "Several processes, one data dir"): run in this process when it owns the data dir,
 * handed to the process that does otherwise.
 */

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
  return withBackend(o, async (session) => {
    const progress = createProgress();
    try {
      const { backend } = session;
      progress.line(backend.describe());
      await backend.preflight();
      // Once: a create is not repeated if the owner goes away (the request may be recorded).
      const { requestId } = await backend.client.createRequest(submission.value);
      const doc = await session.retrying((b) => b.client.getRequest(requestId));
      progress.line(
        `request ${requestId}: ${type}${extra.dryRun ? ' (dry run)' : ''} for ${doc.maskedEmail}`,
      );
      return await runToEnd(session, requestId, o, progress, extra.out);
    } finally {
      progress.done();
    }
  });
}

/** Follows the request to its end, prints its summary, and copies an access bundle to --out. */
async function runToEnd(
  session: Session,
  requestId: string,
  o: CommonOptions,
  progress: Progress,
  out = DEFAULT_OUT,
): Promise<number> {
  const result = await session.followToEnd(requestId, progress);
  const { doc } = result;
  if (result.interrupted) return interrupted(session, doc, o, progress);
  if (doc.status === 'COMPLETED') {
    const summary = { ...((result.output as Record<string, unknown> | undefined) ?? summaryOf(doc)) };
    let notCopied: CliError | undefined;
    if (doc.type === 'access') {
      let localDir: string | null = null;
      let bucket: string | undefined;
      try {
        const links = await session.retrying((b) => b.client.exportLinks(requestId));
        bucket = bucketOf(links);
        localDir = await copyBundleFromLinks(requestId, links, out);
      } catch (err) {
        // The request is done and its bundle is safe in the data dir: say how to copy it again.
        const reason =
          err instanceof CliError || err instanceof ApiCallError || err instanceof ConfigError
            ? err.message
            : 'the copy failed';
        const again =
          session.backend.kind === 'api'
            ? `Its links are answered again by GET /requests/${requestId}/export`
            : `Copy it with: qualtrics-dsr export ${requestId} --out DIR`;
        notCopied = new CliError(
          ExitCode.ConfigOrConnection,
          `request ${requestId} is COMPLETED, but its bundle was not copied: ${reason}. ${again}`,
        );
      }
      const exp = (summary.export ?? {}) as Record<string, unknown>;
      summary.export = { bucket: exp.bucket ?? bucket ?? null, prefix: exportPrefix(requestId), localDir };
    }
    progress.line(`request ${requestId}: COMPLETED`);
    progress.done();
    print(o, summary, humanSummary(summary));
    if (notCopied) throw notCopied;
    return ExitCode.Ok;
  }
  const failed = failedSummary(doc);
  progress.line(`request ${requestId}: FAILED (${failed.error.code})`);
  progress.done();
  print(
    o,
    failed,
    `request ${requestId} FAILED: ${failed.error.message}\n  retry with: qualtrics-dsr retry ${requestId}${session.backend.sameTarget}\n`,
  );
  return ExitCode.RequestFailed;
}

/** Stopped by Ctrl-C / SIGTERM before the request ended: say where it stands and how it goes on. */
function interrupted(
  session: Session,
  doc: RequestStatusDocument,
  o: CommonOptions,
  progress: Progress,
): number {
  const { kind, sameTarget } = session.backend;
  const where = kind === 'api' ? 'where it runs' : 'in the process that holds the data dir';
  const next =
    kind === 'owner'
      ? `it resumes when the data dir is next served, or with: qualtrics-dsr retry ${doc.requestId}`
      : `it goes on ${where}; follow it with: qualtrics-dsr status ${doc.requestId}${sameTarget}`;
  progress.line(`request ${doc.requestId}: ${doc.status}, not finished`);
  progress.done();
  print(
    o,
    { requestId: doc.requestId, type: doc.type, status: doc.status, interrupted: true },
    `request ${doc.requestId} ${doc.status}: not finished; ${next}\n`,
  );
  return signalExitCode(session.backend.stoppedBy() ?? 'SIGINT');
}

const DEFAULT_OUT = './exports';

/**
 * The summary of a COMPLETED request when this process did not run its workflow (another process
 * did): the same fields, from its status document. A dry run's `subjectFound` is not in it: null.
 */
export function summaryOf(doc: RequestStatusDocument): Record<string, unknown> {
  const startedAt = doc.timeline.find((t) => t.step === 'STARTED')?.at;
  const head = {
    requestId: doc.requestId,
    type: doc.type,
    status: doc.status,
    startedAt,
    finishedAt: doc.respondedAt ?? undefined,
  };
  if (doc.type === 'access') {
    return {
      ...head,
      counts: doc.counts,
      qualtrics: {
        customerDataRequestId: doc.qualtrics.customerDataRequestId,
        fileIds: doc.qualtrics.fileIds ?? [],
      },
    };
  }
  const remaining = doc.counts.contactsRemaining;
  return {
    ...head,
    dryRun: Boolean(doc.dryRun),
    subjectFound: doc.outcome === 'deleted' ? true : doc.outcome === 'no-data-found' ? false : null,
    qualtrics: { erasureRequestId: doc.qualtrics.erasureRequestId, status: doc.qualtrics.erasureStatus },
    verification: remaining === undefined ? { skipped: true } : { contactsRemaining: remaining },
  };
}

/** The bucket a presigned link points into: path-style (`/<bucket>/exports/…`) or virtual-hosted. */
function bucketOf(links: ExportLinks): string | undefined {
  try {
    const url = new URL(links.manifestUrl);
    const [first, second] = url.pathname.split('/').slice(1);
    if (second === 'exports') return decodeURIComponent(first ?? '');
    return url.hostname.split('.')[0];
  } catch {
    return undefined;
  }
}

/**
 * `export <requestId> --out DIR`: copies the bundle of a COMPLETED access request again (the copy
 * after the run failed, or another copy is wanted).
 */
export async function exportBundle(idArgument: string, o: CommonOptions & { out: string }): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  return withBackend(o, async (session) => {
    const doc = await session.retrying((b) => b.client.getRequest(requestId));
    const links = await session.retrying((b) => b.client.exportLinks(requestId));
    const localDir = await copyBundleFromLinks(requestId, links, o.out);
    const summary = {
      requestId,
      type: doc.type,
      status: doc.status,
      export: { bucket: bucketOf(links) ?? null, prefix: exportPrefix(requestId), localDir },
    };
    print(o, summary, `request ${requestId}: bundle copied to ${localDir}\n`);
    return ExitCode.Ok;
  });
}

export function failedSummary(doc: RequestStatusDocument) {
  return {
    requestId: doc.requestId,
    type: doc.type,
    status: 'FAILED' as const,
    ...(doc.type === 'deletion' ? { dryRun: Boolean(doc.dryRun) } : {}),
    startedAt: doc.timeline.find((t) => t.step === 'STARTED')?.at,
    finishedAt: doc.timeline.at(-1)?.at,
    counts: doc.counts,
    qualtrics: {
      target: doc.qualtrics.target,
      customerDataRequestId: doc.qualtrics.customerDataRequestId,
      fileIds: doc.qualtrics.fileIds,
      erasureRequestId: doc.qualtrics.erasureRequestId,
    },
    error: doc.error ?? { code: 'UNKNOWN', message: 'the workflow ended without recording a reason' },
  };
}

function humanSummary(s: Record<string, unknown>): string {
  const lines = [`request ${s.requestId} ${s.status} (${s.type}${s.dryRun ? ', dry run' : ''})`];
  const counts = s.counts as Record<string, number> | undefined;
  if (counts && Object.keys(counts).length > 0)
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
export function requestIdArgument(value: string): string {
  const requestId = normalizeRequestId(value);
  if (!requestId) throw new CliError(ExitCode.BadInput, 'unknown request id (expected a UUID)');
  return requestId;
}

export async function status(idArgument: string, o: CommonOptions): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  return withBackend(o, async (session) => {
    const doc = await session.retrying((b) => b.client.getRequest(requestId));
    const human = [
      `request ${doc.requestId} ${doc.status} (${doc.type}, ${doc.maskedEmail})`,
      ...doc.timeline.map((t) => `  ${t.at}  ${t.step}${t.detail ? `  ${t.detail}` : ''}`),
      ...(doc.error ? [`  error: ${doc.error.code}: ${doc.error.message}`] : []),
      '',
    ].join('\n');
    print(o, doc, human);
    return ExitCode.Ok;
  });
}

/** `retry <requestId>`: resumes a FAILED or interrupted request (README "Stopping and crash recovery") and follows it. */
export async function retry(idArgument: string, o: CommonOptions & { out?: string }): Promise<number> {
  const requestId = requestIdArgument(idArgument);
  return withBackend(o, async (session) => {
    const progress = createProgress();
    try {
      const { backend } = session;
      progress.line(backend.describe());
      const doc = await backend.client.getRequest(requestId);
      await backend.preflight();
      await backend.client.retry(requestId);
      progress.line(`request ${requestId}: retrying ${doc.type}, reusing Qualtrics jobs already created`);
      return await runToEnd(session, requestId, o, progress, o.out);
    } finally {
      progress.done();
    }
  });
}
