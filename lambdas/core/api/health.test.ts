import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../catalog';
import { createApi, HEALTH_DEADLINE_MS } from './service';

/** `GET /health` answers inside API Gateway's 29 s, whatever the connection check does. */

const api = (checkConnection: () => Promise<never>, healthDeadlineMs?: number) =>
  createApi({
    store: {} as never,
    starter: {} as never,
    bundles: {} as never,
    checkConnection,
    ...(healthDeadlineMs !== undefined ? { healthDeadlineMs } : {}),
  });

describe('GET /health deadline', () => {
  it('answers 503 CONNECTION_CHECK_TIMEOUT when the check does not finish in time', async () => {
    const started = Date.now();
    const res = await api(
      () => new Promise<never>(() => undefined),
      100,
    )({
      method: 'GET',
      path: '/health',
      headers: {},
      body: null,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'CONNECTION_CHECK_TIMEOUT' } });
  });

  it('by default leaves the api function (and API Gateway, 29 s) time to answer', () => {
    expect(HEALTH_DEADLINE_MS + 5_000).toBeLessThanOrEqual(HANDLERS.api.timeoutSeconds * 1000);
    expect(HANDLERS.api.timeoutSeconds).toBeLessThanOrEqual(29);
  });
});
