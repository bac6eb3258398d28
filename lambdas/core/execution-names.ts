import { InputError } from './errors';
import { normalizeRequestId } from './request-contract';

/**
 * A request's workflow runs under the deterministic name `<requestId>-<attempt>`: starting it
 * twice is harmless, and the execution-ended rule can tell which request an execution served.
 */

export function executionName(requestId: string, attempt = 1): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1)
    throw new InputError('attempt must be a positive integer');
  return `${requestId}-${attempt}`;
}

/** `<requestId>-<attempt>` → the request id (stored form) and attempt; undefined for any other name. */
export function parseExecutionName(name: string): { requestId: string; attempt: number } | undefined {
  const at = name.lastIndexOf('-');
  const requestId = normalizeRequestId(name.slice(0, at));
  const attempt = name.slice(at + 1);
  return requestId && /^\d+$/.test(attempt) ? { requestId, attempt: Number(attempt) } : undefined;
}
