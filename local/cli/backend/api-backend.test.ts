import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../exit-codes';
import { apiBackend } from './api-backend';
import { ApiCallError } from './client';

/**
 * `--api`'s transport against a scripted API on loopback: which answers it takes as the command's
 * failure (exit 3 for 401/403, naming what to check), and which calls it makes again (a throttle;
 * for a read, a gateway's 5xx or a connection lost once the API has answered) — never a write
 * that may have arrived.
 */

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Answers the calls in turn with `script` (status and body), the last one from then on; counts them. */
async function scripted(script: Array<[number, unknown] | 'drop'>) {
  const calls: string[] = [];
  server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const step = script[Math.min(calls.length, script.length) - 1]!;
    if (step === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(step[0], { 'content-type': 'application/json' });
    res.end(JSON.stringify(step[1]));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return { url, calls, client: apiBackend({ api: url, retryWaitsMs: [10, 10, 10] }).client };
}

const page = { requests: [], nextCursor: null };
const busy = (code: string) => ({ error: { code, message: 'not now' } });

describe('apiBackend transport', () => {
  it('reads again after a 429, 502, 503 or 504, at most three times more', async () => {
    const api = await scripted([
      [429, busy('THROTTLED')],
      [502, busy('BAD_GATEWAY')],
      [504, busy('INTEGRATION_TIMEOUT')],
      [200, page],
    ]);
    expect(await api.client.listRequests({})).toEqual(page);
    expect(api.calls).toHaveLength(4);

    const always = await scripted([[503, busy('UNAVAILABLE')]]);
    await expect(always.client.listRequests({})).rejects.toMatchObject({ status: 503 });
    expect(always.calls).toHaveLength(4);
  });

  it('repeats a write only when throttled (nothing ran), never after a 5xx', async () => {
    const throttled = await scripted([
      [429, busy('THROTTLED')],
      [200, { retried: [], skipped: [] }],
    ]);
    expect(await throttled.client.retryFailed({ status: 'FAILED' })).toEqual({ retried: [], skipped: [] });
    expect(throttled.calls).toEqual(['POST /requests/retry', 'POST /requests/retry']);

    const failing = await scripted([[502, busy('BAD_GATEWAY')]]);
    const err = await failing.client.retryFailed({ status: 'FAILED' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiCallError);
    expect(failing.calls).toHaveLength(1);
  });

  it('reads again over a connection lost once the API has answered', async () => {
    const api = await scripted([[200, page], 'drop', [200, page]]);
    await api.client.listRequests({});
    expect(await api.client.listRequests({})).toEqual(page);
    expect(api.calls).toHaveLength(3);
  });

  it('a 401 or 403 ends the command with exit 3, with the API’s code, and is not repeated', async () => {
    const api = await scripted([[403, { error: { code: 'ACCESS_DENIED', message: 'not allowed' } }]]);
    const err = await api.client.listRequests({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.ConfigOrConnection);
    expect((err as CliError).message).toBe('the API refused the call (403 ACCESS_DENIED: not allowed)');
    expect(api.calls).toHaveLength(1);
  });
});
