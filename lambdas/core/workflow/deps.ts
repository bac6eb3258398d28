import { AsyncLocalStorage } from 'node:async_hooks';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import { dynamoDocumentClient, s3Client } from '../aws-clients';
import { isRetryableAwsError } from '../aws-errors';
import {
  originFromEnv,
  type QualtricsSettings,
  qualtricsSettingsFromEnv,
  qualtricsTarget,
  SECRET_PLACEHOLDERS,
  SIMULATOR_ORIGIN_ENV,
  targetUtilizationFromEnv,
} from '../config';
import { ConfigError, DsrError, ErrorNames } from '../errors';
import { eventPublisherFromEnv } from '../events';
import { exportWriterFromEnv } from '../export-writer';
import { DEFAULT_JURISDICTION_ENV, FORGET_EMAIL_ENV, RECORD_RETENTION_ENV } from '../ledger';
import { createQualtricsClient } from '../qualtrics';
import { ENDPOINTS } from '../qualtrics/endpoints';
import type { CallGate, QualtricsApi } from '../qualtrics/types';
import { RateLimiter, type Reservation } from '../rate-limiter';
import { requestStoreFromEnv } from '../request-store';
import { storageNamesFromEnv } from '../tables';
import type { DeletionDone, LimitedQualtrics, WorkflowDeps } from './env';
import { DynamoJobDurations, type JobDurations } from './job-durations';
import { waitScaleFromEnv } from './wait';

/**
 * The dependencies of every step, built lazily from the environment and cached for the process
 * (a warm Lambda, or the local runtime): request store, export writer, the Qualtrics client behind
 * the shared rate limiter, the event publisher. A change of the relevant environment (the local
 * runtime and tests set it) or of the shared SDK clients rebuilds them.
 */

export const DELETION_DONE_ENV = 'QDSR_DELETION_DONE';
export const QUALTRICS_SECRET_ENV = 'QUALTRICS_SECRET_ARN';
/** Per-request timeout of every Qualtrics call in ms (default: the client's, 15 s); tests shorten it. */
export const QUALTRICS_TIMEOUT_ENV = 'QDSR_QUALTRICS_TIMEOUT_MS';
/** How long a fetched secret is reused before Secrets Manager is asked again. */
const SECRET_MAX_AGE_SECONDS = 300;
/** Step Functions polls are minutes apart: the limiter's period is Qualtrics' minute, scaled like every wait. */
const LIMITER_PERIOD_MS = 60_000;
/**
 * How far ahead a step may book its limiter slot. A Wait state costs one transition however long it
 * lasts, so a backlog of creates, searches or downloads (250 deletions queue for 17 minutes at 15
 * creates a minute) waits once each, in order, instead of coming back every period to race for the
 * few slots within it. Status polls book one period ahead at most: a job is polled again and again,
 * so a long queue of polls is mostly polls of jobs not done yet, and it delays the news of every
 * job that is (a poll turned away comes back within a period, spread out by the limiter).
 */
const LIMITER_RESERVATION_HORIZON_MS = 60 * 60_000;
const STATUS_POLL_BUCKETS: ReadonlySet<string | null> = new Set(
  (['getCustomerDataRequest', 'getErasureRequest'] as const).map((e) => ENDPOINTS[e].bucket),
);

const ENV_KEYS = [
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_S3',
  'QDSR_REQUESTS_TABLE',
  'QDSR_LIMITER_TABLE',
  'QDSR_EXPORT_BUCKET',
  'QDSR_EXPORT_KMS_KEY_ID',
  'QDSR_EVENT_BUS',
  'QDSR_WAIT_SCALE',
  'QDSR_TARGET_UTILIZATION',
  RECORD_RETENTION_ENV,
  FORGET_EMAIL_ENV,
  DEFAULT_JURISDICTION_ENV,
  DELETION_DONE_ENV,
  'QUALTRICS_BASE_URL',
  'QUALTRICS_DATACENTER',
  'QUALTRICS_CLIENT_ID',
  'QUALTRICS_CLIENT_SECRET',
  QUALTRICS_SECRET_ENV,
  QUALTRICS_TIMEOUT_ENV,
  SIMULATOR_ORIGIN_ENV,
] as const;

export function qualtricsTimeoutMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[QUALTRICS_TIMEOUT_ENV]?.trim();
  if (!raw) return undefined;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new ConfigError(
      QUALTRICS_TIMEOUT_ENV,
      `${QUALTRICS_TIMEOUT_ENV} must be a positive whole number of ms`,
    );
  }
  return ms;
}

