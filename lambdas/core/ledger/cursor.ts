import { InputError } from '../errors';

/**
 * The `cursor` of a ledger list: where the previous page stopped in the index it read (DynamoDB's
 * LastEvaluatedKey), as opaque base64url JSON. Decoding checks everything — the index it came
 * from, the exact key attributes, their types and lengths — so a cursor edited by hand, or one
 * taken from another listing, is a 400 and never reaches DynamoDB as an arbitrary key.
 */

export class InvalidCursorError extends InputError {
  constructor() {
    super('cursor is not a cursor this listing returned');
  }
  override get code(): string {
    return 'INVALID_CURSOR';
  }
}

const MAX_CURSOR_LENGTH = 2048;
const MAX_KEY_VALUE_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const VERSION = 1;

export type IndexKey = Record<string, string>;

export function encodeCursor(index: string, key: IndexKey): string {
  const sorted = Object.fromEntries(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)));
  return Buffer.from(JSON.stringify({ v: VERSION, i: index, k: sorted }), 'utf8').toString('base64url');
}

/** The key `cursor` holds for `index`, which must have exactly `attributes`; InvalidCursorError otherwise. */
export function decodeCursor(cursor: string, index: string, attributes: readonly string[]): IndexKey {
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    throw new InvalidCursorError();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const { v, i, k } = (parsed ?? {}) as { v?: unknown; i?: unknown; k?: unknown };
  if (v !== VERSION || i !== index || typeof k !== 'object' || k === null || Array.isArray(k)) {
    throw new InvalidCursorError();
  }
  const entries = Object.entries(k);
  const valid =
    entries.length === attributes.length &&
    entries.every(
      ([name, value]) =>
        attributes.includes(name) &&
        typeof value === 'string' &&
        value.length > 0 &&
        value.length <= MAX_KEY_VALUE_LENGTH,
    );
  if (!valid) throw new InvalidCursorError();
  // Base64 decoding forgives (trailing characters, padding bits): only our own encoding is ours.
  if (encodeCursor(index, k as IndexKey) !== cursor) throw new InvalidCursorError();
  return k as IndexKey;
}
