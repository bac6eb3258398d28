import { describe, expect, it } from 'vitest';
import {
  MAX_JSON_DEPTH,
  parseCreateRequest,
  parseExtensionRequest,
  parseSubjectSearch,
  validateCreateRequest,
} from './body';
import { type ApiRequest, MAX_BODY_BYTES } from './http';
import { rejection } from './testing';

const SUBJECT = 'jane.doe@example.com';

function post(
  body: string | null,
  contentType: string | null = 'application/json',
  extra: Partial<ApiRequest> = {},
) {
  const headers: ApiRequest['headers'] = contentType === null ? {} : { 'Content-Type': contentType };
  return { method: 'POST', path: '/requests', headers, body, ...extra } satisfies ApiRequest;
}

describe('parseCreateRequest', () => {
  it('accepts each valid shape and returns only the known fields', () => {
    expect(parseCreateRequest(post(JSON.stringify({ type: 'access', email: SUBJECT })))).toEqual({
      type: 'access',
      email: SUBJECT,
    });
    expect(
      parseCreateRequest(
        post(
          JSON.stringify({ type: 'deletion', email: SUBJECT, dryRun: true, idempotencyKey: 'crm:42.a_b-c' }),
        ),
      ),
    ).toEqual({ type: 'deletion', email: SUBJECT, dryRun: true, idempotencyKey: 'crm:42.a_b-c' });
    expect(
      parseCreateRequest(
        post(JSON.stringify({ type: 'deletion', email: SUBJECT }), 'Application/JSON; charset="UTF-8"'),
      ),
    ).toEqual({ type: 'deletion', email: SUBJECT });
    // International addresses are real addresses.
    expect(
      parseCreateRequest(post(JSON.stringify({ type: 'access', email: 'jöran@exämple.se' }))).email,
    ).toBe('jöran@exämple.se');
  });

  it('reads a base64 body (API Gateway binary media types)', () => {
    const body = Buffer.from(JSON.stringify({ type: 'access', email: SUBJECT })).toString('base64');
    expect(parseCreateRequest(post(body, 'application/json', { isBase64Encoded: true })).type).toBe('access');
  });

  it('refuses a body over 64 KiB with 413, counting bytes, not characters', () => {
    const padding = 'é'.repeat(MAX_BODY_BYTES / 2); // 2 bytes each: 64 KiB of padding alone
    const e = rejection(() =>
      parseCreateRequest(post(JSON.stringify({ type: 'access', email: SUBJECT, padding }))),
    );
    expect([e.status, e.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('names the rule broken and never quotes the input', () => {
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['missing email', { type: 'access' }, 'INVALID_BODY', /email is required/],
      [
        'two addresses',
        { type: 'access', email: `${SUBJECT},x@example.com` },
        'INVALID_BODY',
        /single address/,
      ],
      ['bidi override', { type: 'access', email: `jane\u202e@example.com` }, 'INVALID_BODY', /invisible/],
      ['lone surrogate', { type: 'access', email: `jane\ud800@example.com` }, 'INVALID_BODY', /Unicode/],
      [
        'dry run on access',
        { type: 'access', email: SUBJECT, dryRun: true },
        'INVALID_BODY',
        /only valid for deletion/,
      ],
      [
        'extra field',
        { type: 'access', email: SUBJECT, role: 'admin' },
        'INVALID_BODY',
        /unknown field role/,
      ],
      [
        'email-shaped key',
        { type: 'access', email: SUBJECT, [SUBJECT]: 1 },
        'INVALID_BODY',
        /the body has unknown fields/,
      ],
      ['array', [SUBJECT], 'INVALID_BODY', /must be a JSON object/],
      [
        'bad key',
        { type: 'access', email: SUBJECT, idempotencyKey: 'a b' },
        'INVALID_BODY',
        /idempotencyKey must be/,
      ],
    ];
    for (const [label, body, code, message] of cases) {
      const e = rejection(() => parseCreateRequest(post(JSON.stringify(body))));
      expect([label, e.status, e.code], label).toEqual([label, 400, code]);
      expect(e.message, label).toMatch(message);
      expect(e.message.toLowerCase(), label).not.toContain('jane');
    }
  });

  it('refuses JSON nested deeper than the limit with a clear message', () => {
    const deep = `{"type":"access","email":"${SUBJECT}","x":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    const e = rejection(() => parseCreateRequest(post(deep)));
    expect([e.status, e.code]).toEqual([400, 'INVALID_JSON']);
    expect(e.message).toMatch(/deeper than 32/);
    // Brackets inside strings do not count.
    expect(() =>
      parseCreateRequest(post(`{"type":"access","email":"${SUBJECT}","x":"${'['.repeat(40)}"}`)),
    ).toThrow(/unknown field x/);
  });

  it('never echoes what JSON.parse would quote', () => {
    const e = rejection(() => parseCreateRequest(post(`{"email": ${SUBJECT}}`)));
    expect([e.status, e.code, e.message]).toEqual([
      400,
      'INVALID_JSON',
      'the request body is not valid JSON',
    ]);
  });

  it('answers 415 for anything but JSON in UTF-8', () => {
    const body = JSON.stringify({ type: 'access', email: SUBJECT });
    for (const type of [
      null,
      'text/plain',
      'application/json-patch+json',
      'application/json; charset=latin1',
    ]) {
      expect(rejection(() => parseCreateRequest(post(body, type))).status, String(type)).toBe(415);
    }
  });

  it('rejects invalid UTF-8 and invalid base64', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"type":"access","email":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const latin = rejection(() =>
      parseCreateRequest(post(bytes.toString('base64'), 'application/json', { isBase64Encoded: true })),
    );
    expect(latin.code).toBe('INVALID_ENCODING');
    const notBase64 = rejection(() =>
      parseCreateRequest(post('%%%', 'application/json', { isBase64Encoded: true })),
    );
    expect(notBase64.code).toBe('INVALID_BODY');
  });

  it('validates an already-parsed object the same way (EventBridge detail)', () => {
    expect(validateCreateRequest({ type: 'deletion', email: SUBJECT, dryRun: false })).toEqual({
      type: 'deletion',
      email: SUBJECT,
      dryRun: false,
    });
    expect(() => validateCreateRequest(null)).toThrow(/JSON object/);
    expect(() => validateCreateRequest({ type: 'erase', email: SUBJECT })).toThrow(/type must be/);
  });
});

describe('parseSubjectSearch', () => {
  const search = (body: unknown) =>
    post(JSON.stringify(body), 'application/json', { path: '/requests/search' });

  it('takes exactly one email, by the submission email rule', () => {
    expect(parseSubjectSearch(search({ email: SUBJECT }))).toEqual({ email: SUBJECT });
    expect(parseSubjectSearch(search({ email: 'Jane.Doe@Example.COM' }))).toEqual({
      email: 'Jane.Doe@Example.COM',
    });
    for (const [body, message] of [
      [{}, /email is required/],
      [{ email: `${SUBJECT},x@example.com` }, /single address/],
      [{ email: 'jane doe@example.com' }, /whitespace/],
      [{ email: SUBJECT, type: 'access' }, /unknown field type/],
      [[SUBJECT], /must be a JSON object/],
    ] as const) {
      const e = rejection(() => parseSubjectSearch(search(body)));
      expect([e.status, e.code, e.message]).toEqual([400, 'INVALID_BODY', expect.stringMatching(message)]);
      expect(e.message.toLowerCase()).not.toContain('jane');
    }
    expect(rejection(() => parseSubjectSearch(post(SUBJECT, 'text/plain'))).status).toBe(415);
  });
});

describe('parseExtensionRequest', () => {
  const extend = (body: unknown) => post(JSON.stringify(body));

  it('takes a reason of 1-500 characters, not only spaces', () => {
    expect(parseExtensionRequest(extend({ reason: 'complex request' }))).toEqual({
      reason: 'complex request',
    });
    expect(parseExtensionRequest(extend({ reason: 'x'.repeat(500) })).reason).toHaveLength(500);
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 42 }]) {
      const e = rejection(() => parseExtensionRequest(extend(body)));
      expect([e.status, e.code], JSON.stringify(body)).toEqual([400, 'INVALID_BODY']);
      expect(e.message).toMatch(/reason (must be 1-500 characters|is required)/);
    }
    const extra = rejection(() => parseExtensionRequest(extend({ reason: 'x', until: '2026-05-01' })));
    expect(extra.message).toMatch(/unknown field until/);
  });
});
