import { describe, expect, it } from 'vitest';
import { ErrorNames, QualtricsError } from '../errors';
import {
  elementsOf,
  idFrom,
  metaErrorCode,
  metaRequestId,
  normalizeJobStatus,
  parseContactSummary,
  parseCustomerDataProgress,
  parseDirectory,
  parseErasureRequest,
  parseTokenGrant,
  parseWhoAmI,
  type ResponseContext,
  rawCursorOf,
  resultOf,
} from './parse';

const ctx: ResponseContext = {
  endpoint: 'getCustomerDataRequest',
  httpStatus: 200,
  qualtricsRequestId: 'rq-1',
};
const EMAIL = 'jane.doe@example.com';

function parseError(fn: () => unknown): QualtricsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QualtricsError);
    const err = e as QualtricsError;
    expect(err.name).toBe(ErrorNames.UnexpectedResponse);
    expect(err.endpoint).toBe(ctx.endpoint);
    expect(err.message).toContain(ctx.endpoint);
    expect(err.message).not.toContain(EMAIL);
    return err;
  }
  throw new Error('expected a parse error');
}

describe('status words', () => {
  const cases: Array<[string, string]> = [
    ['inProgress', 'inProgress'],
    ['in_progress', 'inProgress'],
    ['IN-PROGRESS', 'inProgress'],
    ['Processing', 'inProgress'],
    ['pending', 'inProgress'],
    ['Queued', 'inProgress'],
    ['started', 'inProgress'],
    ['RUNNING', 'inProgress'],
    ['complete', 'complete'],
    ['Completed', 'complete'],
    ['done', 'complete'],
    ['Succeeded', 'complete'],
    ['success', 'complete'],
    ['failed', 'failed'],
    ['Failure', 'failed'],
    ['error', 'failed'],
    ['Cancelled', 'failed'],
    ['canceled', 'failed'],
  ];
  it.each(cases)('maps %s to %s and keeps the raw word', (raw, expected) => {
    expect(normalizeJobStatus(ctx, raw, 'result')).toEqual({ status: expected, rawStatus: raw });
  });

  it('rejects a missing or unknown status without echoing it', () => {
    expect(parseError(() => normalizeJobStatus(ctx, undefined, 'result')).message).toMatch(
      /result\.status is missing/,
    );
    expect(parseError(() => normalizeJobStatus(ctx, 42, 'result')).message).toMatch(/status is missing/);
    const err = parseError(() => normalizeJobStatus(ctx, EMAIL, 'result'));
    expect(err.message).toMatch(/result\.status is not a known status word/);
  });
});

describe('customer data progress', () => {
  it('reads file ids from fileId, fileIds and files[].fileId / files[].id, without repeats', () => {
    expect(parseCustomerDataProgress(ctx, { status: 'complete', fileId: 'F1' }).fileIds).toEqual(['F1']);
    expect(parseCustomerDataProgress(ctx, { status: 'complete', fileIds: ['F1', 'F2'] }).fileIds).toEqual([
      'F1',
      'F2',
    ]);
    expect(
      parseCustomerDataProgress(ctx, { status: 'complete', files: [{ fileId: 'F1' }, { id: 'F2' }, 'F3'] })
        .fileIds,
    ).toEqual(['F1', 'F2', 'F3']);
    expect(
      parseCustomerDataProgress(ctx, { status: 'complete', fileId: 'F1', fileIds: ['F1', 'F2'] }).fileIds,
    ).toEqual(['F1', 'F2']);
    expect(parseCustomerDataProgress(ctx, { status: 'inProgress', fileIds: null }).fileIds).toEqual([]);
  });

  it('keeps percentComplete (number or numeric string), the raw status and a failure reason', () => {
    expect(parseCustomerDataProgress(ctx, { status: 'in_progress', percentComplete: '40.5' })).toEqual({
      status: 'inProgress',
      rawStatus: 'in_progress',
      percentComplete: 40.5,
      fileIds: [],
    });
    expect(parseCustomerDataProgress(ctx, { status: 'Failed', failureReason: 'boom' })).toMatchObject({
      status: 'failed',
      failureReason: 'boom',
    });
  });

  it('rejects malformed file lists by field name', () => {
    expect(
      parseError(() => parseCustomerDataProgress(ctx, { status: 'complete', fileIds: 'F1' })).message,
    ).toMatch(/result\.fileIds is not an array/);
    expect(
      parseError(() => parseCustomerDataProgress(ctx, { status: 'complete', files: [{ name: EMAIL }] }))
        .message,
    ).toMatch(/result\.files\[0\]\.fileId is not a file id/);
  });
});

