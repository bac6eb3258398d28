import type { ThrottledError } from '../errors';
import type { Reservation } from '../rate-limiter';
import type { LimitedQualtrics, StepEnv } from './env';
import { limiterWaitUntil } from './wait';

/**
 * What a step returns when the limiter denied a call: the exact instant to try again, and the
 * slots the denial reserved (the next attempt must present them, or it would queue anew).
 */
export function limiterWait(
  env: StepEnv,
  q: LimitedQualtrics,
  e: ThrottledError,
  what: string,
  extra: Record<string, unknown> = {},
): { waitUntil: string; reservations?: Reservation[] } {
  env.log.info(`rate limiter: waiting before ${what}`, { waitMs: e.waitMs, bucket: e.bucket, ...extra });
  const reservations = q.reservations();
  return {
    waitUntil: limiterWaitUntil(env.now(), e, env.waitScale),
    ...(reservations.length > 0 ? { reservations } : {}),
  };
}

/** A step's state without the fields of its previous wait (they must not outlive it). */
export function withoutWait<T extends { waitUntil?: string; reservations?: unknown }>(
  state: T,
): Omit<T, 'waitUntil' | 'reservations'> {
  const { waitUntil: _waitUntil, reservations: _reservations, ...rest } = state;
  return rest;
}
