import type { Jurisdiction } from '../ledger';
import { parseCsv } from './csv';
import { type Html, html } from './html';
import { Budget, renderRecord, renderTable, renderValue, timeElement } from './values';

/**
 * `report.html` of an access bundle (README "The subject's report"): what the bundle holds, for the
 * person it is about, in plain language — one self-contained page (inline CSS, no script, no remote
 * resource; a Content-Security-Policy forbids them too), every value escaped.
 */

/** The report's own name in the bundle. */
export const REPORT_FILE = 'report.html';
export const MANIFEST_FILE = 'manifest.json';

/** A file of the bundle, named relative to the bundle's folder. */
export interface ReportFile {
  path: string;
  bytes: number;
  contentType?: string;
}

/** What a file holds, as far as the report shows it. */
export type ReportContent =
  | { kind: 'json'; value: unknown }
  | { kind: 'csv'; text: string }
  /** Not shown: too large to show here, or not JSON or CSV (an archive, a document). */
  | { kind: 'not-shown'; reason: 'too-large' | 'format' | 'unreadable' };

export interface ReportDirectory {
  directoryId: string;
  name?: string;
  contactsFound: number;
  /** The directory's file (its contacts' full records), when the subject is in it. */
  file?: ReportFile;
  /** Its contact records, when read. */
  contacts?: ReportContent;
}

export interface ReportCustomerDataFile {
  fileId: string;
  file: ReportFile;
  content: ReportContent;
}

export interface AccessReportInput {
  requestId: string;
  /** The subject as the record shows it: the masked email. */
  maskedEmail: string;
  receivedAt: string;
  jurisdiction: Jurisdiction;
  /** When the search started (the workflow's first step), when known. */
  startedAt?: string;
  /** When the bundle was completed (the manifest's completedAt). */
  completedAt: string;
  /** Which Qualtrics: "simulator" or the origin. */
  target?: string;
  customerDataRequestId?: string;
  directories: ReportDirectory[];
  customerData: ReportCustomerDataFile[];
  /** Every file of the bundle but the report and the manifest. */
  files: ReportFile[];
}

/** Cells shown per file at most: a large file is summarized, the rest of it stays in the file. */
export const CELLS_PER_FILE = 20_000;
/** CSV rows shown per file at most. */
export const CSV_ROWS = 1_000;