describe('ids and elements', () => {
  it.each(['customerDataRequestId', 'id', 'requestId', 'requestid'])('reads a job id from %s', (key) => {
    expect(
      idFrom(ctx, { [key]: 'CDR_1' }, ['customerDataRequestId', 'id', 'requestId', 'requestid'], 'result'),
    ).toBe('CDR_1');
  });

  it('names the keys it looked for when none is there', () => {
    expect(parseError(() => idFrom(ctx, { other: EMAIL }, ['id', 'requestId'], 'result')).message).toMatch(
      /result has none of id \/ requestId/,
    );
  });

  it('reads search elements by id or contactId and keeps the raw element', () => {
    const raw = { id: 'CID_1', email: EMAIL };
    expect(parseContactSummary(ctx, raw, 0)).toEqual({ contactId: 'CID_1', raw });
    expect(parseContactSummary(ctx, { contactId: 'CID_2' }, 0).contactId).toBe('CID_2');
    expect(parseError(() => parseContactSummary(ctx, { email: EMAIL }, 3)).message).toMatch(
      /result\.elements\[3\]/,
    );
  });

  it('reads directories with counts as numbers or strings', () => {
    expect(
      parseDirectory(ctx, { directoryId: 'POOL_1', name: 'Main', contactCount: '12', isDefault: 'true' }, 0),
    ).toEqual({ directoryId: 'POOL_1', name: 'Main', contactCount: 12, isDefault: true });
    expect(parseDirectory(ctx, { id: 'POOL_2' }, 0)).toEqual({ directoryId: 'POOL_2' });
  });

  it('requires result and result.elements', () => {
    expect(parseError(() => resultOf(ctx, { meta: {} })).message).toMatch(/result is missing/);
    expect(parseError(() => resultOf(ctx, 'text')).message).toMatch(/not a JSON object/);
    expect(parseError(() => elementsOf(ctx, {})).message).toMatch(/result\.elements is missing/);
    expect(parseError(() => elementsOf(ctx, { elements: [1] })).message).toMatch(
      /elements\[0\] is not an object/,
    );
  });

  it('reads cursors from nextPage, skipToken or nextPageToken', () => {
    expect(rawCursorOf(ctx, { nextPage: 'http://x/API/v3/directories?skipToken=a' })).toEqual({
      nextPage: 'http://x/API/v3/directories?skipToken=a',
    });
    expect(rawCursorOf(ctx, { skipToken: 'a' })).toEqual({ skipToken: 'a' });
    expect(rawCursorOf(ctx, { nextPageToken: 'b' })).toEqual({ skipToken: 'b' });
    expect(rawCursorOf(ctx, { nextPage: null, skipToken: '' })).toEqual({});
    expect(parseError(() => rawCursorOf(ctx, { nextPage: 5 })).message).toMatch(/result\.nextPage/);
  });

  it('reads whoami and requires its ids', () => {
    expect(parseWhoAmI(ctx, { brandId: 'b', userId: 'UR_1', datacenter: 'iad1', language: 'EN' })).toEqual({
      brandId: 'b',
      userId: 'UR_1',
      datacenter: 'iad1',
    });
    expect(parseError(() => parseWhoAmI(ctx, { brandId: 'b', email: EMAIL })).message).toMatch(/userId/);
  });
});

