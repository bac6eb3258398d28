import { randomUUID, timingSafeEqual } from 'node:crypto';
import { scopeSatisfied } from '../../lambdas/core/qualtrics/endpoints';
import type { ERRORS } from './shapes';
import type { SimulatorClient } from './types';

/**
 * OAuth client credentials (`POST /oauth2/token`, docs/qualtrics-api.md#oauth) and bearer / X-API-TOKEN
 * checks on `/API/v3`. Token-endpoint errors are RFC 6749 bodies (our choice: Qualtrics' were not seen).
 */

export interface HttpAnswer {
  status: number;
  /** JSON-serialised unless a Buffer or string. */
  body: unknown;
  headers?: Record<string, string>;
}

interface IssuedToken {
  scopes: string[];
  expiresAt: number;
  revoked: boolean;
}

export type AuthOutcome = { ok: true; scopes: string[] } | { ok: false; error: keyof typeof ERRORS };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function oauthError(status: number, error: string, description: string, headers?: Record<string, string>) {
  return { status, body: { error, error_description: description }, headers };
}

/** Parses the token request body: urlencoded (default), JSON, or simple multipart/form-data. */
export function parseTokenBody(
  contentType: string | undefined,
  raw: Buffer,
): Record<string, string> | undefined {
  const type = (contentType ?? '').toLowerCase();
  const text = raw.toString('utf8');
  if (type.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch {
      return undefined;
    }
  }
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
    if (!boundary) return undefined;
    const out: Record<string, string> = {};
    for (const part of text.split(`--${boundary}`)) {
      const m = /name="([^"]+)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n?$/.exec(part);
      if (m) out[m[1]!] = m[2]!;
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export class TokenStore {
  private readonly clients = new Map<string, SimulatorClient>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly apiTokens: Set<string>;

  constructor(clients: SimulatorClient[], apiTokens: string[] = []) {
    for (const c of clients) this.clients.set(c.clientId, { ...c, scopes: [...c.scopes] });
    this.apiTokens = new Set(apiTokens);
  }

  /** Handles `POST /oauth2/token`. `issued` is true when a token was handed out. */
  issue(
    authorization: string | undefined,
    contentType: string | undefined,
    raw: Buffer,
    now: number,
    ttlMs: number,
  ): HttpAnswer & { issued: boolean } {
    const form = parseTokenBody(contentType, raw);
    if (!form)
      return {
        ...oauthError(400, 'invalid_request', 'The request body could not be parsed.'),
        issued: false,
      };

    let clientId: string | undefined;
    let clientSecret: string | undefined;
    const basic = /^basic\s+(\S+)$/i.exec(authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId = decoded.slice(0, colon);
        clientSecret = decoded.slice(colon + 1);
      }
    } else {
      clientId = form.client_id;
      clientSecret = form.client_secret;
    }
    const client = clientId === undefined ? undefined : this.clients.get(clientId);
    if (!client || clientSecret === undefined || !sameSecret(client.clientSecret, clientSecret)) {
      return {
        ...oauthError(401, 'invalid_client', 'Client authentication failed.', {
          'WWW-Authenticate': 'Basic realm="qualtrics-simulator"',
        }),
        issued: false,
      };
    }

    if (form.grant_type === undefined) {
      return { ...oauthError(400, 'invalid_request', 'grant_type is required.'), issued: false };
    }
    if (form.grant_type !== 'client_credentials') {
      return {
        ...oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.'),
        issued: false,
      };
    }

    const requested = (form.scope ?? '').split(/\s+/).filter(Boolean);
    let scopes: string[];
    if (requested.length === 0) {
      scopes = [...client.scopes];
    } else {
      if (requested.some((s) => !scopeSatisfied(s, client.scopes))) {
        return {
          ...oauthError(400, 'invalid_scope', 'A requested scope is not allowed for this client.'),
          issued: false,
        };
      }
      scopes = [...new Set(requested)];
    }

    const token = randomUUID();
    this.tokens.set(token, { scopes, expiresAt: now + ttlMs, revoked: false });
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: Math.max(1, Math.floor(ttlMs / 1000)),
        scope: scopes.join(' '),
      },
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      issued: true,
    };
  }

  revokeAll(): void {
    for (const t of this.tokens.values()) t.revoked = true;
  }

  /** Checks an `/API/v3` request's credentials and, when given, the endpoint's scope. */
  authenticate(
    headers: { authorization?: string; 'x-api-token'?: string | string[] },
    requiredScope: string | null,
    now: number,
  ): AuthOutcome {
    let scopes: string[];
    const auth = headers.authorization;
    const apiToken = headers['x-api-token'];
    if (auth !== undefined && auth.trim() !== '') {
      const bearer = /^bearer\s+(\S+)\s*$/i.exec(auth);
      const t = bearer ? this.tokens.get(bearer[1]!) : undefined;
      if (!t) return { ok: false, error: 'unknownToken' };
      if (t.revoked || now >= t.expiresAt) return { ok: false, error: 'expiredToken' };
      scopes = t.scopes;
    } else if (typeof apiToken === 'string' && apiToken.trim() !== '') {
      if (!this.apiTokens.has(apiToken.trim())) return { ok: false, error: 'unknownToken' };
      scopes = ['manage:all'];
    } else {
      return { ok: false, error: 'noAuth' };
    }
    if (requiredScope !== null && !scopeSatisfied(requiredScope, scopes)) {
      return { ok: false, error: 'missingScope' };
    }
    return { ok: true, scopes };
  }
}
