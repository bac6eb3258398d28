import {
  type ErasureEvidence,
  EVIDENCE_SCHEMA_VERSION,
  type EvidenceDocument,
  notFoundIncludes,
  withoutRawEmails,
} from '../evidence';
import { isoNow, loadRequest, type StepEnv } from './env';
import type {
  AccessResultValue,
  DeletionResultValue,
  SearchedDirectoriesState,
  WriteEvidenceEvent,
  WriteManifestEvent,
} from './inputs';
import { writeReport } from './report';

/** The end products: the access bundle's report and manifest, and the deletion evidence. */

/** Every directory listed, with what its search found (0 when it was not searched or found nothing). */
function perDirectory(directories: SearchedDirectoriesState) {
  const found = new Map(directories.searched.map((s) => [s.directoryId, s.contactsFound]));
  return directories.listed.map((d) => ({
    directoryId: d.directoryId,
    ...(d.name !== undefined ? { name: d.name } : {}),
    contactsFound: found.get(d.directoryId) ?? 0,
  }));
}

export async function writeManifest(
  env: StepEnv,
  { requestId, collected }: WriteManifestEvent,
): Promise<AccessResultValue> {
  const record = await loadRequest(env, requestId);
  const { customerDataRequestId, fileIds } = collected.customerData;
  const completedAt = isoNow(env);
  const directoriesSearched = perDirectory(collected.directories);
  // The report first: the manifest then lists it, with its hash, like every other file.
  await writeReport(env, record, {
    completedAt,
    customerDataRequestId,
    fileIds,
    directories: directoriesSearched,
  });
  const { key, manifest } = await env.writer.writeManifest({
    requestId,
    type: record.type,
    emailSha256: record.emailSha256,
    createdAt: record.createdAt,
    completedAt,
    qualtrics: { target: record.qualtrics.target, customerDataRequestId, fileIds },
    directoriesSearched,
  });
  const { counts } = manifest;
  await env.store.setCounts(requestId, counts);
  await env.store.appendTimeline(
    requestId,
    'MANIFEST_WRITTEN',
    `${counts.files} file(s); ${counts.contactsFound} contact(s) in ${counts.directoriesSearched} director(ies) searched`,
  );
  env.log.info('manifest written', { ...counts });
  return { counts, manifestKey: key, qualtrics: { customerDataRequestId, fileIds } };
}

export async function writeEvidence(
  env: StepEnv,
  { requestId, erasure, verification }: WriteEvidenceEvent,
): Promise<DeletionResultValue> {
  const record = await loadRequest(env, requestId);
  const stored = (record.evidence ?? {}) as Partial<ErasureEvidence>;
  const directories = 'directories' in verification ? perDirectory(verification.directories) : undefined;
  const contactsRemaining = directories?.reduce((n, d) => n + d.contactsFound, 0);
  const verified = directories
    ? {
        contactsRemaining,
        directories: directories.map(({ contactsFound, ...d }) => ({
          ...d,
          contactsRemaining: contactsFound,
        })),
      }
    : {
        skipped: true as const,
        reason: 'QDSR_DELETION_DONE=submitted: done once Qualtrics accepted the erasure',
      };
  // Evidence recorded before its entries were masked is masked here, once and for all.
  const emailsNotFound = stored.emailsNotFound && withoutRawEmails({ emailsNotFound: stored.emailsNotFound });
  const evidence: ErasureEvidence = {
    erasureRequestId: erasure.erasureRequestId,
    searchOnly: erasure.dryRun,
    createdAt: stored.createdAt ?? erasure.createdAt,
    statuses: stored.statuses ?? [],
    ...(emailsNotFound ? emailsNotFound : {}),
    ...(stored.numEmailsRequested !== undefined ? { numEmailsRequested: stored.numEmailsRequested } : {}),
    ...(stored.failureReason ? { failureReason: stored.failureReason } : {}),
    verification: verified,
  };
  // emailsNotFound is known once the erasure ended; until then, whether Qualtrics found the subject is not.
  const subjectFound =
    evidence.emailsNotFound && erasure.status === 'complete'
      ? !notFoundIncludes(evidence.emailsNotFound, record.emailSha256)
      : null;
  const document: EvidenceDocument = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    requestId,
    type: 'deletion',
    subject: { emailSha256: record.emailSha256 },
    qualtrics: record.qualtrics.target ? { target: record.qualtrics.target } : {},
    subjectFound,
    writtenAt: isoNow(env),
    ...evidence,
  };
  await env.writer.writeEvidence(requestId, document);
  await env.store.recordEvidence(requestId, evidence as unknown as Record<string, unknown>);
  if (contactsRemaining !== undefined) await env.store.setCounts(requestId, { contactsRemaining });
  await env.store.appendTimeline(
    requestId,
    'EVIDENCE_WRITTEN',
    verificationNote(erasure.dryRun, contactsRemaining),
  );
  env.log.info('evidence written', { contactsRemaining, subjectFound });
  return {
    dryRun: erasure.dryRun,
    subjectFound,
    qualtrics: {
      erasureRequestId: erasure.erasureRequestId,
      status: erasure.qualtricsStatus ?? erasure.status,
    },
    verification: contactsRemaining === undefined ? { skipped: true } : { contactsRemaining },
  };
}

/** The timeline's word on the verification: a dry run erased nothing, so what it found would be erased. */
export function verificationNote(dryRun: boolean, contactsRemaining: number | undefined): string {
  if (contactsRemaining === undefined) return 'verification skipped';
  return dryRun
    ? `${contactsRemaining} contact(s) would be erased (dry run: nothing was erased)`
    : `${contactsRemaining} contact(s) remaining`;
}