describe('erasure requests', () => {
  it.each(['requestid', 'requestId', 'id'])('reads the erasure id from %s', (key) => {
    expect(parseErasureRequest(ctx, { [key]: 'OP-1', status: 'Completed' }, 'result').erasureRequestId).toBe(
      'OP-1',
    );
  });

  it('normalizes searchOnly (boolean or string), emailsNotFound, dates and the failure reason', () => {
    expect(
      parseErasureRequest(
        ctx,
        {
          requestid: 'OP-1',
          status: 'Completed',
          searchOnly: 'false',
          emailsNotFound: [EMAIL],
          emailList: [EMAIL, 'b@example.com'],
          numEmailsRequested: '2',
          failureReason: null,
          created: 1_700_000_000_000,
          updated: '2024-01-01T00:00:00Z',
        },
        'result',
      ),
    ).toEqual({
      erasureRequestId: 'OP-1',
      status: 'complete',
      rawStatus: 'Completed',
      searchOnly: false,
      emailsNotFound: [EMAIL],
      emailList: [EMAIL, 'b@example.com'],
      numEmailsRequested: 2,
      failureReason: null,
      created: new Date(1_700_000_000_000).toISOString(),
      updated: '2024-01-01T00:00:00Z',
    });
    expect(
      parseErasureRequest(ctx, { id: 'OP-2', status: 'Pending', searchOnly: true }, 'r').searchOnly,
    ).toBe(true);
    expect(parseErasureRequest(ctx, { id: 'OP-3', status: 'Failed', failureReason: 'x' }, 'r')).toMatchObject(
      {
        status: 'failed',
        failureReason: 'x',
      },
    );
  });

  it('uses the id asked for when get-by-id omits it, and rejects a missing status', () => {
    expect(parseErasureRequest(ctx, { status: 'Completed' }, 'result', 'OP-9').erasureRequestId).toBe('OP-9');
    expect(parseError(() => parseErasureRequest(ctx, { id: 'OP-1' }, 'result')).message).toMatch(
      /status is missing/,
    );
  });
});

describe('token responses', () => {
  it('reads a bare RFC 6749 answer, scopes split on spaces', () => {
    expect(
      parseTokenGrant(ctx, {
        access_token: 't',
        expires_in: 3600,
        scope: 'read:users  manage:all',
        token_type: 'Bearer',
      }),
    ).toEqual({ accessToken: 't', expiresInSeconds: 3600, scopes: ['read:users', 'manage:all'] });
    expect(parseTokenGrant(ctx, { access_token: 't', expires_in: '60' })).toEqual({
      accessToken: 't',
      expiresInSeconds: 60,
    });
  });

  it('tolerates an enveloped answer and a missing expires_in', () => {
    expect(parseTokenGrant(ctx, { result: { access_token: 't' }, meta: {} }).accessToken).toBe('t');
    expect(parseTokenGrant(ctx, { access_token: 't' }).expiresInSeconds).toBe(3600);
  });

  it('rejects answers without a token or with a nonsense lifetime, without echoing them', () => {
    const secretish = 'tok-VALUE-1234';
    expect(parseError(() => parseTokenGrant(ctx, { token: secretish })).message).toMatch(
      /access_token is missing/,
    );
    const err = parseError(() => parseTokenGrant(ctx, { access_token: secretish, expires_in: -5 }));
    expect(err.message).toMatch(/expires_in/);
    expect(err.message).not.toContain(secretish);
  });
});

describe('envelope meta', () => {
  it('takes codes and request ids only when they look like codes and ids', () => {
    expect(metaRequestId({ meta: { requestId: '9860c302-d1ae-4a5a-b059-5b6a3274f7b6' } })).toBe(
      '9860c302-d1ae-4a5a-b059-5b6a3274f7b6',
    );
    expect(metaErrorCode({ meta: { error: { errorCode: 'AUTH_6.0' } } })).toBe('AUTH_6.0');
    expect(metaErrorCode({ meta: { error: { errorCode: `bad ${EMAIL}` } } })).toBeUndefined();
    expect(metaRequestId({ meta: { requestId: EMAIL } })).toBeUndefined();
  });
});
