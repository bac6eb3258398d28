import { ConfigError } from '../errors';

/**
 * How long the ledger keeps what (README "Retention"): a request's record, and the raw email in it.
 * Both are environment settings read by every function that writes records; the CDK context
 * `recordRetentionDays` sets the first in AWS.
 */

export const RECORD_RETENTION_ENV = 'QDSR_RECORD_RETENTION_DAYS';
export const FORGET_EMAIL_ENV = 'QDSR_FORGET_EMAIL_AFTER_DAYS';

/** 11 CCR §7101(a): request records are kept at least 24 months. */
export const DEFAULT_RECORD_RETENTION_DAYS = 730;
export const DEFAULT_FORGET_EMAIL_AFTER_DAYS = 30;

/** The warning a retention shorter than the default earns (it works: a GDPR-only controller may want it). */
export function shortRetentionWarning(days: number, setting: string): string | undefined {
  if (days >= DEFAULT_RECORD_RETENTION_DAYS) return undefined;
  return `${setting} is ${days} days: request records will be deleted before the 24 months California requires (11 CCR §7101); keep ${DEFAULT_RECORD_RETENTION_DAYS} unless no CCPA request can reach this connector`;
}

function wholeDays(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const days = Number(raw);
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new ConfigError(name, `${name} must be a whole number of days ≥ 1`);
  }
  return days;
}

/** `QDSR_RECORD_RETENTION_DAYS` (default 730), and a warning when it is shorter than that. */
export function recordRetentionDaysFromEnv(env: NodeJS.ProcessEnv = process.env): {
  days: number;
  warning?: string;
} {
  const days = wholeDays(env, RECORD_RETENTION_ENV, DEFAULT_RECORD_RETENTION_DAYS);
  const warning = shortRetentionWarning(days, RECORD_RETENTION_ENV);
  return warning ? { days, warning } : { days };
}

/** `QDSR_FORGET_EMAIL_AFTER_DAYS` (default 30): days after completion the raw email is erased. */
export function forgetEmailAfterDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return wholeDays(env, FORGET_EMAIL_ENV, DEFAULT_FORGET_EMAIL_AFTER_DAYS);
}
