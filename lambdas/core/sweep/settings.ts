import { ConfigError } from '../errors';

/** README "The sweep": how many days before the effective due date `Privacy Request Due Soon` goes out. */
export const DUE_SOON_DAYS_ENV = 'QDSR_DUE_SOON_DAYS';
export const DEFAULT_DUE_SOON_DAYS = 5;

/** `QDSR_DUE_SOON_DAYS` (default 5): a whole number of days from 1 to 90. */
export function dueSoonDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[DUE_SOON_DAYS_ENV]?.trim();
  if (!raw) return DEFAULT_DUE_SOON_DAYS;
  const days = Number(raw);
  if (!Number.isSafeInteger(days) || days < 1 || days > 90) {
    throw new ConfigError(
      DUE_SOON_DAYS_ENV,
      `${DUE_SOON_DAYS_ENV} must be a whole number of days from 1 to 90`,
    );
  }
  return days;
}

/**
 * A record written this recently is left alone by the resumption: a request just submitted may not
 * have its execution started yet, and a Step Functions execution just started may not be visible.
 */
export const STALL_GRACE_MS = 60_000;
