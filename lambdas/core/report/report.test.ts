import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv';
import { escapeHtml, html } from './html';
import { type AccessReportInput, CELLS_PER_FILE, renderAccessReport } from './report';
import { dateOf, formatDate, labelOf } from './values';

const HOSTILE = '<img src=x onerror=alert(1)>';
const BREAKOUT = '</td></tr></table><script>alert(2)</script>';

function input(overrides: Partial<AccessReportInput> = {}): AccessReportInput {
  return {
    requestId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    maskedEmail: 'j***@example.com',
    receivedAt: '2026-01-31T10:00:00.000Z',
    jurisdiction: 'gdpr',
    startedAt: '2026-01-31T10:00:01.000Z',
    completedAt: '2026-01-31T10:05:00.000Z',
    target: 'https://iad1.qualtrics.com',
    customerDataRequestId: 'CDR_1',
    directories: [
      {
        directoryId: 'POOL_A',
        name: `Customers ${HOSTILE}`,
        contactsFound: 1,
        file: { path: 'qualtrics/directories/POOL_A.json', bytes: 900 },
        contacts: {
          kind: 'json',
          value: {
            directoryId: 'POOL_A',
            contacts: [
              {
                contactId: 'CID_1',
                firstName: HOSTILE,
                lastName: 'O\'Brien & "Sons"',
                email: 'jane.doe@example.com',
                unsubscribed: false,
                creationDate: Date.UTC(2024, 1, 29, 12, 30, 0),
                embeddedData: { [`${HOSTILE}key`]: BREAKOUT, tier: 'gold' },
                mailingLists: [{ mailingListId: 'CG_1', name: 'Newsletter', unsubscribeDate: null }],
              },
            ],
          },
        },
      },
      { directoryId: 'POOL_B', name: 'Partners', contactsFound: 0 },
    ],
    customerData: [
      {
        fileId: 'F_1',
        file: { path: 'qualtrics/customer-data/F_1.json', bytes: 400 },
        content: {
          kind: 'json',
          value: {
            responses: [
              {
                responseId: 'R_1',
                recordedDate: '2025-12-01T08:00:00Z',
                values: { QID1: 3, comment: BREAKOUT },
              },
            ],
          },
        },
      },
      {
        fileId: 'F_2',
        file: { path: 'qualtrics/customer-data/F_2.csv', bytes: 60 },
        content: { kind: 'csv', text: 'question,answer\r\nQID2,"said ""hi"", <b>loudly</b>"\r\n' },
      },
      {
        fileId: 'F_3',
        file: { path: 'qualtrics/customer-data/F_3.zip', bytes: 5_000_000, contentType: 'application/zip' },
        content: { kind: 'not-shown', reason: 'format' },
      },
    ],
    files: [
      { path: 'qualtrics/customer-data/F_1.json', bytes: 400 },
      { path: 'qualtrics/customer-data/F_2.csv', bytes: 60 },
      { path: 'qualtrics/customer-data/F_3.zip', bytes: 5_000_000 },
      { path: 'qualtrics/directories/POOL_A.json', bytes: 900 },
    ],
    ...overrides,
  };
}

/** Every tag of the markup (text is escaped, so a `<` in it is never a tag). */
function tags(page: string): string[] {
  return page.match(/<[a-zA-Z!][^>]*>/g) ?? [];
}

