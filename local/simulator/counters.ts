import { emailSha256 } from '../../lambdas/core/privacy';
import { ENDPOINT_NAMES } from '../../lambdas/core/qualtrics/endpoints';
import type { EndpointCounters, SimulatorCounters, SubjectCounters } from './types';

export const UNKNOWN_ENDPOINT = 'unknown';

function emptyCounters(): SimulatorCounters {
  const byEndpoint: Record<string, EndpointCounters> = {};
  for (const name of [...ENDPOINT_NAMES, UNKNOWN_ENDPOINT]) {
    byEndpoint[name] = { requests: 0, status429: 0, status5xx: 0, status4xx: 0 };
  }
  return { byEndpoint, bySubject: {}, tokensIssued: 0, log: [] };
}

/** What the simulator saw; subjects are keyed by emailSha256, never by the email. */
export class CounterBook {
  private c = emptyCounters();

  reset(): void {
    this.c = emptyCounters();
  }

  snapshot(includeLog = true): SimulatorCounters {
    const copy = structuredClone(this.c);
    if (!includeLog) copy.log = [];
    return copy;
  }

  request(endpoint: string): void {
    this.endpoint(endpoint).requests++;
  }

  response(endpoint: string, status: number): void {
    const e = this.endpoint(endpoint);
    if (status === 429) e.status429++;
    else if (status >= 500) e.status5xx++;
    else if (status >= 400) e.status4xx++;
  }

  /** Logs an admitted API request; the caller fills `status` once the answer is known. */
  admitted(endpoint: string, at: number): { at: number; endpoint: string; status: number } {
    const entry = { at, endpoint, status: 0 };
    this.c.log.push(entry);
    return entry;
  }

  tokenIssued(): void {
    this.c.tokensIssued++;
  }

  subject(email: string, field: keyof SubjectCounters): void {
    const key = emailSha256(email);
    this.c.bySubject[key] ??= { customerDataCreates: 0, erasureCreates: 0, searches: 0 };
    this.c.bySubject[key][field]++;
  }

  private endpoint(name: string): EndpointCounters {
    this.c.byEndpoint[name] ??= { requests: 0, status429: 0, status5xx: 0, status4xx: 0 };
    return this.c.byEndpoint[name];
  }
}