export function deletionDoneFromEnv(env: NodeJS.ProcessEnv = process.env): DeletionDone {
  const raw = env[DELETION_DONE_ENV]?.trim().toLowerCase();
  if (!raw || raw === 'confirmed') return 'confirmed';
  if (raw === 'submitted') return 'submitted';
  throw new ConfigError(
    DELETION_DONE_ENV,
    `${DELETION_DONE_ENV} must be "confirmed" (default) or "submitted"`,
  );
}

const SecretShape = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  datacenter: z.string().min(1).optional(),
});

/** The secret's text as JSON; undefined when it is not (a binary secret, or not JSON). */
function parsedJson(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * Qualtrics settings: from the environment, with the OAuth client from Secrets Manager when
 * `QUALTRICS_SECRET_ARN` is set (JSON `{clientId, clientSecret, datacenter}`, cached).
 */
export async function qualtricsSettings(env: NodeJS.ProcessEnv = process.env): Promise<QualtricsSettings> {
  const arn = env[QUALTRICS_SECRET_ENV]?.trim();
  if (!arn) return qualtricsSettingsFromEnv(env);
  let raw: unknown;
  try {
    raw = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  } catch (e) {
    // Powertools wraps the SDK error (GetParameterError with the SDK error as cause).
    const err = e as { name?: unknown; cause?: unknown };
    const cause = err.name === 'GetParameterError' ? err.cause : e;
    const causeName = (cause as { name?: unknown } | undefined)?.name;
    const name = typeof causeName === 'string' ? causeName : 'Error';
    // Throttling, network: worth another try later. Never the message (it may quote the secret).
    if (isRetryableAwsError(cause)) {
      throw new DsrError(ErrorNames.Storage, `Secrets Manager unavailable (${name})`, true);
    }
    // Not found, access denied, decryption failed: the same on every try, so a setting to fix.
    throw new ConfigError(
      QUALTRICS_SECRET_ENV,
      `cannot read the Qualtrics secret named by ${QUALTRICS_SECRET_ENV} (${name})`,
    );
  }
  const secret = SecretShape.safeParse(parsedJson(raw));
  if (!secret.success) {
    throw new ConfigError(
      QUALTRICS_SECRET_ENV,
      'the Qualtrics secret must be JSON {"clientId", "clientSecret", "datacenter"}',
    );
  }
  const datacenter = env.QUALTRICS_DATACENTER?.trim() ? undefined : secret.data.datacenter;
  assertSecretFields({ clientId: secret.data.clientId, datacenter }, env);
  return qualtricsSettingsFromEnv({
    ...env,
    QUALTRICS_CLIENT_ID: secret.data.clientId,
    QUALTRICS_CLIENT_SECRET: secret.data.clientSecret,
    QUALTRICS_DATACENTER: env.QUALTRICS_DATACENTER?.trim() || secret.data.datacenter,
  });
}

/**
 * A problem with a value the secret supplies is named by the secret and its field: the user set no
 * QUALTRICS_* variable in Lambda, the stack did. (The values are not echoed: the field names suffice.)
 */
function assertSecretFields(fields: { clientId: string; datacenter?: string }, env: NodeJS.ProcessEnv): void {
  const secret = `the Qualtrics secret (${QUALTRICS_SECRET_ENV})`;
  const fix = 'store your OAuth client there (docs/deploy.md, "Store the Qualtrics secret")';
  const placeholders = (Object.keys(SECRET_PLACEHOLDERS) as Array<keyof typeof SECRET_PLACEHOLDERS>).filter(
    (k) => fields[k] === SECRET_PLACEHOLDERS[k],
  );
  if (placeholders.length > 0) {
    throw new ConfigError(
      QUALTRICS_SECRET_ENV,
      `${secret} still holds its placeholder in ${placeholders.map((f) => `"${f}"`).join(' and ')}: ${fix}`,
    );
  }
  if (env.QUALTRICS_BASE_URL?.trim()) return;
  if (fields.datacenter === undefined && !env.QUALTRICS_DATACENTER?.trim()) {
    throw new ConfigError(QUALTRICS_SECRET_ENV, `${secret} has no "datacenter" (e.g. "iad1"): ${fix}`);
  }
  if (fields.datacenter === undefined) return;
  try {
    originFromEnv({ QUALTRICS_DATACENTER: fields.datacenter });
  } catch {
    throw new ConfigError(
      QUALTRICS_SECRET_ENV,
      `${secret}: "datacenter" must be a datacenter id such as iad1, fra1 or ca1 (optionally <org>.<dc>)`,
    );
  }
}

/** The limiter's tenant: one set of buckets per Qualtrics datacenter (or host) and OAuth client. */
export function limiterTenant(settings: QualtricsSettings): string {
  return `${settings.datacenter ?? new URL(settings.origin).host}#${settings.clientId}`;
}

// The client (and its cached OAuth token) is shared by the whole process, but each invocation
// holds its own limiter reservations: the shared client's gate asks the invocation's gate.
const invocationGate = new AsyncLocalStorage<CallGate>();

function delegatingGate(fallback: () => CallGate): CallGate {
  return {
    before: (endpoint) => (invocationGate.getStore() ?? fallback()).before(endpoint),
    after: (endpoint, outcome) => (invocationGate.getStore() ?? fallback()).after(endpoint, outcome),
  };
}

/** `api` with every call run under `gate` (methods only; the result of a call is untouched). */
function underGate(api: QualtricsApi, gate: CallGate): QualtricsApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => invocationGate.run(gate, () => value.apply(target, args));
    },
  });
}

