/**
 * OAuth 2.0 client credentials against `<origin>/oauth2/token` (docs/qualtrics-api.md#oauth): HTTP Basic
 * client authentication, a form body, a bare RFC 6749 JSON answer. One token is cached per client
 * until `expires_in` minus a margin; concurrent callers share one in-flight token request.
 */
import { buildPath, ENDPOINTS } from './endpoints';
import { type HttpSettings, sendJson } from './http';
import { parseTokenGrant } from './parse';

export interface TokenSettings extends HttpSettings {
  origin: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  refreshMarginSeconds: number;
}

export interface AccessToken {
  value: string;
  /** Epoch ms after which we stop using it (its expiry minus the margin). */
  refreshAt: number;
  /** Epoch ms at which it was asked for: a token asked for before a revocation may be revoked too. */
  requestedAt: number;
  /** Scopes the token response says were granted; undefined when it does not say. */
  scopes?: string[];
}

export interface TokenProvider {
  /** A token valid for a while yet: the cached one, the one being fetched, or a new one. */
  current(): Promise<AccessToken>;
  /** The cached token if it is still valid, without asking for one. */
  peek(): AccessToken | undefined;
  /** Forgets `value` if it is still the cached token (Qualtrics answered 401 to it). */
  invalidate(value: string): void;
}

export function createTokenProvider(settings: TokenSettings): TokenProvider {
  const tokenUrl = new URL(buildPath('token'), settings.origin).href;
  // Credentials are sent as given (not form-encoded first): what Qualtrics' own examples do.
  const basic = Buffer.from(`${settings.clientId}:${settings.clientSecret}`, 'utf8').toString('base64');
  let cached: AccessToken | undefined;
  let inFlight: Promise<AccessToken> | undefined;

  async function fetchToken(): Promise<AccessToken> {
    const requestedAt = settings.now();
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (settings.scopes.length > 0) form.set('scope', settings.scopes.join(' '));
    const res = await sendJson(settings, {
      endpoint: 'token',
      method: ENDPOINTS.token.method,
      url: tokenUrl,
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: form.toString(),
    });
    const grant = parseTokenGrant(res, res.body);
    // Counted from when we asked, so clock skew in transit only makes us refresh earlier. A short
    // lifetime still gets used for at least half of it rather than being stale on arrival.
    const usableSeconds = Math.max(
      grant.expiresInSeconds - settings.refreshMarginSeconds,
      grant.expiresInSeconds / 2,
    );
    const token: AccessToken = {
      value: grant.accessToken,
      refreshAt: requestedAt + usableSeconds * 1000,
      requestedAt,
    };
    if (grant.scopes) token.scopes = grant.scopes;
    return token;
  }

  return {
    current(): Promise<AccessToken> {
      if (cached && settings.now() < cached.refreshAt) return Promise.resolve(cached);
      if (!inFlight) {
        inFlight = fetchToken().then(
          (token) => {
            cached = token;
            inFlight = undefined;
            return token;
          },
          (e: unknown) => {
            // A failed request is not cached: the next caller tries again.
            inFlight = undefined;
            throw e;
          },
        );
      }
      return inFlight;
    },
    peek(): AccessToken | undefined {
      return cached && settings.now() < cached.refreshAt ? cached : undefined;
    },
    invalidate(value: string): void {
      if (cached?.value === value) cached = undefined;
    },
  };
}
