import { describe, expect, it } from 'vitest';
import { ImportFileError, readImportCsv } from './import-csv';

/** The import CSV read alone: keys derived from content, lines counted across quoted newlines. */

const NOW = new Date('2026-03-02T09:00:00Z');

describe('readImportCsv', () => {
  it('derives one key per content (the email in any case and spacing is one subject), and keeps a given one', () => {
    const rows = readImportCsv(
      'type,email,jurisdiction,idempotencyKey\n' +
        'access,Jane@Example.com,,\n' +
        'access, jane@example.com ,,\n' +
        'access,jane@example.com,ccpa,\n' +
        'deletion,jane@example.com,,\n' +
        'access,jane@example.com,,crm-1\n',
      NOW,
    );
    const keys = rows.map((r) => r.submission?.idempotencyKey);
    expect(keys[0]).toMatch(/^import:[0-9a-f]{64}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(new Set(keys.slice(1, 4)).size).toBe(3);
    expect(keys[4]).toBe('crm-1');
  });

  it('names the line a row starts on, also after a quoted field spanning lines, with a BOM and CRLF', () => {
    const rows = readImportCsv(
      '\ufefftype,email\r\n"access","a@example.com"\r\n\r\ndeletion,"b\r\n@example.com"\r\nerase,c@example.com\r\n',
      NOW,
    );
    expect(rows.map((r) => [r.line, r.problem === undefined])).toEqual([
      [2, true],
      [4, false],
      [6, false],
    ]);
    expect(rows[2]?.problem).toBe('type must be "access" or "deletion"');
  });

  it('checks the receipt time against now, and dryRun as a word', () => {
    const rows = readImportCsv(
      'type,email,receivedAt,dryRun\n' +
        'deletion,a@example.com,2026-03-01T00:00:00Z,TRUE\n' +
        'deletion,a@example.com,2020-01-01T00:00:00Z,\n' +
        'deletion,a@example.com,,yes\n',
      NOW,
    );
    expect(rows[0]?.submission).toMatchObject({ dryRun: true, receivedAt: '2026-03-01T00:00:00Z' });
    expect(rows[1]?.problem).toMatch(/400 days/);
    expect(rows[2]?.problem).toBe('dryRun must be true or false (or empty)');
  });

  it('refuses a file without request rows or without the required columns', () => {
    expect(() => readImportCsv('', NOW)).toThrow(ImportFileError);
    expect(() => readImportCsv('type,email\n', NOW)).toThrow(/no request rows/);
    expect(() => readImportCsv('type,channel\naccess,email\n', NOW)).toThrow(
      /lacks the required column email/,
    );
    expect(() => readImportCsv('type,email,type\naccess,a@example.com,access\n', NOW)).toThrow(/type twice/);
  });
});
