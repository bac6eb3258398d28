import { DEFAULT_QUALTRICS_CONCURRENCY } from '../lambdas/catalog';
import { originFromEnv } from '../lambdas/core/config';
import {
  DEFAULT_FORGET_EMAIL_AFTER_DAYS,
  DEFAULT_RECORD_RETENTION_DAYS,
  isJurisdiction,
  JURISDICTIONS,
  type Jurisdiction,
} from '../lambdas/core/ledger';

/**
 * Deployment settings of the stack, read from CDK context (`cdk.json` or `-c key=value`) with
 * documented defaults (docs/deploy.md). The context keys are a contract with our users' scripts.
 */

export type DeletionDoneMode = 'confirmed' | 'submitted';

export interface DeploymentSettings {
  /** Qualtrics datacenter id (`iad1`, `fra1`, `<org>.<dc>`); unset → taken from the secret's `datacenter`. */
  readonly datacenter?: string;
  /** An existing Secrets Manager secret with `{clientId, clientSecret, datacenter}`; unset → the stack creates one. */
  readonly qualtricsSecretArn?: string;
  /** Share of every Qualtrics limit the rate limiter admits, in (0, 1]. */
  readonly targetUtilization: number;
  /** Days an export bundle is kept in S3 before lifecycle expiry. */
  readonly retentionDays: number;
  /**
   * Days a request's record is kept after its response (or its receipt, if never answered):
   * QDSR_RECORD_RETENTION_DAYS of every function that writes records. Under 730 warns (11 CCR §7101).
   */
  readonly recordRetentionDays: number;
  /** Days after completion a request's raw email is erased (QDSR_FORGET_EMAIL_AFTER_DAYS). */
  readonly forgetEmailAfterDays: number;
  /** Jurisdiction of a request submitted without one (QDSR_DEFAULT_JURISDICTION). */
  readonly defaultJurisdiction: Jurisdiction;
  /** EventBridge schedule expression of the connection check. */
  readonly connectionCheckSchedule: string;
  /** When a deletion counts as done: Qualtrics confirmed it, or it was submitted. */
  readonly deletionDone: DeletionDoneMode;
  /** Where alarm notifications go (an SNS email subscription); unset → no subscription. */
  readonly alarmEmail?: string;
  /**
   * Reserved concurrency of each function that calls Qualtrics; 0 (the default) → no reservation.
   * The shared rate limiter already paces Qualtrics; a reservation only caps how many calls are in
   * flight at once, and it needs an account quota of 100 + the sum of all reservations.
   */
  readonly qualtricsConcurrency: number;
}

export const CONTEXT_KEYS = {
  datacenter: 'datacenter',
  qualtricsSecretArn: 'qualtricsSecretArn',
  targetUtilization: 'targetUtilization',
  retentionDays: 'retentionDays',
  recordRetentionDays: 'recordRetentionDays',
  forgetEmailAfterDays: 'forgetEmailAfterDays',
  defaultJurisdiction: 'defaultJurisdiction',
  connectionCheckSchedule: 'connectionCheckSchedule',
  deletionDone: 'deletionDone',
  alarmEmail: 'alarmEmail',
  qualtricsConcurrency: 'qualtricsConcurrency',
} as const satisfies Record<keyof DeploymentSettings, string>;

/**
 * Context keys that were renamed: old key → the setting it now names. The old key is still read
 * when the new one is unset, with a deprecation warning; when both are set, the new one wins.
 */
export const RENAMED_CONTEXT_KEYS = {
  pollSchedule: 'connectionCheckSchedule',
} as const satisfies Record<string, keyof DeploymentSettings>;

export const DEFAULT_SETTINGS = {
  targetUtilization: 0.75,
  retentionDays: 30,
  recordRetentionDays: DEFAULT_RECORD_RETENTION_DAYS,
  forgetEmailAfterDays: DEFAULT_FORGET_EMAIL_AFTER_DAYS,
  defaultJurisdiction: 'gdpr',
  connectionCheckSchedule: 'rate(1 hour)',
  deletionDone: 'confirmed',
  qualtricsConcurrency: DEFAULT_QUALTRICS_CONCURRENCY,
} as const satisfies Partial<DeploymentSettings>;

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SCHEDULE = /^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\([^)]+\))$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A setting that cannot be deployed; the message names the context key to fix. */
export class SettingsError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`context "${key}": ${message}`);
    this.name = 'SettingsError';
  }
}

type ContextReader = (key: string) => unknown;

/** The context key each setting is read from. */
export type SettingKeys = Record<keyof DeploymentSettings, string>;

/**
 * Reads the settings through `node.tryGetContext`; CLI values arrive as strings, cdk.json values
 * typed. `warn` hears of every renamed key still in use (the app turns it into a synth warning).
 */