interface SharedClient {
  settingsKey: string;
  api: QualtricsApi;
  limiter: RateLimiter;
  durations: JobDurations;
  target: string;
}

function buildFromEnv(env: NodeJS.ProcessEnv): WorkflowDeps {
  const waitScale = waitScaleFromEnv(env);
  const deletionDone = deletionDoneFromEnv(env);
  const timeoutMs = qualtricsTimeoutMsFromEnv(env);
  const doc = dynamoDocumentClient();
  let shared: SharedClient | undefined;

  const sharedClient = async (): Promise<SharedClient> => {
    const settings = await qualtricsSettings(env);
    const settingsKey = JSON.stringify(settings);
    const { limiterTable } = storageNamesFromEnv(env);
    // No await from this check to the assignment below: steps that start together (the local
    // runtime runs many at once) share one client and one token instead of each building its own.
    if (shared?.settingsKey === settingsKey) return shared;
    // First use, or the secret changed (rotation): a new client with a new token.
    const limiter = new RateLimiter({
      doc,
      tableName: limiterTable,
      tenant: limiterTenant(settings),
      targetUtilization: targetUtilizationFromEnv(env),
      periodMs: LIMITER_PERIOD_MS * waitScale,
      maxReservationMs: (bucket) =>
        (STATUS_POLL_BUCKETS.has(bucket) ? LIMITER_PERIOD_MS : LIMITER_RESERVATION_HORIZON_MS) * waitScale,
    });
    const api = createQualtricsClient({
      origin: settings.origin,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      gate: delegatingGate(() => limiter.gate()),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    const durations = new DynamoJobDurations({
      doc,
      tableName: limiterTable,
      tenant: limiter.tenant,
    });
    shared = { settingsKey, api, limiter, durations, target: qualtricsTarget(settings.origin, env) };
    return shared;
  };

  return {
    store: requestStoreFromEnv(env),
    writer: exportWriterFromEnv(env),
    events: eventPublisherFromEnv(env),
    now: Date.now,
    waitScale,
    deletionDone,
    async qualtrics(held: readonly Reservation[] = []): Promise<LimitedQualtrics> {
      const { api, limiter, durations, target } = await sharedClient();
      const gate = limiter.gate({ reservations: held });
      return { api: underGate(api, gate), reservations: () => gate.reservations(), durations, target };
    },
  };
}

let cached: { key: string; doc: unknown; s3: unknown; deps: WorkflowDeps } | undefined;
let overrides: Partial<WorkflowDeps> | undefined;

/** The process's dependencies (with test overrides applied). */
export function workflowDeps(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const key = ENV_KEYS.map((k) => `${k}=${env[k] ?? ''}`).join('\n');
  // The shared SDK clients are replaced when the local runtime re-points them: follow them.
  const doc = dynamoDocumentClient();
  const s3 = s3Client();
  if (!cached || cached.key !== key || cached.doc !== doc || cached.s3 !== s3) {
    cached = { key, doc, s3, deps: buildFromEnv(env) };
  }
  return overrides ? { ...cached.deps, ...overrides } : cached.deps;
}

/** Tests: replace some dependencies (e.g. a fake Qualtrics, a fixed clock) for every step. */
export function setWorkflowDeps(partial: Partial<WorkflowDeps>): void {
  overrides = { ...overrides, ...partial };
}

/** Drops the cache and the overrides: the next step builds everything from the environment. */
export function resetWorkflowDeps(): void {
  cached = undefined;
  overrides = undefined;
}
