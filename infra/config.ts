import { originFromEnv } from '../lambdas/core/config';

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
  /** EventBridge schedule expression of the connection check. */
  readonly pollSchedule: string;
  /** When a deletion counts as done: Qualtrics confirmed it, or it was submitted. */
  readonly deletionDone: DeletionDoneMode;
  /** Where alarm notifications go (an SNS email subscription); unset → no subscription. */
  readonly alarmEmail?: string;
  /**
   * Reserved concurrency of each function that calls Qualtrics; 0 → no reservation (for accounts
   * whose concurrency quota is too small to reserve any).
   */
  readonly qualtricsConcurrency: number;
}

export const CONTEXT_KEYS = {
  datacenter: 'datacenter',
  qualtricsSecretArn: 'qualtricsSecretArn',
  targetUtilization: 'targetUtilization',
  retentionDays: 'retentionDays',
  pollSchedule: 'pollSchedule',
  deletionDone: 'deletionDone',
  alarmEmail: 'alarmEmail',
  qualtricsConcurrency: 'qualtricsConcurrency',
} as const satisfies Record<keyof DeploymentSettings, string>;

export const DEFAULT_SETTINGS = {
  targetUtilization: 0.75,
  retentionDays: 30,
  pollSchedule: 'rate(1 hour)',
  deletionDone: 'confirmed',
  qualtricsConcurrency: 5,
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

/** Reads the settings through `node.tryGetContext`; CLI values arrive as strings, cdk.json values typed. */
export function settingsFromContext(read: ContextReader): DeploymentSettings {
  const text = (key: string): string | undefined => {
    const raw = read(key);
    if (raw === undefined || raw === null) return undefined;
    const value = String(raw).trim();
    return value === '' ? undefined : value;
  };
  const number = (key: string, fallback: number): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new SettingsError(key, `"${raw}" is not a number`);
    return value;
  };
  return validateSettings({
    datacenter: text(CONTEXT_KEYS.datacenter),
    qualtricsSecretArn: text(CONTEXT_KEYS.qualtricsSecretArn),
    targetUtilization: number(CONTEXT_KEYS.targetUtilization, DEFAULT_SETTINGS.targetUtilization),
    retentionDays: number(CONTEXT_KEYS.retentionDays, DEFAULT_SETTINGS.retentionDays),
    pollSchedule: text(CONTEXT_KEYS.pollSchedule) ?? DEFAULT_SETTINGS.pollSchedule,
    deletionDone: (text(CONTEXT_KEYS.deletionDone) ?? DEFAULT_SETTINGS.deletionDone) as DeletionDoneMode,
    alarmEmail: text(CONTEXT_KEYS.alarmEmail),
    qualtricsConcurrency: number(CONTEXT_KEYS.qualtricsConcurrency, DEFAULT_SETTINGS.qualtricsConcurrency),
  });
}

export function validateSettings(s: DeploymentSettings): DeploymentSettings {
  if (s.datacenter !== undefined) {
    try {
      originFromEnv({ QUALTRICS_DATACENTER: s.datacenter });
    } catch {
      throw new SettingsError(
        CONTEXT_KEYS.datacenter,
        'expected a Qualtrics datacenter id such as iad1, fra1 or ca1',
      );
    }
  }
  if (s.qualtricsSecretArn !== undefined && !SECRET_ARN.test(s.qualtricsSecretArn)) {
    throw new SettingsError(CONTEXT_KEYS.qualtricsSecretArn, 'expected a Secrets Manager secret ARN');
  }
  if (!(s.targetUtilization > 0 && s.targetUtilization <= 1)) {
    throw new SettingsError(CONTEXT_KEYS.targetUtilization, 'must be in (0, 1], e.g. 0.75');
  }
  if (!Number.isInteger(s.retentionDays) || s.retentionDays < 1) {
    throw new SettingsError(CONTEXT_KEYS.retentionDays, 'must be a whole number of days ≥ 1');
  }
  if (!SCHEDULE.test(s.pollSchedule)) {
    throw new SettingsError(
      CONTEXT_KEYS.pollSchedule,
      'expected an EventBridge rate(…) or cron(…) expression',
    );
  }
  if (s.deletionDone !== 'confirmed' && s.deletionDone !== 'submitted') {
    throw new SettingsError(CONTEXT_KEYS.deletionDone, 'must be "confirmed" or "submitted"');
  }
  if (s.alarmEmail !== undefined && !EMAIL.test(s.alarmEmail)) {
    // The value is the operator's own address; it is not echoed back anyway.
    throw new SettingsError(CONTEXT_KEYS.alarmEmail, 'is not an email address');
  }
  if (!Number.isInteger(s.qualtricsConcurrency) || s.qualtricsConcurrency < 0) {
    throw new SettingsError(
      CONTEXT_KEYS.qualtricsConcurrency,
      'must be a whole number ≥ 0 (0 = no reservation)',
    );
  }
  return s;
}
