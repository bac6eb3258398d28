/**
 * A small scripted Qualtrics for contract tests: it follows docs/qualtrics-api.md for the parts
 * every endpoint shares — OAuth client credentials, bearer auth, the v3 envelope and error bodies,
 * 411 on bodyless POSTs — and lets each test script the answer of each endpoint and inspect every
 * request it received. It is deliberately not the simulator (local/simulator/): tests against it
 * prove the client works with any server that follows that document.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_ROOT, type EndpointName, matchEndpoint } from '../../lambdas/core/qualtrics/endpoints';

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. `/API/v3/whoami`. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (API calls) or as a form (token calls), when it parses. */
  json?: unknown;
  form?: Record<string, string>;
  /** The endpoint of the table the request addressed, when any. */
  endpoint?: EndpointName;
  params: Record<string, string>;
  /** The bearer token sent, when any. */
  bearer?: string;
}

/** What a scripted handler answers. */
export type Reply =
  /** `{result, meta}` envelope. */
  | { status?: number; result: unknown; headers?: Record<string, string> }
  /** Error envelope `{meta: {httpStatus, error: {errorMessage, errorCode}, requestId}}`. */
  | {
      status: number;
      error: { errorCode?: string; errorMessage?: string; retryAfter?: unknown };
      headers?: Record<string, string>;
    }
  /** Any JSON, unwrapped (token responses, RFC 6749 errors, odd shapes). */
  | { status?: number; json: unknown; headers?: Record<string, string> }
  /** Raw bytes (file downloads, non-JSON bodies). */
  | { status?: number; bytes: Buffer | string; headers?: Record<string, string> }
  /** Bytes written as they come (streamed downloads; a stall mid-body). */
  | { status?: number; chunks: AsyncIterable<Buffer>; headers?: Record<string, string> }
  /** Never answer. */
  | { hang: true };

export type Handler = (req: RecordedRequest, server: ReferenceServer) => Reply | Promise<Reply>;

export interface ReferenceServerOptions {
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens. Default 3600. */
  expiresIn?: number;
  /** `scope` of the token response: a function of the requested scope; undefined omits it. Default: echo. */
  grantScope?: (requested: string | undefined) => string | undefined;
}

export interface ReferenceServer {
  readonly origin: string;
  /** Every request received, in order (token requests included). */
  readonly requests: RecordedRequest[];
  /** Tokens issued, in order. */
  readonly tokensIssued: string[];
  /** Scripts an endpoint (`token` replaces the built-in token endpoint). */
  on(endpoint: EndpointName, handler: Handler): void;
  /** From now on every token issued so far answers 401 `AUTH_6.0`, as an expired one does. */
  expireTokens(): void;
  /** Requests that addressed `endpoint`. */
  requestsTo(endpoint: EndpointName): RecordedRequest[];
  close(): Promise<void>;
}

export const REFERENCE_CLIENT_ID = 'ref-client-id';
export const REFERENCE_CLIENT_SECRET = 'ref-client-secret-s3cr3t';

export function envelopeMeta(status: number): { httpStatus: string; requestId: string } {
  return { httpStatus: `${status} - ${STATUS_CODES[status] ?? 'Unknown'}`, requestId: randomUUID() };
}

export function ok(result: unknown, headers?: Record<string, string>): Reply {
  return { result, headers };
}

export function fail(status: number, errorCode?: string, errorMessage = 'error'): Reply {
  return { status, error: { errorCode, errorMessage } };
}

