import { ConfigError } from './errors';

/**
 * Settings shared by the CLI and the Lambdas (same names in both; README "Configuration"). Parsed once,
 * validated with messages that name the variable to fix and never echo a secret.
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

/**
 * Set by the local runtime to the origin of the simulator it started, so that what ran against it
 * says so (`qualtrics.target` = "simulator"; README "Configuration").
 */
export const SIMULATOR_ORIGIN_ENV = 'QDSR_SIMULATOR_ORIGIN';

/**
 * Which Qualtrics a request runs against, as records, manifests and evidence say it: "simulator"
 * when the origin is the simulator the local runtime started, else the origin itself (never a
 * credential: an origin holds none, see `originFromEnv`).
 */
export function qualtricsTarget(origin: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[SIMULATOR_ORIGIN_ENV] === origin ? 'simulator' : origin;
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

/**
 * Every environment setting the connector reads, in the CLI and in Lambda: the one list. A
 * `QUALTRICS_*` or `QDSR_*` variable not in it is most likely a typo of one that is (README,
 * "Configuration"; docs/deploy.md lists those the stack sets).
 */
export const KNOWN_SETTINGS = [
  // Qualtrics (README "Configuration")
  'QUALTRICS_BASE_URL',
  'QUALTRICS_DATACENTER',
  'QUALTRICS_CLIENT_ID',
  'QUALTRICS_CLIENT_SECRET',
  'QUALTRICS_SECRET_ARN',
  'QDSR_TARGET_UTILIZATION',
  'QDSR_DELETION_DONE',
  'QDSR_QUALTRICS_TIMEOUT_MS',
  // The request ledger (README "Configuration")
  'QDSR_DEFAULT_JURISDICTION',
  'QDSR_RECORD_RETENTION_DAYS',
  'QDSR_FORGET_EMAIL_AFTER_DAYS',
  // The sweep (README "The sweep")
  'QDSR_DUE_SOON_DAYS',
  // The local runtime
  'QDSR_LOCAL_CONCURRENCY',
  'QDSR_WAIT_SCALE',
  SIMULATOR_ORIGIN_ENV,
  // Set by the stack (or the local runtime) for the functions
  'QDSR_LIMITER_TABLE',
  'QDSR_REQUESTS_TABLE',
  'QDSR_EXPORT_BUCKET',
  'QDSR_EXPORT_KMS_KEY_ID',
  'QDSR_EVENT_BUS',
  'QDSR_ACCESS_STATE_MACHINE_ARN',
  'QDSR_DELETION_STATE_MACHINE_ARN',
] as const;

const SETTING_PREFIXES = ['QUALTRICS_', 'QDSR_'] as const;

export interface UnknownSetting {
  name: string;
  /** The known setting it most likely meant. */
  closest: string;
}

/** `QUALTRICS_*` / `QDSR_*` variables of `env` that are no known setting, each with the closest known one. */
export function unknownSettings(env: NodeJS.ProcessEnv = process.env): UnknownSetting[] {
  const known = new Set<string>(KNOWN_SETTINGS);
  return Object.keys(env)
    .filter((name) => SETTING_PREFIXES.some((p) => name.startsWith(p)) && !known.has(name))
    .sort()
    .map((name) => ({ name, closest: closestSetting(name) }));
}

/** The known setting nearest to `name`: an abbreviation (QUALTRICS_DC) counts as near its full form. */
export function closestSetting(name: string): string {
  const suffix = (n: string) => n.slice((SETTING_PREFIXES.find((p) => n.startsWith(p)) ?? '').length);
  const score = (known: string): number => {
    const a = suffix(name);
    const b = suffix(known);
    let d = editDistance(a, b);
    // Letters in order of the known name (DC → DATACENTER, CLIENTID → CLIENT_ID): an abbreviation.
    // A part of the known name (TIMEOUT_MS → QDSR_QUALTRICS_TIMEOUT_MS) too.
    const abbreviates = a.length >= 2 && ((isSubsequence(a, b) && a[0] === b[0]) || b.includes(a));
    if (abbreviates) d = Math.min(d, 1 + (b.length - a.length) / 10);
    // The other prefix (QDSR_DATACENTER for QUALTRICS_DATACENTER) costs a little.
    if (suffix(name) !== name && !known.startsWith(name.slice(0, name.length - a.length))) d += 0.5;
    return d;
  };
  let best: string = KNOWN_SETTINGS[0];
  let bestScore = Number.POSITIVE_INFINITY;
  for (const known of KNOWN_SETTINGS) {
    const sc = score(known);
    if (sc < bestScore) {
      best = known;
      bestScore = sc;
    }
  }
  return best;
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const c of long) if (c === short[i]) i++;
  return i === short.length;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * OAuth credentials without a Qualtrics to send them to would run everything against the built-in
 * simulator, silently (a misspelled QUALTRICS_DATACENTER "completes" a deletion there): refuse.
 */
export function assertQualtricsTarget(env: NodeJS.ProcessEnv = process.env): void {
  if (qualtricsConfigured(env)) return;
  const set = (['QUALTRICS_CLIENT_ID', 'QUALTRICS_CLIENT_SECRET'] as const).filter((k) => env[k]?.trim());
  if (set.length === 0) return;
  throw new ConfigError(
    'QUALTRICS_BASE_URL or QUALTRICS_DATACENTER',
    `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but neither QUALTRICS_BASE_URL nor QUALTRICS_DATACENTER: set one of them to reach your Qualtrics tenant, or unset ${set.join(' and ')} to use the built-in simulator`,
  );
}
