import { describe, expect, it } from 'vitest';
import { InputError } from '../errors';
import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor';

const KEYS = ['pk', 'ledgerPartition', 'receivedAtKey'] as const;
const KEY = {
  pk: 'request#3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  ledgerPartition: 'request',
  receivedAtKey: '2026-01-31T10:00:00.000Z#3f2504e0-4f89-41d3-9a0c-0305e82c3301',
};

describe('list cursors', () => {
  it('round-trip a key of the index they came from', () => {
    const cursor = encodeCursor('byReceivedAt', KEY);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'byReceivedAt', KEYS)).toEqual(KEY);
  });

  it('refuse anything else as an InputError coded INVALID_CURSOR', () => {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad = [
      '',
      'not base64!',
      encodeCursor('byReceivedAt', KEY).slice(0, -3),
      encodeCursor('byStatus', KEY),
      json({ v: 1, i: 'byReceivedAt', k: { ...KEY, extra: 'x' } }),
      json({ v: 1, i: 'byReceivedAt', k: { pk: KEY.pk, ledgerPartition: 'request' } }),
      json({ v: 1, i: 'byReceivedAt', k: { ...KEY, pk: 7 } }),
      json({ v: 1, i: 'byReceivedAt', k: { ...KEY, pk: { S: 'x' } } }),
      json({ v: 2, i: 'byReceivedAt', k: KEY }),
      json({ v: 1, i: 'byReceivedAt', k: [KEY] }),
      json({ v: 1, i: 'byReceivedAt', k: { ...KEY, pk: 'x'.repeat(600) } }),
      json(null),
      'A'.repeat(5000),
    ];
    for (const cursor of bad) {
      const err = (() => {
        try {
          decodeCursor(cursor, 'byReceivedAt', KEYS);
        } catch (e) {
          return e;
        }
      })();
      expect(err, cursor.slice(0, 40)).toBeInstanceOf(InvalidCursorError);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InvalidCursorError).code).toBe('INVALID_CURSOR');
    }
  });
});
