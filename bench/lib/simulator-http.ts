import { API_ROOT, buildPath, type EndpointName } from '../../lambdas/core/qualtrics/endpoints';
import { SIMULATOR_CLIENT } from '../../local/simulator/index';

/**
 * Plain-`fetch` access to the Qualtrics simulator for benchmarks, independent of the connector's
 * Qualtrics client (a benchmark must not measure the thing under test through itself).
 */

/** A bearer token from `/oauth2/token` (client credentials, Basic auth). */
export async function simulatorToken(
  baseUrl: string,
  client: { clientId: string; clientSecret: string } = SIMULATOR_CLIENT,
): Promise<string> {
  const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
  const res = await fetch(`${baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (!res.ok) throw new Error(`simulator token request failed: HTTP ${res.status}`);
  const body = (await res.json()) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('simulator token response has no access_token');
  return body.access_token;
}

export function apiUrl(baseUrl: string, endpoint: EndpointName, params: Record<string, string> = {}): string {
  return `${baseUrl}${API_ROOT}${buildPath(endpoint, params)}`;
}

/**
 * How long a 429 asks to wait, in ms: the simulator's exact `X-Simulator-Retry-After-Ms` when
 * present (time-compressed runs), else `Retry-After` seconds.
 */
export function retryAfterMs(res: Response): number | undefined {
  const exact = Number(res.headers.get('x-simulator-retry-after-ms'));
  if (Number.isFinite(exact) && exact > 0) return exact;
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
