import { requiredScopes, scopeSatisfied } from './qualtrics/endpoints';
import type { QualtricsApi } from './qualtrics/types';

/**
 * The connection check (docs/qualtrics-api.md#connection-check): a token, `GET /whoami`, and whether the
 * granted scopes cover what the connector needs. The report holds ids only; whoami's name and email of the
 * API user are personal data and stay out of it.
 */
export interface ConnectionReport {
  ok: boolean;
  checkedAt: string;
  qualtrics: {
    origin: string;
    brandId: string;
    userId: string;
    accountType?: string;
    datacenter?: string;
  };
  scopes: {
    required: string[];
    /** null when Qualtrics did not report the granted scopes with the token. */
    granted: string[] | null;
    missing: string[];
  };
  problems: string[];
}

export async function checkConnection(
  client: QualtricsApi,
  origin: string,
  now: () => Date = () => new Date(),
): Promise<ConnectionReport> {
  const who = await client.whoami();
  const granted = (await client.grantedScopes()) ?? null;
  const required = requiredScopes();
  const missing = granted === null ? [] : required.filter((s) => !scopeSatisfied(s, granted));
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `the OAuth client lacks scope(s) ${missing.join(', ')}: add them to the client in Qualtrics (Account Settings → OAuth Client Manager)`,
    );
  }
  if (who.accountType && who.accountType !== 'UT_BRANDADMIN') {
    // Erasure requests need a brand administrator (docs/qualtrics-api.md#scopes).
    problems.push(
      `the API user is ${who.accountType}, not a brand administrator: erasure requests will be refused`,
    );
  }
  return {
    ok: problems.length === 0,
    checkedAt: now().toISOString(),
    qualtrics: {
      origin,
      brandId: who.brandId,
      userId: who.userId,
      accountType: who.accountType,
      datacenter: who.datacenter,
    },
    scopes: { required, granted, missing },
    problems,
  };
}