const JURISDICTION_NAMES: Record<Jurisdiction, string> = {
  gdpr: 'the EU General Data Protection Regulation (GDPR), Article 15',
  'uk-gdpr': 'the UK General Data Protection Regulation (UK GDPR), Article 15',
  ccpa: 'the California Consumer Privacy Act (CCPA)',
  'us-state': 'a US state privacy law',
};

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;max-width:70rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2.5rem;border-bottom:1px solid #ccc}h3{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}table.nested{margin:0;font-size:.93em}caption{text-align:left;font-weight:600;padding:.25rem 0}
dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.key{color:#666;font-weight:400;font-size:.85em;font-family:ui-monospace,monospace}.none{color:#777}
.text{white-space:pre-wrap;overflow-wrap:anywhere}.more{color:#8a4b00}code,pre{font-family:ui-monospace,monospace;font-size:.9em}
pre{white-space:pre-wrap;overflow-wrap:anywhere}ol.list{margin:0;padding-left:1.2rem}
@media print{body{margin:0}h2{break-before:auto}}
`
  .trim()
  .replace(/\n/g, '');

/** The whole page. */
export function renderAccessReport(r: AccessReportInput): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Your personal data held in Qualtrics</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Your personal data held in Qualtrics</h1>
<p>This report comes with the copy of your personal data that you asked for. It shows what the files of
this copy hold, in readable form. The files themselves are the complete copy; the last section says what
each of them is.</p>
<p>Contents: <a href="#request">About your request</a> · <a href="#contacts">Contact records</a> ·
<a href="#customer-data">Survey responses and other data</a> · <a href="#files">The files</a></p>
${aboutSection(r)}
${contactsSection(r)}
${customerDataSection(r)}
${filesSection(r)}
</body>
</html>
`;
  return page.value;
}

function aboutSection(r: AccessReportInput): Html {
  const contacts = r.directories.reduce((n, d) => n + d.contactsFound, 0);
  const withContacts = r.directories.filter((d) => d.contactsFound > 0).length;
  return html`<section id="request">
<h2>About your request</h2>
<dl>
<dt>Request reference</dt><dd><code>${r.requestId}</code></dd>
<dt>Email address searched for</dt><dd>${r.maskedEmail} (shown in part here; the records below show it as Qualtrics holds it)</dd>
<dt>Request received</dt><dd>${timeElement(new Date(r.receivedAt))}</dd>
<dt>Answered under</dt><dd>${JURISDICTION_NAMES[r.jurisdiction]}</dd>
<dt>Searched</dt><dd>${r.startedAt ? html`from ${timeElement(new Date(r.startedAt))} ` : ''}until ${timeElement(new Date(r.completedAt))}</dd>
<dt>Qualtrics account</dt><dd>${accountText(r.target)}</dd>
</dl>
<p>What was searched: every XM Directory (the contact lists) of this Qualtrics account —
${plural(r.directories.length, 'directory', 'directories')} — for contacts with your email address,
and Qualtrics' own export of the data it links to your email address (survey responses and more)${
    r.customerDataRequestId
      ? html`, Qualtrics customer-data request <code>${r.customerDataRequestId}</code>`
      : ''
  }.</p>
<p>What was found: ${plural(contacts, 'contact record', 'contact records')} in ${plural(
    withContacts,
    'directory',
    'directories',
  )}, and ${plural(r.customerData.length, 'file', 'files')} of customer data.</p>
</section>`;
}

function accountText(target: string | undefined): Html {
  if (!target) return html`not recorded`;
  if (target === 'simulator') {
    return html`the built-in Qualtrics simulator of qualtrics-dsr (made-up test data, not a real Qualtrics account)`;
  }
  let dc: string | undefined;
  try {
    const host = new URL(target).hostname;
    if (host.endsWith('.qualtrics.com')) dc = host.slice(0, -'.qualtrics.com'.length).split('.').pop();
  } catch {
    // Shown as recorded.
  }
  return html`the Qualtrics account at <code>${target}</code>${dc ? html` (datacenter <code>${dc}</code>)` : ''}`;
}

function contactsSection(r: AccessReportInput): Html {
  const found = r.directories.filter((d) => d.contactsFound > 0);
  const empty = r.directories.filter((d) => d.contactsFound === 0);
  return html`<section id="contacts">
<h2>Contact records</h2>
<p>A contact record is what a Qualtrics directory holds about a person it can send surveys to: name,
email address, custom fields (“embedded data”), the mailing lists the person is on, and counts of the
emails and invitations sent.</p>
${found.length === 0 ? html`<p>No directory holds a contact with your email address.</p>` : ''}
${found.map((d) => directoryBlock(d))}
${
  empty.length > 0
    ? html`<p>No contact with your email address in: ${empty.map((d, i) => html`${i > 0 ? ', ' : ''}${directoryName(d)}`)}.</p>`
    : ''
}
</section>`;
}

function directoryName(d: Pick<ReportDirectory, 'name' | 'directoryId'>): Html {
  return d.name
    ? html`“${d.name}” <span class="key">${d.directoryId}</span>`
    : html`<code>${d.directoryId}</code>`;
}

function directoryBlock(d: ReportDirectory): Html {
  const head = html`<h3>Directory ${directoryName(d)}</h3>
<p>${plural(d.contactsFound, 'contact record', 'contact records')} found${
    d.file ? html`; file <code>${d.file.path}</code>` : ''
  }.</p>`;
  const content = d.contacts;
  if (!content) return head;
  if (content.kind === 'not-shown') return html`${head}${notShown(content, d.file)}`;
  if (content.kind === 'csv')
    return html`${head}${notShown({ kind: 'not-shown', reason: 'format' }, d.file)}`;
  const contacts = (content.value as { contacts?: unknown })?.contacts;
  if (!Array.isArray(contacts))
    return html`${head}${renderValue(content.value, '', new Budget(CELLS_PER_FILE))}`;
  const budget = new Budget(CELLS_PER_FILE);
  const tables: Html[] = [];
  for (const [i, contact] of contacts.entries()) {
    if (budget.spent) break;
    const caption = html`Contact record ${i + 1} of ${contacts.length}`;
    tables.push(
      contact && typeof contact === 'object' && !Array.isArray(contact)
        ? renderRecord(contact as Record<string, unknown>, budget, 0, caption)
        : html`<p>${caption}: ${renderValue(contact, '', budget)}</p>`,
    );
  }
  const more =
    tables.length < contacts.length
      ? html`<p class="more">${contacts.length - tables.length} more in the file itself.</p>`
      : '';
  return html`${head}${tables}${more}`;
}

function customerDataSection(r: AccessReportInput): Html {
  return html`<section id="customer-data">
<h2>Survey responses and other data</h2>
<p>Qualtrics exported the data it links to your email address (its “customer data request”): survey
responses and what was recorded with them. Answers are shown under the ids Qualtrics gives the
questions (such as QID1).</p>
${r.customerData.length === 0 ? html`<p>Qualtrics exported no file.</p>` : ''}
${r.customerData.map((f) => customerDataBlock(f))}
</section>`;
}

function customerDataBlock(f: ReportCustomerDataFile): Html {
  const head = html`<h3>File <code>${f.file.path}</code></h3>
<p>${capitalized(describeFormat(f.file))}, ${size(f.file.bytes)}.</p>`;
  const c = f.content;
  if (c.kind === 'not-shown') return html`${head}${notShown(c, f.file)}`;
  const budget = new Budget(CELLS_PER_FILE);
  if (c.kind === 'json') return html`${head}${renderValue(c.value, '', budget)}`;
  const { rows, complete } = parseCsv(c.text, CSV_ROWS + 1);
  const [header, ...body] = rows;
  if (!header) return html`${head}<p>The file is empty.</p>`;
  const records = body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  const table = renderTable(header, records.slice(0, CSV_ROWS), budget);
  const more =
    !complete || body.length > CSV_ROWS ? html`<p class="more">More rows are in the file itself.</p>` : '';
  return html`${head}${table}${more}`;
}

function notShown(c: Extract<ReportContent, { kind: 'not-shown' }>, file?: ReportFile): Html {
  const name = file ? html`<code>${file.path}</code>` : 'the file';
  switch (c.reason) {
    case 'too-large':
      return html`<p>This file is too large to show here (${size(file?.bytes ?? 0)}): open ${name} itself.</p>`;
    case 'format':
      return html`<p>This kind of file cannot be shown here: open ${name} itself${
        file && isZip(file) ? ' with an archive tool (it is a ZIP archive)' : ''
      }.</p>`;
    case 'unreadable':
      return html`<p>This file could not be read as its type says: open ${name} itself.</p>`;
  }
}

function filesSection(r: AccessReportInput): Html {
  const rows = [
    { path: REPORT_FILE, what: html`This report: what the other files hold, in readable form.` },
    {
      path: MANIFEST_FILE,
      what: html`The list of every file of this copy with its size and SHA-256 checksum, to check that
none is missing or altered (and the ids of what was searched).`,
    },
    ...r.files.map((f) => ({ path: f.path, what: describeFile(f, r), bytes: f.bytes })),
  ];
  return html`<section id="files">
<h2>The files</h2>
<table class="rows"><thead><tr><th scope="col">File</th><th scope="col">What it is</th><th scope="col">Size</th></tr></thead>
<tbody>${rows.map(
    (row) =>
      html`<tr><td><code>${row.path}</code></td><td>${row.what}</td><td>${
        'bytes' in row && row.bytes !== undefined ? size(row.bytes) : ''
      }</td></tr>`,
  )}</tbody></table>
</section>`;
}

function describeFile(f: ReportFile, r: AccessReportInput): Html {
  const dir = r.directories.find((d) => d.file?.path === f.path);
  if (dir) {
    return html`The full contact records found in the directory ${directoryName(dir)} (${plural(
      dir.contactsFound,
      'record',
      'records',
    )}), as Qualtrics returned them (JSON).`;
  }
  if (r.customerData.some((c) => c.file.path === f.path)) {
    return html`A file of Qualtrics' customer-data export, exactly as Qualtrics provided it (${describeFormat(f)}).`;
  }
  return html`${capitalized(describeFormat(f))}.`;
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function describeFormat(f: ReportFile): string {
  const type = (f.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const ext = f.path.split('.').pop()?.toLowerCase();
  if (type === 'application/json' || ext === 'json') return 'a JSON document';
  if (type === 'text/csv' || ext === 'csv') return 'a table in CSV form';
  if (isZip(f)) return 'a ZIP archive';
  if (type.startsWith('text/')) return 'a text file';
  return 'a file';
}

function isZip(f: ReportFile): boolean {
  return /zip/i.test(f.contentType ?? '') || /\.zip$/i.test(f.path);
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `1.2 MB (1,234,567 bytes)`. */
export function size(bytes: number): string {
  const exact = plural(bytes, 'byte', 'bytes');
  if (bytes < 1000) return exact;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = '';
  for (const u of units) {
    value /= 1000;
    unit = u;
    if (value < 1000) break;
  }
  return `${value.toFixed(1)} ${unit} (${exact})`;
}
