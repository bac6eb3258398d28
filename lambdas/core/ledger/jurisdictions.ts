import { ConfigError } from '../errors';

/**
 * The ledger's vocabularies (README "The request ledger"): under which law a request is answered,
 * how the person made it, how it reached the connector, and what the answer was.
 */

export const JURISDICTIONS = ['gdpr', 'uk-gdpr', 'ccpa', 'us-state'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export const CHANNELS = [
  'web-form',
  'email',
  'phone',
  'mail',
  'in-person',
  'authorized-agent',
  'other',
  'unspecified',
] as const;
export type Channel = (typeof CHANNELS)[number];
export const DEFAULT_CHANNEL: Channel = 'unspecified';

/** Set by the entry point, never by the submitter. */
export const SOURCES = ['api', 'event', 'cli', 'import'] as const;
export type RequestSource = (typeof SOURCES)[number];

/** The nature of the response (11 CCR §7101): set when a request reaches COMPLETED. */
export const OUTCOMES = ['data-provided', 'deleted', 'no-data-found', 'dry-run'] as const;
export type RequestOutcome = (typeof OUTCOMES)[number];

export const DEFAULT_JURISDICTION_ENV = 'QDSR_DEFAULT_JURISDICTION';
export const FALLBACK_JURISDICTION: Jurisdiction = 'gdpr';

export const isJurisdiction = (value: unknown): value is Jurisdiction =>
  (JURISDICTIONS as readonly unknown[]).includes(value);

/** The jurisdiction of a request submitted without one: `QDSR_DEFAULT_JURISDICTION`, else gdpr. */
export function defaultJurisdictionFromEnv(env: NodeJS.ProcessEnv = process.env): Jurisdiction {
  const raw = env[DEFAULT_JURISDICTION_ENV]?.trim();
  if (!raw) return FALLBACK_JURISDICTION;
  if (!isJurisdiction(raw)) {
    throw new ConfigError(
      DEFAULT_JURISDICTION_ENV,
      `${DEFAULT_JURISDICTION_ENV} must be one of ${JURISDICTIONS.join(', ')}`,
    );
  }
  return raw;
}
