import type { StoredObject } from '../export-writer';
import {
  type ReportContent,
  type ReportCustomerDataFile,
  type ReportDirectory,
  type ReportFile,
  renderAccessReport,
} from '../report';
import { type RequestRecord, toStatusDocument } from '../request-store';
import { directoryFileKey, exportPrefix, manifestKey, reportKey } from '../tables';
import type { StepEnv } from './env';

/**
 * Writes `report.html` into an access bundle from what the bundle holds in S3 (the step that
 * writes the manifest runs this first, so the manifest lists the report with its hash). Only
 * JSON and CSV files of a bounded size are read; the others are described, not shown.
 */

/** A file larger than this is summarized, not shown (the Lambda reads it whole). */
export const MAX_SHOWN_FILE_BYTES = 2 * 1024 * 1024;
/** At most this much is read for one report, all files together. */
export const MAX_REPORT_READ_BYTES = 16 * 1024 * 1024;

export interface ReportInput {
  completedAt: string;
  customerDataRequestId?: string;
  fileIds: readonly string[];
  /** Every directory searched, with its name when known. */
  directories: ReadonlyArray<{ directoryId: string; name?: string; contactsFound: number }>;
}

export async function writeReport(
  env: StepEnv,
  record: RequestRecord,
  input: ReportInput,
): Promise<StoredObject> {
  const { requestId } = record;
  const prefix = exportPrefix(requestId);
  const own = new Set([manifestKey(requestId), reportKey(requestId)]);
  const objects = (await env.writer.listBundle(requestId))
    .filter((o) => !own.has(o.key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const fileOf = (key: string): ReportFile | undefined => {
    const o = objects.find((x) => x.key === key);
    return o && { path: o.key.slice(prefix.length), bytes: o.size };
  };
  let readLeft = MAX_REPORT_READ_BYTES;
  const read = async (key: string, file: ReportFile): Promise<ReportContent> => {
    const format = formatOf(file.path);
    if (!format) return { kind: 'not-shown', reason: 'format' };
    if (file.bytes > MAX_SHOWN_FILE_BYTES || file.bytes > readLeft)
      return { kind: 'not-shown', reason: 'too-large' };
    readLeft -= file.bytes;
    const bytes = await env.writer.readBytes(key);
    if (!bytes) return { kind: 'not-shown', reason: 'unreadable' };
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return { kind: 'not-shown', reason: 'unreadable' };
    }
    if (format === 'csv') return { kind: 'csv', text };
    try {
      return { kind: 'json', value: JSON.parse(text) };
    } catch {
      return { kind: 'not-shown', reason: 'unreadable' };
    }
  };

  const directories: ReportDirectory[] = [];
  for (const d of input.directories) {
    const key = directoryFileKey(requestId, d.directoryId);
    const file = fileOf(key);
    directories.push({ ...d, ...(file ? { file, contacts: await read(key, file) } : {}) });
  }
  const customerData: ReportCustomerDataFile[] = [];
  for (const fileId of new Set(input.fileIds)) {
    const o = objects.find((x) => x.key.startsWith(`${prefix}qualtrics/customer-data/${fileId}.`));
    const file = o && fileOf(o.key);
    if (o && file) customerData.push({ fileId, file, content: await read(o.key, file) });
  }

  const doc = toStatusDocument(record, new Date(env.now()));
  const html = renderAccessReport({
    requestId,
    maskedEmail: record.maskedEmail,
    receivedAt: doc.receivedAt,
    jurisdiction: doc.jurisdiction,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    completedAt: input.completedAt,
    ...(record.qualtrics.target ? { target: record.qualtrics.target } : {}),
    ...(input.customerDataRequestId ? { customerDataRequestId: input.customerDataRequestId } : {}),
    directories,
    customerData,
    files: objects.map((o) => ({ path: o.key.slice(prefix.length), bytes: o.size })),
  });
  return env.writer.putBytes(reportKey(requestId), Buffer.from(html, 'utf8'), 'text/html; charset=utf-8');
}

function formatOf(path: string): 'json' | 'csv' | undefined {
  const ext = path.split('.').pop()?.toLowerCase();
  return ext === 'json' ? 'json' : ext === 'csv' ? 'csv' : undefined;
}
