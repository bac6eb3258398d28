import { type Html, html } from './html';

/**
 * Any JSON value as readable HTML: objects as labelled tables (nested ones as sub-tables), lists of
 * records as tables with a column per field, dates as dates. Bounded: a `Budget` counts the cells
 * shown, and what does not fit is named, not shown (the file itself holds it all).
 */

/** Labels of the fields Qualtrics' contact records and customer-data files use; others are spelled out. */
const LABELS: Record<string, string> = {
  contactId: 'Contact ID',
  firstName: 'First name',
  lastName: 'Last name',
  email: 'Email address',
  phone: 'Phone number',
  extRef: 'External reference',
  language: 'Language',
  embeddedData: 'Embedded data (custom fields)',
  unsubscribed: 'Unsubscribed',
  unsubscribeDate: 'Unsubscribed on',
  creationDate: 'Created',
  lastModified: 'Last changed',
  emailCount: 'Emails sent',
  inviteCount: 'Survey invitations sent',
  responseCount: 'Survey responses',
  mailingLists: 'Mailing lists',
  mailingListId: 'Mailing list ID',
  contactLookupId: 'Contact lookup ID',
  ownerId: 'Owner ID',
  directoryUnsubscribed: 'Unsubscribed from the directory',
  directoryUnsubscribeDate: 'Unsubscribed from the directory on',
  transactionData: 'Transaction data',
  stats: 'Statistics',
  responseId: 'Response ID',
  surveyId: 'Survey ID',
  surveyName: 'Survey',
  recordedDate: 'Recorded',
  values: 'Answers and recorded values',
  customerDataRequestId: 'Customer-data request ID',
  fileId: 'File ID',
  generatedAt: 'Generated',
  responses: 'Survey responses',
};

/** `firstName`, `first_name` → `First name`; a label from LABELS when there is one. */
export function labelOf(key: string): string {
  const known = LABELS[key];
  if (known) return known;
  // An id (QID1, CG_pX4BJsVjf20rQKG: a question, a mailing list) stays as it is.
  if (/^[A-Z0-9]+(_|$)/.test(key)) return key;
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  if (!words) return key;
  return words[0]?.toUpperCase() + words.slice(1);
}

/** Field names of dates: `…Date`, `…Time`, `createdAt`, `lastModified`, `updated` … */
const DATE_KEY = /(date|time|timestamp|created|modified|updated|changed)$/i;
const DATE_AT_KEY = /[a-z]At$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Epoch milliseconds between 1973 and 2286: what a number in a date field is. */
const EPOCH_MS = { min: 1e11, max: 1e13 };
const EPOCH_S = { min: 1e8, max: 1e10 };

/** The instant a field holds, when it is a date: an ISO string, or epoch ms/s in a date-named field. */
export function dateOf(key: string, value: unknown): Date | undefined {
  let ms: number | undefined;
  if (typeof value === 'string' && ISO_DATE.test(value)) ms = Date.parse(value);
  else if (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (DATE_KEY.test(key) || DATE_AT_KEY.test(key))
  ) {
    if (value >= EPOCH_MS.min && value < EPOCH_MS.max) ms = value;
    else if (value >= EPOCH_S.min && value < EPOCH_S.max) ms = value * 1000;
  }
  return ms === undefined || Number.isNaN(ms) ? undefined : new Date(ms);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `16 May 2023, 17:59:31 UTC` (a date alone: `16 May 2023`). */
export function formatDate(d: Date, withTime = true): string {
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  if (!withTime) return day;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

export function timeElement(d: Date, withTime = true): Html {
  return html`<time datetime="${d.toISOString()}">${formatDate(d, withTime)}</time>`;
}

/** How many cells may still be shown; shared by everything rendered for one file. */
export class Budget {
  constructor(private left: number) {}
  /** Takes `n` cells; false once the budget is spent. */
  take(n = 1): boolean {
    if (this.left < n) {
      this.left = 0;
      return false;
    }
    this.left -= n;
    return true;
  }
  get spent(): boolean {
    return this.left <= 0;
  }
}

const MAX_DEPTH = 6;
/** A list of records becomes a table with a column per field when it has at most this many fields. */
const MAX_COLUMNS = 10;

const NOT_SHOWN = html`<p class="more">More is in the file itself: this report shows only part of it.</p>`;
const none = html`<span class="none">(empty)</span>`;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One value as HTML; `key` is the field it is in (dates are recognized by it). */
export function renderValue(value: unknown, key: string, budget: Budget, depth = 0): Html {
  if (value === null || value === undefined || value === '') return none;
  if (typeof value === 'boolean') return html`${value ? 'Yes' : 'No'}`;
  const date = dateOf(key, value);
  if (date) return timeElement(date, !(typeof value === 'string' && value.length === 10));
  if (typeof value === 'number' || typeof value === 'bigint') return html`${String(value)}`;
  if (typeof value === 'string') return html`<span class="text">${value}</span>`;
  if (depth >= MAX_DEPTH) return html`<pre>${JSON.stringify(value, null, 2)}</pre>`;
  if (Array.isArray(value)) return renderList(value, budget, depth);
  if (isRecord(value)) return renderRecord(value, budget, depth);
  return html`${String(value)}`;
}

/** An object: one row per field, its label and its value. */
export function renderRecord(
  record: Record<string, unknown>,
  budget: Budget,
  depth = 0,
  caption?: Html | string,
): Html {
  const entries = Object.entries(record);
  if (entries.length === 0) return none;
  const rows: Html[] = [];
  for (const [k, v] of entries) {
    if (!budget.take()) break;
    rows.push(
      html`<tr><th scope="row">${fieldLabel(k)}</th><td>${renderValue(v, k, budget, depth + 1)}</td></tr>`,
    );
  }
  return html`<table class="fields${depth > 0 ? ' nested' : ''}">${caption ? html`<caption>${caption}</caption>` : ''}${rows}</table>${
    rows.length < entries.length ? NOT_SHOWN : ''
  }`;
}

function fieldLabel(key: string): Html {
  const label = labelOf(key);
  return label === key ? html`${label}` : html`${label} <span class="key">${key}</span>`;
}

/** A list: records as a table with a column per field, anything else as a list. */
function renderList(items: readonly unknown[], budget: Budget, depth: number): Html {
  if (items.length === 0) return none;
  if (items.every(isRecord)) {
    const columns = [...new Set(items.flatMap((i) => Object.keys(i as Record<string, unknown>)))];
    if (columns.length <= MAX_COLUMNS)
      return renderTable(columns, items as Array<Record<string, unknown>>, budget, depth);
  }
  const shown: Html[] = [];
  for (const item of items) {
    if (!budget.take()) break;
    shown.push(html`<li>${renderValue(item, '', budget, depth + 1)}</li>`);
  }
  return html`<ol class="list">${shown}</ol>${shown.length < items.length ? NOT_SHOWN : ''}`;
}

/** Rows of records under one header row (a column per field, in order of first appearance). */
export function renderTable(
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
  budget: Budget,
  depth = 0,
): Html {
  const body: Html[] = [];
  for (const row of rows) {
    if (!budget.take(Math.max(1, columns.length))) break;
    body.push(
      html`<tr>${columns.map((c) => html`<td>${c in row ? renderValue(row[c], c, budget, depth + 1) : ''}</td>`)}</tr>`,
    );
  }
  return html`<table class="rows${depth > 0 ? ' nested' : ''}"><thead><tr>${columns.map(
    (c) => html`<th scope="col">${fieldLabel(c)}</th>`,
  )}</tr></thead><tbody>${body}</tbody></table>${body.length < rows.length ? NOT_SHOWN : ''}`;
}
