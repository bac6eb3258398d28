import { describe, expect, it } from 'vitest';
import { ErrorNames, QualtricsError, ThrottledError } from '../errors';
import type { ExportWriter } from '../export-writer';
import type { RequestStore } from '../request-store';
import type { StepLog } from './env';
import { fakeQualtrics, RESERVED, testEnv } from './testing';
import { callOrWait, withoutWait } from './throttle';

/** A step environment whose store and writer are never touched: callOrWait only logs and reads the clock. */
function env(reservations = RESERVED) {
  const lines: Array<{ message: string; extra: Record<string, unknown> }> = [];
  const log: StepLog = {
    debug() {},
    info: (message, ...extra) => lines.push({ message, extra: Object.assign({}, ...extra) }),
    warn() {},
    error() {},
  };
  const e = {
    ...testEnv({ store: {} as RequestStore, writer: {} as ExportWriter, api: fakeQualtrics() }),
    log,
  };
  const q = { api: fakeQualtrics(), reservations: () => [...reservations] };
  return { env: e, q, lines };
}

describe('callOrWait', () => {
  it('passes the value of a call through', async () => {
    const { env: e, q, lines } = env();
    await expect(callOrWait(e, q, 'the next page', async () => ({ page: 1 }))).resolves.toEqual({
      value: { page: 1 },
    });
    expect(lines).toEqual([]);
  });

  it('turns a limiter denial into the wait: the instant to retry and the slots reserved', async () => {
    const { env: e, q, lines } = env();
    const got = await callOrWait(
      e,
      q,
      'the next contact',
      () => Promise.reject(new ThrottledError(1500, 'brand')),
      { directoryId: 'POOL_1' },
    );
    // Whole seconds when not scaled (the Wait state's precision).
    expect(got).toEqual({
      wait: { waitUntil: new Date(e.now() + 2000).toISOString(), reservations: RESERVED },
    });
    expect(lines).toEqual([
      {
        message: 'rate limiter: waiting before the next contact',
        extra: { waitMs: 1500, bucket: 'brand', directoryId: 'POOL_1' },
      },
    ]);
  });

  it("counts from the limiter's own instant when it gives one, and omits empty reservations", async () => {
    const { env: e, q } = env([]);
    const retryAt = e.now() + 3000;
    e.tick(1200); // the step spent time since the limiter answered
    const got = await callOrWait(e, q, 'x', () => Promise.reject(new ThrottledError(3000, 'brand', retryAt)));
    expect(got).toEqual({ wait: { waitUntil: new Date(retryAt).toISOString() } });
  });

  it('lets every other error through untouched', async () => {
    const { env: e, q } = env();
    const failure = new QualtricsError(ErrorNames.Transient, 'down', { httpStatus: 503 });
    await expect(callOrWait(e, q, 'x', () => Promise.reject(failure))).rejects.toBe(failure);
  });
});

describe('withoutWait', () => {
  it("drops the previous wait's instant and reservations, and nothing else", () => {
    expect(withoutWait({ polls: 2, waitUntil: 'then', reservations: RESERVED })).toEqual({ polls: 2 });
  });
});
