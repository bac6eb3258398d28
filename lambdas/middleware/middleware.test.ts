import middy from '@middy/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { DsrError, ErrorNames, InputError } from '../core/errors';
import { resetWorkflowDeps } from '../core/workflow/deps';
import { handler as recordStartedHandler } from '../handlers/record-started';
import { INTERNAL_ERROR, parseStepEvent, type StepContext, stepLogger, toStepError, workflowStep } from '.';

const EMAIL = 'jane.doe@example.com';
const REQUEST_A = '11111111-1111-4111-8111-111111111111';
const REQUEST_B = '22222222-2222-4222-8222-222222222222';

/** Captures the JSON lines the Powertools Logger writes (info and below to stdout, warn and up to stderr). */
function captureLogs(): {
  lines: () => Array<Record<string, unknown>>;
  raw: () => string;
  restore: () => void;
} {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  return {
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

const Input = z.object({ requestId: z.uuid(), n: z.number() });

/** A step like the real ones: parse, one call, return; with the standard middlewares. */
const echoStep = middy(async (event: unknown, context: StepContext) => {
  const input = parseStepEvent(Input, event);
  context.env.log.info('working', { n: input.n, note: `about ${EMAIL}` });
  await new Promise((r) => setTimeout(r, 5));
  if (input.n < 0) throw new Error(`negative for ${EMAIL}`);
  if (input.n === 0) throw new DsrError(ErrorNames.Transient, 'Qualtrics failed to answer', true);
  return { requestId: input.requestId, doubled: input.n * 2 };
}).use(workflowStep('listDirectories'));

describe('workflow step middlewares', () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    resetWorkflowDeps();
    stepLogger.setLogLevel('DEBUG');
    logs = captureLogs();
  });
  afterEach(() => {
    logs.restore();
    stepLogger.setLogLevel('SILENT');
  });

  it('logs each line with the request id and step, concurrent invocations apart, and no email', async () => {
    const [a, b] = await Promise.all([
      echoStep({ requestId: REQUEST_A, n: 1 }, {} as never),
      echoStep({ requestId: REQUEST_B, n: 2 }, {} as never),
    ]);
    expect(a).toEqual({ requestId: REQUEST_A, doubled: 2 });
    expect(b).toEqual({ requestId: REQUEST_B, doubled: 4 });

    const lines = logs.lines();
    expect(lines.map((l) => l.message).sort()).toEqual(
      ['step finished', 'step finished', 'step started', 'step started', 'working', 'working'].sort(),
    );
    for (const line of lines) {
      expect(line.step).toBe('listDirectories');
      expect([REQUEST_A, REQUEST_B]).toContain(line.requestId);
    }
    const working = lines.filter((l) => l.message === 'working');
    expect(working.find((l) => l.requestId === REQUEST_A)?.n).toBe(1);
    expect(working.find((l) => l.requestId === REQUEST_B)?.n).toBe(2);
    expect(logs.raw()).not.toContain(EMAIL);
    expect(working[0]?.note).toBe('about j***@example.com');
  });

  it('keeps a DsrError for Step Functions and logs its name', async () => {
    const failure = echoStep({ requestId: REQUEST_A, n: 0 }, {} as never);
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.Transient, retryable: true });
    const failed = logs.lines().find((l) => l.message === 'step failed');
    expect(failed).toMatchObject({ requestId: REQUEST_A, errorName: ErrorNames.Transient, retryable: true });
  });

  it('replaces any other error with Internal.Error whose message cannot carry personal data', async () => {
    const failure = echoStep({ requestId: REQUEST_A, n: -1 }, {} as never);
    await expect(failure).rejects.toMatchObject({ name: INTERNAL_ERROR });
    await failure.catch((e: Error) =>
      expect(e.message).toBe('internal error in step listDirectories (Error)'),
    );
    expect(logs.raw()).not.toContain(EMAIL);
    expect(logs.lines().find((l) => l.message === 'step failed')).toMatchObject({
      errorName: INTERNAL_ERROR,
      originalErrorName: 'Error',
    });
  });

  it('rejects an invalid event as Input.Invalid naming fields, never values', async () => {
    const failure = echoStep({ requestId: EMAIL, n: 'x' }, {} as never);
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.Input });
    await failure.catch((e: Error) => {
      expect(e.message).toMatch(/requestId: invalid_format/);
      expect(e.message).toMatch(/n: invalid_type/);
      expect(e.message).not.toContain(EMAIL);
    });
    // A malformed request id is not echoed into the log either.
    expect(logs.lines().every((l) => l.requestId === undefined)).toBe(true);
    expect(logs.raw()).not.toContain(EMAIL);
  });

  it('wraps the real handlers the same way (an unknown request is Request.NotFound)', async () => {
    const failure = recordStartedHandler({ requestId: REQUEST_A, type: 'access' }, {} as never);
    // No requests table here: the store fails as storage (retryable) or the request is unknown.
    await expect(failure).rejects.toMatchObject({
      name: expect.stringMatching(/^(Request\.NotFound|Storage\.Unavailable)$/),
    });
  });
});

describe('toStepError', () => {
  it('keeps DsrErrors and maps the rest to names Step Functions can act on', () => {
    const dsr = new InputError('bad');
    expect(toStepError(dsr, 's')).toBe(dsr);

    const throttled = Object.assign(new Error('Rate exceeded for table x'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(toStepError(throttled, 's')).toMatchObject({ name: ErrorNames.Storage, retryable: true });

    const s3down = Object.assign(new Error('We encountered an internal error'), {
      name: 'InternalError',
      $metadata: { httpStatusCode: 500 },
    });
    expect(toStepError(s3down, 's')).toMatchObject({
      name: ErrorNames.Storage,
      message: 'AWS call failed (InternalError, HTTP 500)',
    });

    const denied = Object.assign(new Error(`User arn:x is not authorized ${EMAIL}`), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const mapped = toStepError(denied, 'writeManifest');
    expect(mapped).toMatchObject({
      name: INTERNAL_ERROR,
      message: 'AWS call failed in step writeManifest (AccessDenied, HTTP 403)',
    });

    const reset = Object.assign(new Error(`connect to ${EMAIL}`), { code: 'ECONNRESET' });
    expect(toStepError(reset, 's')).toMatchObject({ name: ErrorNames.Storage });

    const weird = Object.assign(new Error('x'), { name: `name with ${EMAIL} <script>` });
    expect(toStepError(weird, 's').message).toBe('internal error in step s (Error)');
  });
});
