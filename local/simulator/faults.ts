import { ENDPOINT_NAMES } from '../../lambdas/core/qualtrics/endpoints';
import { mulberry32 } from './prng';
import type { Fault, FaultInjector } from './types';

const STATUSES = new Set([429, 500, 502, 503, 504]);
export const ALL_API_ENDPOINTS = '*';

interface Armed {
  fault: Fault;
  /** Firings left; undefined = unlimited. */
  remaining: number | undefined;
}

/**
 * Scripted and probabilistic faults per endpoint. An endpoint's own fault wins over `*`; `*`
 * covers every `/API/v3` endpoint but not the token endpoint (name it `token` to fault that).
 * `times` counts firings: with a probability, calls the dice spare do not use one up.
 * A fault with neither status, delay nor hang answers 500.
 */
export class Faults implements FaultInjector {
  random: () => number;
  private readonly armed = new Map<string, Armed>();

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  set(endpoint: string, fault: Fault): void {
    const problem = faultProblem(endpoint, fault);
    if (problem) throw new Error(`invalid fault: ${problem}`);
    this.armed.set(endpoint, { fault: { ...fault }, remaining: fault.times });
  }

  clear(endpoint?: string): void {
    if (endpoint === undefined) this.armed.clear();
    else this.armed.delete(endpoint);
  }

  /** Decides whether one call to `endpoint` is faulted, consuming a scripted firing if so. */
  draw(endpoint: string): Fault | undefined {
    let key = endpoint;
    let entry = this.armed.get(key);
    if (!entry && endpoint !== 'token' && endpoint !== 'unknown') {
      key = ALL_API_ENDPOINTS;
      entry = this.armed.get(key);
    }
    if (!entry) return undefined;
    const p = entry.fault.probability ?? 1;
    if (p < 1 && this.random() >= p) return undefined;
    if (entry.remaining !== undefined) {
      entry.remaining--;
      if (entry.remaining <= 0) this.armed.delete(key);
    }
    const f = entry.fault;
    const status = f.status ?? (f.delayMs === undefined && !f.hang ? 500 : undefined);
    return { ...f, status };
  }
}

/** Why a fault cannot be armed, or undefined when it can. */
export function faultProblem(endpoint: unknown, fault: unknown): string | undefined {
  if (
    typeof endpoint !== 'string' ||
    (endpoint !== ALL_API_ENDPOINTS && !(ENDPOINT_NAMES as string[]).includes(endpoint))
  ) {
    return 'endpoint must be an endpoint name from endpoints.ts or *';
  }
  if (typeof fault !== 'object' || fault === null || Array.isArray(fault)) return 'fault must be an object';
  const f = fault as Record<string, unknown>;
  if (f.status !== undefined && !STATUSES.has(f.status as number)) {
    return 'status must be one of 429, 500, 502, 503, 504';
  }
  if (f.probability !== undefined) {
    const p = f.probability;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) return 'probability must be a number in 0..1';
  }
  if (f.times !== undefined) {
    const t = f.times;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) return 'times must be a positive integer';
  }
  if (f.delayMs !== undefined) {
    const d = f.delayMs;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) return 'delayMs must be a non-negative number';
  }
  if (f.hang !== undefined && typeof f.hang !== 'boolean') return 'hang must be a boolean';
  return undefined;
}