describe('renderAccessReport', () => {
  const page = renderAccessReport(input());

  it('shows every value as text: no value from Qualtrics becomes markup', () => {
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<b>');
    expect(page).toContain(escapeHtml(HOSTILE));
    expect(page).toContain(escapeHtml(BREAKOUT));
    expect(page).toContain('O&#39;Brien &amp; &quot;Sons&quot;');
    expect(page).toContain('said &quot;hi&quot;, &lt;b&gt;loudly&lt;/b&gt;');
    // Only the markup the report makes: every tag name is one of its own.
    const allowed = new Set(
      '!doctype html head meta title style body h1 h2 h3 p a section dl dt dd code time table caption thead tbody tr th td span ol li pre'.split(
        ' ',
      ),
    );
    for (const tag of tags(page))
      expect(allowed, tag).toContain(/^<\/?([a-zA-Z!][a-zA-Z0-9]*)/.exec(tag)?.[1]?.toLowerCase());
  });

  it('is self-contained: no script, no remote resource, links within the page only, a strict CSP', () => {
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    for (const tag of tags(page)) {
      expect(tag).not.toMatch(/\s(src|srcset|action|formaction|poster|data|background|on[a-z]+)=/i);
      const href = /\shref="([^"]*)"/.exec(tag)?.[1];
      if (href !== undefined) expect(href).toMatch(/^#[a-z-]+$/);
    }
    expect(page).not.toMatch(/url\(|@import/i);
  });

  it('says what was searched, when, in which Qualtrics account, and what each file is', () => {
    expect(page).toContain('<time datetime="2026-01-31T10:00:00.000Z">31 January 2026, 10:00:00 UTC</time>');
    expect(page).toContain(
      'the Qualtrics account at <code>https://iad1.qualtrics.com</code> (datacenter <code>iad1</code>)',
    );
    expect(page).toContain('2 directories');
    expect(page).toContain('1 contact record in 1 directory');
    expect(page).toContain('3 files of customer data');
    expect(page).toContain('Article 15');
    for (const f of ['report.html', 'manifest.json', ...input().files.map((f) => f.path)]) {
      expect(page).toContain(`<td><code>${f}</code></td>`);
    }
    expect(page).toContain('No contact with your email address in: “Partners”');
    expect(page).toContain('5.0 MB (5,000,000 bytes)');
    expect(page).toContain('with an archive tool (it is a ZIP archive)');
    expect(renderAccessReport(input({ target: 'simulator' }))).toContain(
      'made-up test data, not a real Qualtrics account',
    );
  });

  it('labels fields, shows dates as dates and nested fields as sub-tables', () => {
    expect(page).toContain('First name <span class="key">firstName</span>');
    expect(page).toContain('<time datetime="2024-02-29T12:30:00.000Z">29 February 2024, 12:30:00 UTC</time>');
    expect(page).toContain('<time datetime="2025-12-01T08:00:00.000Z">1 December 2025, 08:00:00 UTC</time>');
    // Embedded data: a table inside the contact's table.
    const embedded = page.slice(page.indexOf('Embedded data (custom fields)'));
    expect(embedded).toMatch(
      /^Embedded data \(custom fields\) <span class="key">embeddedData<\/span><\/th><td><table class="fields nested">/,
    );
    // Mailing lists: a table with a column per field.
    expect(page).toMatch(/<table class="rows nested"><thead><tr><th scope="col">Mailing list ID/);
    expect(page).toContain('<td>No</td>');
    // CSV: its header row as the columns.
    expect(page).toContain('<th scope="col">Question <span class="key">question</span></th>');
  });

  it('summarizes a huge file instead of inlining it whole', () => {
    const contacts = Array.from({ length: 50_000 }, (_, i) => ({
      contactId: `CID_${i}`,
      firstName: `N${i}`,
      note: 'x',
    }));
    const big = renderAccessReport(
      input({
        directories: [
          {
            directoryId: 'POOL_A',
            contactsFound: contacts.length,
            file: { path: 'qualtrics/directories/POOL_A.json', bytes: 3_000_000 },
            contacts: { kind: 'json', value: { contacts } },
          },
        ],
      }),
    );
    expect(big).toContain('CID_0');
    expect(big).not.toContain('CID_49999');
    expect(big).toMatch(/\d[\d,]* more in the file itself/);
    // Bounded by the cell budget, not by the file.
    expect(big.length).toBeLessThan(CELLS_PER_FILE * 200);
  });
});

describe('the pieces', () => {
  it('escapes what html interpolates, and only that', () => {
    expect(html`<p>${'<a>'}${html`<b>${'&'}</b>`}${[1, '<']}${null}${false}</p>`.value).toBe(
      '<p>&lt;a&gt;<b>&amp;</b>1&lt;</p>',
    );
  });

  it('labels, dates and CSV', () => {
    expect(labelOf('extRef')).toBe('External reference');
    expect(labelOf('last_purchase_value')).toBe('Last purchase value');
    expect(labelOf('QID12')).toBe('QID12');
    expect(labelOf('CG_pX4BJsVjf20rQKG')).toBe('CG_pX4BJsVjf20rQKG');
    expect(labelOf('AvgTimeToRespond')).toBe('Avg time to respond');
    expect(dateOf('creationDate', 1_684_259_971_000)?.toISOString()).toBe('2023-05-16T17:59:31.000Z');
    expect(dateOf('updatedAt', 1_684_259_971)?.toISOString()).toBe('2023-05-16T17:59:31.000Z');
    expect(dateOf('emailCount', 1_684_259_971_000)).toBeUndefined();
    expect(dateOf('format', 1_684_259_971_000)).toBeUndefined();
    expect(dateOf('anything', '2023-05-16')?.toISOString()).toBe('2023-05-16T00:00:00.000Z');
    expect(formatDate(new Date('2028-02-29T23:05:09Z'))).toBe('29 February 2028, 23:05:09 UTC');
    expect(parseCsv('a,b\n"x, ""y""",\nlast', 10)).toEqual({
      rows: [['a', 'b'], ['x, "y"', ''], ['last']],
      complete: true,
    });
    expect(parseCsv('a\n1\n2\n3\n', 2)).toEqual({ rows: [['a'], ['1']], complete: false });
  });
});
