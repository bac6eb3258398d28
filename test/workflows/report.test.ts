import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lambdas/core/aws-clients';
import type { Manifest } from '../../lambdas/core/export-writer';
import { escapeHtml } from '../../lambdas/core/report';
import { manifestKey, reportKey } from '../../lambdas/core/tables';
import { SEEDED_SUBJECT, type SeedContact } from '../../local/simulator';
import { CANARY_EMAIL, canarySeed } from '../support/canaries';
import { startWorkflowWorld, type WorkflowWorld } from './harness';

/**
 * report.html of an access bundle, from the real workflow on the simulator: listed in the manifest
 * with its hash, every contact value of the bundle shown (escaped), the customer data shown.
 */

const HOSTILE_SUBJECT = 'hostile.subject@example.net';
const IMG = '<img src=x onerror=alert(document.domain)>';
const BREAKOUT = '</td></tr></table><script>alert(1)</script>';

let w: WorkflowWorld;
beforeAll(async () => {
  const seed = canarySeed([CANARY_EMAIL]);
  const template = seed.directories[0]!.contacts[0]!;
  const hostile: SeedContact = {
    ...structuredClone(template),
    contactId: 'CID_HOSTILE00000001',
    firstName: IMG,
    lastName: `"'><svg onload=alert(2)>`,
    email: HOSTILE_SUBJECT,
    embeddedData: { [`${IMG}field`]: BREAKOUT, plan: 'gold & silver' },
    creationDate: Date.UTC(2024, 1, 29, 12, 30, 0),
  };
  seed.directories[1]!.contacts.push(hostile);
  w = await startWorkflowWorld({ scale: 0.002, simulator: { seed } });
});
afterAll(() => w?.close());

async function text(key: string): Promise<Buffer> {
  const out = await s3Client().send(new GetObjectCommand({ Bucket: w.aws.names.exportBucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function accessBundle(subject: string) {
  const requestId = await w.createRequest('access', subject);
  const run = await w.run('access', requestId);
  expect(run.status).toBe('SUCCEEDED');
  const manifest = JSON.parse((await text(manifestKey(requestId))).toString('utf8')) as Manifest;
  const report = await text(reportKey(requestId));
  return { requestId, manifest, report, page: report.toString('utf8') };
}

/** Every leaf of a JSON value, with the field it is in. */
function leaves(value: unknown, key = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, k));
  return [[key, value]];
}

describe('report.html', () => {
  it('is in the manifest with its sha256, counted among the files, and shows every contact value of the bundle', async () => {
    const { requestId, manifest, report, page } = await accessBundle(SEEDED_SUBJECT);
    const entry = manifest.files.find((f) => f.key === reportKey(requestId));
    expect(entry).toEqual({
      key: reportKey(requestId),
      bytes: report.length,
      sha256: createHash('sha256').update(report).digest('hex'),
      contentType: 'text/html; charset=utf-8',
    });
    expect(manifest.counts.files).toBe(manifest.files.length);
    expect((await w.writer.verifyBundle(requestId)).ok).toBe(true);

    // Every value of every contact record in the bundle is on the page.
    let checked = 0;
    for (const d of manifest.directoriesSearched.filter((x) => x.key)) {
      const file = JSON.parse((await text(d.key!)).toString('utf8')) as { contacts: unknown[] };
      for (const [field, value] of leaves(file.contacts)) {
        if (value === null || value === '' || typeof value === 'boolean') continue;
        if (typeof value === 'number' && /date|modified/i.test(field)) {
          // A date field shows the date (its instant is in the <time> element).
          expect(page, field).toContain(`datetime="${new Date(value).toISOString()}"`);
        } else {
          expect(page, `${field}: ${value}`).toContain(escapeHtml(String(value)));
        }
        checked++;
      }
      if (d.name) expect(page).toContain(escapeHtml(d.name));
    }
    expect(checked).toBeGreaterThan(40);
    // The customer data: every response of the subject.
    for (const fileId of manifest.qualtrics.fileIds) {
      const f = manifest.files.find((x) => x.key.includes(`/customer-data/${fileId}.`))!;
      const doc = JSON.parse((await text(f.key)).toString('utf8')) as {
        responses: Array<{ responseId: string }>;
      };
      for (const r of doc.responses) expect(page).toContain(r.responseId);
    }
    // The Qualtrics it came from (a simulator of its own here, so its origin).
    expect(page).toContain(`the Qualtrics account at <code>${new URL(w.sim.url).origin}</code>`);
    // The file is named report.html: its name says nothing of the subject.
    expect(entry?.key.endsWith('/report.html')).toBe(true);
  });

  it('shows hostile contact fields as text, never as markup', async () => {
    const { page } = await accessBundle(HOSTILE_SUBJECT);
    expect(page).toContain(escapeHtml(IMG));
    expect(page).toContain(escapeHtml(BREAKOUT));
    expect(page).toContain(escapeHtml(`"'><svg onload=alert(2)>`));
    expect(page).toContain('gold &amp; silver');
    expect(page).not.toMatch(/<(img|script|svg)\b/i);
    expect(page).toContain('<time datetime="2024-02-29T12:30:00.000Z">29 February 2024, 12:30:00 UTC</time>');
  });
});