export async function startReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const clientId = options.clientId ?? REFERENCE_CLIENT_ID;
  const clientSecret = options.clientSecret ?? REFERENCE_CLIENT_SECRET;
  const handlers = new Map<EndpointName, Handler>();
  const requests: RecordedRequest[] = [];
  const tokensIssued: string[] = [];
  const validTokens = new Set<string>();

  const builtInToken: Handler = (req) => {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return { status: 401, json: { error: 'invalid_client' } };
    if (req.form?.grant_type !== 'client_credentials') {
      return { status: 400, json: { error: 'unsupported_grant_type' } };
    }
    const token = randomUUID();
    tokensIssued.push(token);
    validTokens.add(token);
    const body: Record<string, unknown> = {
      access_token: token,
      token_type: 'Bearer',
      expires_in: options.expiresIn ?? 3600,
    };
    const scope = (options.grantScope ?? ((s) => s))(req.form?.scope);
    if (scope !== undefined) body.scope = scope;
    return { json: body };
  };

  async function route(req: RecordedRequest): Promise<Reply> {
    if (req.endpoint === 'token') {
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return { status: 400, json: { error: 'invalid_request' } };
      }
      return (handlers.get('token') ?? builtInToken)(req, server);
    }
    if (!req.endpoint) {
      // Unknown route: the live answer has no errorCode (docs/qualtrics-api.md#errors).
      return { status: 404, error: { errorMessage: 'The requested resource does not exist.' } };
    }
    if (req.method === 'POST' && req.body === '') return { status: 411, bytes: 'Length Required' };
    if (!req.headers.authorization) {
      return fail(400, 'ATP_2', 'Expected authorization in headers, but none provided.');
    }
    if (!req.bearer || !validTokens.has(req.bearer)) return fail(401, 'AUTH_6.0', 'Access token expired.');
    if (req.method === 'POST' && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return fail(415, 'QVAL_1', 'Unsupported media type.');
    }
    if (req.method === 'POST' && req.json === undefined) return fail(400, 'QVAL_2', 'Malformed JSON body.');
    const handler = handlers.get(req.endpoint);
    if (!handler) return fail(500, 'REFSERVER_NO_HANDLER', `no handler scripted for ${req.endpoint}`);
    return handler(req, server);
  }

  const http = createServer((incoming, res) => {
    void (async () => {
      const req = await record(incoming);
      requests.push(req);
      const reply = await route(req);
      if ('hang' in reply) return;
      const status = reply.status ?? 200;
      if ('chunks' in reply) {
        res.writeHead(status, { 'content-type': 'application/octet-stream', ...reply.headers });
        for await (const chunk of reply.chunks) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
        return;
      }
      let payload: Buffer;
      let contentType = 'application/json';
      if ('bytes' in reply) {
        payload = Buffer.isBuffer(reply.bytes) ? reply.bytes : Buffer.from(reply.bytes);
        contentType = 'application/octet-stream';
      } else if ('result' in reply) {
        payload = Buffer.from(JSON.stringify({ result: reply.result, meta: envelopeMeta(status) }));
      } else if ('error' in reply) {
        const meta = { ...envelopeMeta(status), error: reply.error };
        payload = Buffer.from(JSON.stringify({ meta }));
      } else {
        payload = Buffer.from(JSON.stringify(reply.json));
      }
      res.writeHead(status, {
        'content-type': contentType,
        'content-length': String(payload.length),
        ...reply.headers,
      });
      res.end(payload);
    })().catch((e: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`reference server failed: ${String(e)}`);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  async function record(incoming: IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(incoming.url ?? '/', origin);
    const method = incoming.method ?? 'GET';
    const underApi = url.pathname.startsWith(`${API_ROOT}/`);
    const match = matchEndpoint(
      method,
      underApi ? url.pathname.slice(API_ROOT.length) : url.pathname,
      underApi,
    );
    const req: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: incoming.headers,
      body,
      endpoint: match?.name,
      params: match?.params ?? {},
    };
    const auth = incoming.headers.authorization;
    if (auth?.startsWith('Bearer ')) req.bearer = auth.slice('Bearer '.length);
    if (match?.name === 'token') req.form = Object.fromEntries(new URLSearchParams(body));
    else if (body !== '') {
      try {
        req.json = JSON.parse(body) as unknown;
      } catch {
        // left undefined: the route answers 400
      }
    }
    return req;
  }

  const server: ReferenceServer = {
    origin,
    requests,
    tokensIssued,
    on(endpoint, handler) {
      handlers.set(endpoint, handler);
    },
    expireTokens() {
      validTokens.clear();
    },
    requestsTo(endpoint) {
      return requests.filter((r) => r.endpoint === endpoint);
    },
    close() {
      http.closeAllConnections();
      return new Promise<void>((resolve, reject) => http.close((e) => (e ? reject(e) : resolve())));
    },
  };
  return server;
}

export type CursorStyle = 'nextPage' | 'skipToken' | 'nextPageToken';

/**
 * A paginated list handler that behaves like Qualtrics (docs/qualtrics-api.md#pagination): it
 * serves at most `cap` items whatever `pageSize` asks, and returns a cursor after every FULL page,
 * so a full last page is followed by an empty one. Skip tokens are opaque base64 offsets.
 */
export function paginated(items: unknown[], opts: { cap: number; style: CursorStyle }): Handler {
  return (req, server) => {
    const asked = Number(req.query.pageSize ?? opts.cap);
    const size = Math.min(Number.isFinite(asked) && asked > 0 ? asked : opts.cap, opts.cap);
    const skip = req.query.skipToken;
    const offset = skip ? Number(Buffer.from(skip, 'base64url').toString('utf8').replace(/^o:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return fail(400, 'QVAL_SKIP', 'bad skipToken');
    const elements = items.slice(offset, offset + size);
    const result: Record<string, unknown> = { elements };
    if (elements.length === size) {
      const token = Buffer.from(`o:${offset + size}`).toString('base64url');
      if (opts.style === 'nextPage') {
        result.nextPage = `${server.origin}${req.path}?pageSize=${size}&skipToken=${token}`;
      } else {
        result[opts.style] = token;
      }
    } else if (opts.style === 'nextPage') {
      result.nextPage = null;
    }
    return ok(result);
  };
}
