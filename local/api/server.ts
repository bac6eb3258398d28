import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiError, toErrorResponse } from '../../lambdas/core/api/errors';
import type { ApiResponse } from '../../lambdas/core/api/http';
import {
  matchRoute,
  maxBodyBytesOf,
  ROUTES,
  type RouteName,
  routeResource,
} from '../../lambdas/core/api/routes';
import { handler as apiHandler } from '../../lambdas/handlers/api';
import { refuseForeignCaller } from './caller-guard';
import { operatorPageResponse } from './operator-page';

/**
 * The local HTTP API of `serve`: node:http on loopback, each request turned into the API Gateway
 * REST proxy event AWS would deliver and handed to the same `api` Lambda handler. The 64 KiB body
 * limit is enforced while reading, so an oversized body is never buffered. Before anything is
 * read, a caller that is not this machine's own client is refused (caller-guard.ts); the routes
 * operator page (a route the route table marks local-only) is answered here, not by the handler.
 */

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiServerOptions {
  /** 0 lets the OS choose. */
  port: number;
  /** Loopback only: the local API has no authentication (API Gateway uses IAM in AWS). */
  host?: '127.0.0.1';
  /** Defaults to lambdas/handlers/api (tests may wrap it, never replace the routing). */
  handler?: ApiHandler;
}

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const STAGE = 'local';

/** Past the limit, what a client is still sending is read and dropped up to here, then cut off. */
const MAX_DISCARD_BYTES = 1024 * 1024;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('the local API listens on 127.0.0.1 only');
  const handler: ApiHandler = options.handler ?? ((event, context) => apiHandler(event, context));
  const sockets = new Set<Socket>();
  let port = 0; // known once listening; no request arrives before

  const server = createServer((req, res) => {
    serve(req, res, handler, port).catch(() => {
      if (!res.headersSent)
        send(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'the request could not be processed' } });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A malformed request (bad header, CRLF injection) never reaches the handler: answer and drop it.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = clientErrorAnswer(err.code);
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function clientErrorAnswer(code: string | undefined): [number, string, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'the request headers are too large'];
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request was not received in time'];
  }
  return [400, 'Bad Request', 'BAD_REQUEST', 'malformed HTTP request'];
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: ApiHandler,
  port: number,
): Promise<void> {
  const refusal = refuseForeignCaller(req.method ?? 'GET', req.rawHeaders, port);
  if (refusal) {
    return refuse(req, res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
  }
  const limit = maxBodyBytesOf(req.method ?? 'GET', req.url ?? '/');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return tooLarge(req, res, limit);
  }
  const body = await readBody(req, limit);
  if (body === 'too-large') return tooLarge(req, res, limit);
  const result: APIGatewayProxyResult =
    localRoute(req) ?? (await handler(toProxyEvent(req, body), lambdaContext()));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const payload = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...headers, 'content-length': String(payload.length) });
  res.end(payload);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The operator page's path (the route table's). */
const OPERATOR_PAGE_PATH = ROUTES.find((r) => r.name === 'operatorPage')?.path;

/**
 * The operator page, or undefined for the handler's routes (and for errors: it answers them). The
 * page's path is answered here whatever the method: a method it does not take is 405, as any route's.
 */
function localRoute(req: IncomingMessage): ApiResponse | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let name: RouteName;
  try {
    name = matchRoute(req.method ?? 'GET', path, { local: true }).name;
  } catch (err) {
    const wrongMethod = err instanceof ApiError && err.status === 405 && path === OPERATOR_PAGE_PATH;
    return wrongMethod ? toErrorResponse(err).response : undefined;
  }
  return name === 'operatorPage' ? operatorPageResponse() : undefined;
}

/** 413 at once; what the client still sends is drained (so it can read the answer) up to a cap. */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  refuse(req, res, 413, {
    error: {
      code: 'PAYLOAD_TOO_LARGE',
      message: `the request body must be at most ${limit} bytes`,
    },
  });
}

/** An answer before the body is read: what the client still sends is drained up to a cap, then cut off. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.socket.destroy();
  });
  req.resume();
  send(res, status, body, { connection: 'close' });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The REST API proxy event (API Gateway v1 payload) for this request. */
export function toProxyEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value; // API Gateway: the last value wins
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }

  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (query && [...query.keys()].length > 0) {
    queryStringParameters = {};
    multiValueQueryStringParameters = {};
    for (const [k, v] of query) {
      queryStringParameters[k] = v;
      multiValueQueryStringParameters[k] = [...(multiValueQueryStringParameters[k] ?? []), v];
    }
  }

  const { resource, pathParameters } = resourceOf(path);
  let text: string | null = null;
  let isBase64Encoded = false;
  if (body.length > 0) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      // Not text: carry the bytes as API Gateway does for binary media types.
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }
  const method = req.method ?? 'GET';
  const now = Date.now();
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters,
    stageVariables: null,
    body: text,
    isBase64Encoded,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      identity: localIdentity(req.socket.remoteAddress ?? '127.0.0.1', headers),
      // As behind a custom domain: no stage prefix, so links point back at this server.
      path,
      stage: STAGE,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

/**
 * Which API Gateway resource the path would hit (the route table's, a literal segment before
 * `{id}`), with its `{id}` as API Gateway decodes it; a path no route has keeps its own.
 */
function resourceOf(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const raw = path.split('/').slice(1);
  let segments: string[];
  try {
    segments = raw.map(decodeURIComponent);
  } catch {
    return { resource: path, pathParameters: null }; // no resource matches a malformed path
  }
  const resource = routeResource(segments, { local: true });
  if (resource === undefined) return { resource: path, pathParameters: null };
  const idIndex = resource.split('/').indexOf('{id}') - 1;
  return { resource, pathParameters: idIndex < 0 ? null : { id: segments[idIndex]! } };
}

function localIdentity(
  sourceIp: string,
  headers: Record<string, string>,
): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? null,
    userArn: null,
  };
}

function lambdaContext(): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'qdsr-local-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'local:api',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/qdsr-local-api',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
