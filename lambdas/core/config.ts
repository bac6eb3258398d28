import { ConfigError } from './errors';

/**
 * Settings shared by the CLI and the Lambdas (same names in both; BRIEF §3). Parsed once, validated
 * with messages that name the variable to fix and never echo a secret.
 */
export interface QualtricsSettings {
  /** Origin, e.g. `https://iad1.qualtrics.com`; the API lives at `<origin>/API/v3`. */
  origin: string;
  /** Datacenter id when known (from QUALTRICS_DATACENTER or the host), for tenant keys. */
  datacenter?: string;
  clientId: string;
  clientSecret: string;
}

export const DEFAULT_TARGET_UTILIZATION = 0.75;

/**
 * What a secret the stack creates holds until the user stores their OAuth client
 * (docs/deploy.md, "Store the Qualtrics secret"): never a real credential in the template.
 */
export const SECRET_PLACEHOLDERS = {
  clientId: 'REPLACE_WITH_QUALTRICS_CLIENT_ID',
  datacenter: 'REPLACE_WITH_DATACENTER_ID',
} as const;

const DATACENTER = /^([a-z0-9-]+\.)?[a-z]{2,3}[0-9]*$/;

export function originFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { origin: string; datacenter?: string } | undefined {
  const base = env.QUALTRICS_BASE_URL?.trim();
  if (base) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new ConfigError(
        'QUALTRICS_BASE_URL',
        'QUALTRICS_BASE_URL is not a valid URL (expected e.g. https://iad1.qualtrics.com)',
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError('QUALTRICS_BASE_URL', 'QUALTRICS_BASE_URL must be an http(s) URL');
    }
    if (url.username || url.password) {
      throw new ConfigError('QUALTRICS_BASE_URL', 'QUALTRICS_BASE_URL must not contain credentials');
    }
    const host = url.hostname;
    const dc = host.endsWith('.qualtrics.com')
      ? host.slice(0, -'.qualtrics.com'.length).split('.').pop()
      : undefined;
    return { origin: url.origin, datacenter: dc };
  }
  const dc = env.QUALTRICS_DATACENTER?.trim();
  if (dc) {
    if (!DATACENTER.test(dc)) {
      throw new ConfigError(
        'QUALTRICS_DATACENTER',
        'QUALTRICS_DATACENTER must be a datacenter id such as iad1, fra1 or ca1 (optionally <org>.<dc>)',
      );
    }
    return { origin: `https://${dc}.qualtrics.com`, datacenter: dc.split('.').pop() };
  }
  return undefined;
}

/** True when the user configured a real Qualtrics (then the simulator is not used). */
export function qualtricsConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.QUALTRICS_BASE_URL?.trim() || env.QUALTRICS_DATACENTER?.trim());
}

export function qualtricsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): QualtricsSettings {
  const o = originFromEnv(env);
  if (!o) {
    throw new ConfigError(
      'QUALTRICS_BASE_URL',
      'set QUALTRICS_BASE_URL or QUALTRICS_DATACENTER to reach Qualtrics',
    );
  }
  const clientId = env.QUALTRICS_CLIENT_ID?.trim();
  if (!clientId) throw new ConfigError('QUALTRICS_CLIENT_ID', 'QUALTRICS_CLIENT_ID is not set');
  const clientSecret = env.QUALTRICS_CLIENT_SECRET;
  if (!clientSecret) throw new ConfigError('QUALTRICS_CLIENT_SECRET', 'QUALTRICS_CLIENT_SECRET is not set');
  return { ...o, clientId, clientSecret };
}

export function targetUtilizationFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.QDSR_TARGET_UTILIZATION?.trim();
  if (!raw) return DEFAULT_TARGET_UTILIZATION;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new ConfigError(
      'QDSR_TARGET_UTILIZATION',
      'QDSR_TARGET_UTILIZATION must be a number in (0, 1], e.g. 0.75',
    );
  }
  return value;
}