export function settingsFromContext(
  read: ContextReader,
  warn: (message: string, oldKey: string) => void = (message) => console.warn(message),
): DeploymentSettings {
  const text = (key: string): string | undefined => {
    const raw = read(key);
    if (raw === undefined || raw === null) return undefined;
    const value = String(raw).trim();
    return value === '' ? undefined : value;
  };
  const keys: SettingKeys = { ...CONTEXT_KEYS };
  for (const [oldKey, setting] of Object.entries(RENAMED_CONTEXT_KEYS)) {
    if (text(oldKey) === undefined) continue;
    if (text(CONTEXT_KEYS[setting]) !== undefined) {
      warn(`context "${oldKey}" is deprecated and ignored: "${CONTEXT_KEYS[setting]}" is set`, oldKey);
    } else {
      warn(`context "${oldKey}" is deprecated: rename it to "${CONTEXT_KEYS[setting]}"`, oldKey);
      keys[setting] = oldKey;
    }
  }
  const number = (key: string, fallback: number): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new SettingsError(key, `"${raw}" is not a number`);
    return value;
  };
  return validateSettings(
    {
      datacenter: text(keys.datacenter),
      qualtricsSecretArn: text(keys.qualtricsSecretArn),
      targetUtilization: number(keys.targetUtilization, DEFAULT_SETTINGS.targetUtilization),
      retentionDays: number(keys.retentionDays, DEFAULT_SETTINGS.retentionDays),
      recordRetentionDays: number(keys.recordRetentionDays, DEFAULT_SETTINGS.recordRetentionDays),
      forgetEmailAfterDays: number(keys.forgetEmailAfterDays, DEFAULT_SETTINGS.forgetEmailAfterDays),
      defaultJurisdiction: (text(keys.defaultJurisdiction) ??
        DEFAULT_SETTINGS.defaultJurisdiction) as Jurisdiction,
      connectionCheckSchedule: text(keys.connectionCheckSchedule) ?? DEFAULT_SETTINGS.connectionCheckSchedule,
      deletionDone: (text(keys.deletionDone) ?? DEFAULT_SETTINGS.deletionDone) as DeletionDoneMode,
      alarmEmail: text(keys.alarmEmail),
      qualtricsConcurrency: number(keys.qualtricsConcurrency, DEFAULT_SETTINGS.qualtricsConcurrency),
    },
    keys,
  );
}

/** Checks every setting; an error names the context key it was read from (`keys`). */
export function validateSettings(
  s: DeploymentSettings,
  keys: SettingKeys = CONTEXT_KEYS,
): DeploymentSettings {
  if (s.datacenter !== undefined) {
    try {
      originFromEnv({ QUALTRICS_DATACENTER: s.datacenter });
    } catch {
      throw new SettingsError(
        keys.datacenter,
        'expected a Qualtrics datacenter id such as iad1, fra1 or ca1',
      );
    }
  }
  if (s.qualtricsSecretArn !== undefined && !SECRET_ARN.test(s.qualtricsSecretArn)) {
    throw new SettingsError(keys.qualtricsSecretArn, 'expected a Secrets Manager secret ARN');
  }
  if (!(s.targetUtilization > 0 && s.targetUtilization <= 1)) {
    throw new SettingsError(keys.targetUtilization, 'must be in (0, 1], e.g. 0.75');
  }
  if (!Number.isInteger(s.retentionDays) || s.retentionDays < 1) {
    throw new SettingsError(keys.retentionDays, 'must be a whole number of days ≥ 1');
  }
  for (const key of ['recordRetentionDays', 'forgetEmailAfterDays'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) {
      throw new SettingsError(keys[key], 'must be a whole number of days ≥ 1');
    }
  }
  if (!isJurisdiction(s.defaultJurisdiction)) {
    throw new SettingsError(keys.defaultJurisdiction, `must be one of ${JURISDICTIONS.join(', ')}`);
  }
  if (!SCHEDULE.test(s.connectionCheckSchedule)) {
    throw new SettingsError(
      keys.connectionCheckSchedule,
      'expected an EventBridge rate(…) or cron(…) expression',
    );
  }
  if (s.deletionDone !== 'confirmed' && s.deletionDone !== 'submitted') {
    throw new SettingsError(keys.deletionDone, 'must be "confirmed" or "submitted"');
  }
  if (s.alarmEmail !== undefined && !EMAIL.test(s.alarmEmail)) {
    // The value is the operator's own address; it is not echoed back anyway.
    throw new SettingsError(keys.alarmEmail, 'is not an email address');
  }
  if (!Number.isInteger(s.qualtricsConcurrency) || s.qualtricsConcurrency < 0) {
    throw new SettingsError(keys.qualtricsConcurrency, 'must be a whole number ≥ 0 (0 = no reservation)');
  }
  return s;
}
