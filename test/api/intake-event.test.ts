import type { EventBridgeEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { workflowDeps } from '../../lambdas/core/workflow/deps';
import { handleIntakeEvent, handler, IntakeRejectedError } from '../../lambdas/handlers/intake-event';
import { intakeEvent } from '../support/intake-event';
import { type ApiWorld, startApiWorld } from './harness';

// Outside Lambda the handlers log nothing unless asked: ask, so the log scans below see their lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

/** EventBridge `Privacy Request Submitted` → a request: the API's validation, the event id as default key. */

const CANARY = 'zz-intake-canary';
const EMAIL = `${CANARY}@example.com`;

let w: ApiWorld;
const logged: string[] = [];
beforeAll(async () => {
  w = await startApiWorld();
  // Both streams: the logger writes warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  await w?.close();
});

const event = intakeEvent;

describe('intake events', () => {
  it('a valid event records the request and starts it; its redelivery does neither again', async () => {
    const e = event({ type: 'deletion', email: EMAIL, dryRun: true });
    const first = await handleIntakeEvent(e);
    expect(first).toMatchObject({ accepted: true, created: true });
    const requestId = (first as { requestId: string }).requestId;
    expect(w.starts).toEqual([{ type: 'deletion', requestId }]);
    const record = await workflowDeps().store.get(requestId);
    expect(record).toMatchObject({ type: 'deletion', dryRun: true, idempotencyKey: `event:${e.id}` });

    const redelivered = await handleIntakeEvent(e);
    expect(redelivered).toMatchObject({ accepted: true, created: false, requestId });
    expect(w.starts).toHaveLength(1);
    await w.workflows.settled(requestId);
  });

  it('honours the idempotencyKey of the event over its id', async () => {
    const a = await handleIntakeEvent(
      event({ type: 'access', email: EMAIL, idempotencyKey: 'hr-system:77' }),
    );
    const b = await handleIntakeEvent(
      event({ type: 'access', email: EMAIL, idempotencyKey: 'hr-system:77' }),
    );
    expect(a).toMatchObject({ accepted: true, created: true });
    expect(b).toMatchObject({
      accepted: true,
      created: false,
      requestId: (a as { requestId: string }).requestId,
    });
    await w.workflows.settled((a as { requestId: string }).requestId);
  });

  it('runs as a middy handler too', async () => {
    await expect(handler(event({ type: 'access', email: 'x' }), {} as never)).rejects.toMatchObject({
      name: 'Input.Invalid',
      rejection: 'INVALID_BODY',
    });
  });

  const invalid: Array<[string, EventBridgeEvent<string, unknown>, string]> = [
    [
      'another detail type',
      event({ type: 'access', email: EMAIL }, 'Privacy Request Completed'),
      'UNSUPPORTED_EVENT',
    ],
    ['detail null', event(null), 'INVALID_BODY'],
    ['detail an array', event([{ type: 'access', email: EMAIL }]), 'INVALID_BODY'],
    ['detail a string', event(EMAIL), 'INVALID_BODY'],
    ['invalid email', event({ type: 'access', email: `${CANARY}@@example.com` }), 'INVALID_BODY'],
    ['two emails', event({ type: 'access', email: [EMAIL, EMAIL] }), 'INVALID_BODY'],
    ['CRLF in email', event({ type: 'access', email: `${EMAIL}\r\nBcc: x@example.com` }), 'INVALID_BODY'],
    ['unknown field', event({ type: 'access', email: EMAIL, priority: 'high' }), 'INVALID_BODY'],
    ['dryRun on access', event({ type: 'access', email: EMAIL, dryRun: true }), 'INVALID_BODY'],
    ['dryRun a string', event({ type: 'deletion', email: EMAIL, dryRun: 'yes' }), 'INVALID_BODY'],
    ['bad idempotencyKey', event({ type: 'access', email: EMAIL, idempotencyKey: '../x y' }), 'INVALID_BODY'],
    ['missing type', event({ email: EMAIL }), 'INVALID_BODY'],
    [
      'oversized detail',
      event({ type: 'access', email: EMAIL, pad: 'x'.repeat(70_000) }),
      'PAYLOAD_TOO_LARGE',
    ],
  ];

  it('fails each invalid event with its code, so Lambda parks it in the dead-letter queue: nothing recorded, nothing started, no email in the error or the logs', async () => {
    const before = await w.countRequestItems();
    const starts = w.starts.length;
    for (const [label, e, code] of invalid) {
      const failure = handleIntakeEvent(e);
      await expect(failure, label).rejects.toBeInstanceOf(IntakeRejectedError);
      await failure.catch((err: IntakeRejectedError) => {
        expect(err.rejection, label).toBe(code);
        expect(err.message.toLowerCase(), label).not.toContain(CANARY);
      });
    }
    expect(await w.countRequestItems()).toBe(before);
    expect(w.starts).toHaveLength(starts);
    const output = logged.join('');
    expect(output).toContain('privacy request event rejected');
    expect(output.toLowerCase()).not.toContain(CANARY);
  });

  it('fails an event whose key was used for another request', async () => {
    await handleIntakeEvent(event({ type: 'access', email: EMAIL, idempotencyKey: 'reused-key' }));
    await expect(
      handleIntakeEvent(event({ type: 'deletion', email: EMAIL, idempotencyKey: 'reused-key' })),
    ).rejects.toMatchObject({ rejection: 'IDEMPOTENCY_CONFLICT' });
    for (const id of w.workflows.running()) await w.workflows.settled(id);
  });
});
