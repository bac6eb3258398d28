import { describe, expect, it } from 'vitest';
import type { QueryParameters } from './http';
import { parseListQuery, parseMetricsQuery, parseRecordsQuery } from './ledger-query';
import { rejection } from './testing';

const q = (params: Record<string, string | string[]>): QueryParameters =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

describe('parseListQuery', () => {
  it('reads every filter, with a page of 100 by default', () => {
    expect(parseListQuery(undefined)).toEqual({ limit: 100 });
    expect(parseListQuery({})).toEqual({ limit: 100 });
    expect(
      parseListQuery(
        q({
          status: 'FAILED',
          type: 'deletion',
          jurisdiction: 'uk-gdpr',
          overdue: 'false',
          since: '2026-01-31',
          until: '2026-02-01T10:00:00+01:00',
          limit: '500',
          cursor: 'eyJ2IjoxfQ',
        }),
      ),
    ).toEqual({
      status: 'FAILED',
      type: 'deletion',
      jurisdiction: 'uk-gdpr',
      overdue: false,
      since: '2026-01-31T00:00:00.000Z',
      until: '2026-02-01T09:00:00.000Z',
      limit: 500,
      cursor: 'eyJ2IjoxfQ',
    });
    expect(parseListQuery(q({ overdue: 'true', limit: '1' }))).toEqual({ overdue: true, limit: 1 });
  });

  it('reads a + of an offset that arrived form-decoded as a space', () => {
    expect(parseListQuery(q({ since: '2026-02-01T10:00:00 01:00' })).since).toBe('2026-02-01T09:00:00.000Z');
  });

  it.each([
    [
      'an unknown parameter',
      { sort: 'asc' },
      /^unknown query parameter \(allowed: status, type, jurisdiction/,
    ],
    ['an email as a parameter name', { 'jane@example.com': 'x' }, /^unknown query parameter \(allowed/],
    ['the email', { email: 'jane@example.com' }, /never accepted in a URL: POST \/requests\/search/],
    ['a repeated parameter', { status: ['FAILED', 'RUNNING'] }, /status may be given once/],
    ['an unknown status', { status: 'jane@example.com' }, /status must be one of RECEIVED, RUNNING/],
    ['a status in lower case', { status: 'failed' }, /status must be one of/],
    ['an unknown type', { type: 'erase' }, /type must be one of access, deletion/],
    [
      'an unknown jurisdiction',
      { jurisdiction: 'lgpd' },
      /jurisdiction must be one of gdpr, uk-gdpr, ccpa, us-state/,
    ],
    ['overdue not a boolean', { overdue: '1' }, /overdue must be true or false/],
    ['limit 0', { limit: '0' }, /limit must be a whole number from 1 to 500/],
    ['limit 501', { limit: '501' }, /limit must be a whole number from 1 to 500/],
    ['limit a fraction', { limit: '2.5' }, /limit must be/],
    ['limit negative', { limit: '-1' }, /limit must be/],
    [
      'since not a time',
      { since: 'yesterday' },
      /since must be an ISO-8601 instant with Z or an offset, or a date/,
    ],
    ['since without a zone', { since: '2026-01-31T10:00:00' }, /since must be/],
    ['until an impossible date', { until: '2026-02-30' }, /until must be/],
    [
      'since not before until',
      { since: '2026-02-01', until: '2026-02-01' },
      /since must be earlier than until/,
    ],
  ])('refuses %s with 400 INVALID_QUERY, naming the parameter and not the value', (_, params, message) => {
    const e = rejection(() => parseListQuery(q(params)));
    expect([e.status, e.code]).toEqual([400, 'INVALID_QUERY']);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('jane');
    expect(e.message).not.toMatch(/yesterday|lgpd|erase|asc|sort/);
  });

  it('refuses what cannot be a cursor before the store sees it', () => {
    for (const cursor of ['', 'a b', 'x'.repeat(2049), 'abc=', '{"v":1}']) {
      const e = rejection(() => parseListQuery(q({ cursor })));
      expect([e.status, e.code], cursor).toEqual([400, 'INVALID_CURSOR']);
    }
  });
});

describe('parseRecordsQuery', () => {
  it('reads since and until, and nothing else', () => {
    expect(parseRecordsQuery(undefined)).toEqual({});
    expect(parseRecordsQuery(q({ since: '2025-01-01', until: '2026-01-01T00:00:00Z' }))).toEqual({
      since: '2025-01-01T00:00:00.000Z',
      until: '2026-01-01T00:00:00.000Z',
    });
    const refused: Array<Record<string, string | string[]>> = [
      { status: 'FAILED' },
      { limit: '10' },
      { since: ['2025-01-01', '2025-02-01'] },
    ];
    for (const params of refused) {
      expect(rejection(() => parseRecordsQuery(q(params))).code).toBe('INVALID_QUERY');
    }
  });
});

describe('parseMetricsQuery', () => {
  it('reads a four-digit year, required, and nothing else', () => {
    expect(parseMetricsQuery(q({ year: '2026' }))).toEqual({ year: 2026 });
    const refused: Array<Record<string, string | string[]>> = [
      {},
      { year: '' },
      { year: '26' },
      { year: '20266' },
      { year: '2026.0' },
      { year: ' 2026' },
      { year: '1999' },
      { year: 'jane.doe@example.com' },
      { year: ['2025', '2026'] },
      { year: '2026', since: '2026-01-01' },
    ];
    for (const params of refused) {
      const e = rejection(() => parseMetricsQuery(q(params)));
      expect(e.status).toBe(400);
      expect(e.code).toBe('INVALID_QUERY');
      expect(e.message).not.toContain('@');
    }
  });
});
