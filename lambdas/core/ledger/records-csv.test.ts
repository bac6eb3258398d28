import { describe, expect, it } from 'vitest';
import type { RequestSummary } from '../request-store/types';
import { RECORDS_CSV_HEADER, recordsCsv } from './records-csv';

const base: RequestSummary = {
  requestId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  type: 'deletion',
  status: 'COMPLETED',
  maskedEmail: 'j***@example.com',
  dryRun: false,
  jurisdiction: 'ccpa',
  receivedAt: '2026-01-31T10:00:00.000Z',
  channel: 'web-form',
  source: 'api',
  dueAt: '2026-03-17T10:00:00.000Z',
  extendedDueAt: null,
  respondedAt: '2026-02-02T22:00:00.000Z',
  outcome: 'deleted',
  daysToRespond: 2.5,
  overdue: false,
  createdAt: '2026-01-31T10:00:01.000Z',
  updatedAt: '2026-02-02T22:00:00.000Z',
  counts: {},
  qualtrics: {},
  error: null,
};

describe('the records CSV', () => {
  it('has the exact header, one CRLF line per request, empty fields for absent values, no email', () => {
    expect(RECORDS_CSV_HEADER).toBe(
      'requestId,receivedAt,type,channel,source,jurisdiction,dueAt,extendedDueAt,respondedAt,status,outcome,errorCode,daysToRespond',
    );
    const failed: RequestSummary = {
      ...base,
      requestId: '00000000-0000-4000-8000-000000000002',
      type: 'access',
      status: 'FAILED',
      jurisdiction: 'gdpr',
      extendedDueAt: '2026-04-30T10:00:00.000Z',
      respondedAt: null,
      outcome: null,
      daysToRespond: null,
      error: { code: 'QUALTRICS_AUTH', message: 'the token was refused' },
    };
    const text = recordsCsv([base, failed]);
    expect(text.split('\r\n')).toEqual([
      RECORDS_CSV_HEADER,
      '3f2504e0-4f89-41d3-9a0c-0305e82c3301,2026-01-31T10:00:00.000Z,deletion,web-form,api,ccpa,2026-03-17T10:00:00.000Z,,2026-02-02T22:00:00.000Z,COMPLETED,deleted,,2.5',
      '00000000-0000-4000-8000-000000000002,2026-01-31T10:00:00.000Z,access,web-form,api,gdpr,2026-03-17T10:00:00.000Z,2026-04-30T10:00:00.000Z,,FAILED,,QUALTRICS_AUTH,',
      '',
    ]);
    expect(text).not.toContain('example.com');
    expect(recordsCsv([])).toBe(`${RECORDS_CSV_HEADER}\r\n`);
  });

  it('quotes per RFC 4180 and defuses spreadsheet formulas', () => {
    const odd = { ...base, status: 'FAILED' as const, error: { code: 'A,"B"\nC', message: '' } };
    expect(recordsCsv([odd]).split('\r\n')[1]).toContain(',FAILED,deleted,"A,""B""\nC",2.5');
    const formula = { ...base, error: { code: '=HYPERLINK("x")', message: '' } };
    expect(recordsCsv([formula]).split('\r\n')[1]).toContain(`,"'=HYPERLINK(""x"")",`);
  });
});
