import { ThrottledError } from '../errors';
import type { Reservation } from '../rate-limiter';
import type { LimitedQualtrics, StepEnv } from './env';
import { limiterWaitUntil } from './wait';

/**
 * What a step returns when the limiter denied a call: the exact instant to try again, and the
 * slots the denial reserved (the next attempt must present them, or it would queue anew).
 */
export interface LimiterWait {
  waitUntil: string;
  reservations?: Reservation[];
}

/** The outcome of one Qualtrics call of a step: its value, or the wait the limiter asked for. */
export type CallOrWait<T> = { value: T } | { wait: LimiterWait };

/**
 * Runs one Qualtrics call of a step. A limiter denial becomes the wait the step returns instead
 * (logged with `what` is next, and `extra` ids); every other error propagates.
 */
export async function callOrWait<T>(
  env: StepEnv,
  q: LimitedQualtrics,
  what: string,
  call: () => Promise<T>,
  extra: Record<string, unknown> = {},
): Promise<CallOrWait<T>> {
  try {
    return { value: await call() };
  } catch (e) {
    if (!(e instanceof ThrottledError)) throw e;
    env.log.info(`rate limiter: waiting before ${what}`, { waitMs: e.waitMs, bucket: e.bucket, ...extra });
    const reservations = q.reservations();
    return {
      wait: {
        waitUntil: limiterWaitUntil(env.now(), e, env.waitScale),
        ...(reservations.length > 0 ? { reservations } : {}),
      },
    };
  }
}

/** A step's state without the fields of its previous wait (they must not outlive it). */
export function withoutWait<T extends { waitUntil?: string; reservations?: unknown }>(
  state: T,
): Omit<T, 'waitUntil' | 'reservations'> {
  const { waitUntil: _waitUntil, reservations: _reservations, ...rest } = state;
  return rest;
}
