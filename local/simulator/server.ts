import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  API_ROOT,
  bucketsFor,
  ENDPOINTS,
  type EndpointName,
  matchEndpoint,
  requiredScopes,
} from '../../lambdas/core/qualtrics/endpoints';
import { type ApiSettings, apiError, handleApi } from './api';
import { type HttpAnswer, TokenStore } from './auth';
import { CounterBook, UNKNOWN_ENDPOINT } from './counters';
import { Faults, faultProblem } from './faults';
import { SlidingWindows } from './rate-windows';
import { defaultSeed } from './seed';
import { ERRORS, errorEnvelope, UNKNOWN_ROUTE_BODY } from './shapes';
import type { Fault, MutableSimulatorOptions, Simulator, SimulatorClient, SimulatorOptions } from './types';
import { World } from './world';

/**
 * The HTTP side of the simulator (node:http only). Per API request, in order:
 * 411 for a bodyless POST → route (unknown → 404) → fault dice (hang / delay / injected 429) →
 * rate-limit windows (429, not admitted) → admitted: logged, then an injected 5xx, or auth
 * (ATP_2 / DCD_7 / AUTH_6.0 / scope 403) and the endpoint. So auth failures and injected 5xx
 * count against the limits, like calls that reached a real server. Nothing is ever logged.
 */

export const SIMULATOR_CLIENT = { clientId: 'qdsr-local', clientSecret: 'qdsr-local-secret' } as const;

/**
 * The settings that point the connector at a simulator at `url` as `client`, and away from any
 * datacenter or Secrets Manager secret that may be set (undefined: unset).
 */
export function connectorEnvFor(
  url: string,
  client: { clientId: string; clientSecret: string } = SIMULATOR_CLIENT,
): Record<string, string | undefined> {
  return {
    QUALTRICS_BASE_URL: url,
    QUALTRICS_DATACENTER: undefined,
    QUALTRICS_SECRET_ARN: undefined,
    QUALTRICS_CLIENT_ID: client.clientId,
    QUALTRICS_CLIENT_SECRET: client.clientSecret,
  };
}

const SIMULATED_MINUTE_MS = 60_000;
const MAX_BODY_BYTES = 1024 * 1024;
const ADMIN_PREFIX = '/__simulator';

interface Settings extends ApiSettings {
  enforceRateLimits: boolean;
  retryAfter: boolean;
  tokenTtlSeconds: number;
}

const MUTABLE_KEYS = [
  'enforceRateLimits',
  'retryAfter',
  'failCustomerDataJobs',
  'failErasures',
  'customerDataJobMs',
  'customerDataFiles',
  'erasureJobMs',
  'pageSizeCap',
  'tokenTtlSeconds',
] as const satisfies ReadonlyArray<keyof MutableSimulatorOptions>;

function positive(name: string, v: unknown, integer = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`simulator option ${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
}

function nonNegative(name: string, v: unknown, integer = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`simulator option ${name} must be a non-negative ${integer ? 'integer' : 'number'}`);
  }
}

function validateMutable(patch: Partial<MutableSimulatorOptions>): void {
  if (patch.pageSizeCap !== undefined) positive('pageSizeCap', patch.pageSizeCap, true);
  if (patch.tokenTtlSeconds !== undefined) positive('tokenTtlSeconds', patch.tokenTtlSeconds);
  if (patch.customerDataJobMs !== undefined) nonNegative('customerDataJobMs', patch.customerDataJobMs);
  if (patch.erasureJobMs !== undefined) nonNegative('erasureJobMs', patch.erasureJobMs);
  if (patch.customerDataFiles !== undefined) nonNegative('customerDataFiles', patch.customerDataFiles, true);
}

function bodyless(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return false;
  return length === undefined || Number(length) === 0;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Origin the client used (its Host header), so `nextPage` URLs work however it reached us. */
function originOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  if (host && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return `http://${host}`;
  return fallback;
}

function send(res: ServerResponse, answer: HttpAnswer): void {
  if (res.writableEnded || res.destroyed) return;
  const isRaw = Buffer.isBuffer(answer.body) || typeof answer.body === 'string';
  const payload = isRaw
    ? Buffer.from(answer.body as Buffer | string)
    : Buffer.from(JSON.stringify(answer.body));
  res.writeHead(answer.status, {
    ...(isRaw ? {} : { 'Content-Type': 'application/json' }),
    ...answer.headers,
    'Content-Length': String(payload.length),
  });
  res.end(payload);
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const timeScale = options.timeScale ?? 1;
  positive('timeScale', timeScale);
  validateMutable(options);
  const customerDataFiles = options.customerDataFiles ?? 2;
  nonNegative('customerDataFiles', customerDataFiles, true);
  for (const [bucket, limit] of Object.entries(options.bucketLimits ?? {})) {
    positive(`bucketLimits.${bucket}`, limit, true);
  }

  const clock = options.clock ?? Date.now;
  const seed = options.seed ?? defaultSeed();
  const settings: Settings = {
    timeScale,
    enforceRateLimits: options.enforceRateLimits ?? true,
    retryAfter: options.retryAfter ?? true,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    customerDataJobMs: options.customerDataJobMs ?? 20_000,
    customerDataFiles,
    erasureJobMs: options.erasureJobMs ?? 30_000,
    pageSizeCap: options.pageSizeCap ?? 100,
    failCustomerDataJobs: options.failCustomerDataJobs ?? false,
    failErasures: options.failErasures ?? false,
  };

  const clients = new Map<string, SimulatorClient>();
  clients.set(SIMULATOR_CLIENT.clientId, { ...SIMULATOR_CLIENT, scopes: requiredScopes() });
  for (const c of options.clients ?? []) clients.set(c.clientId, c);

  const world = new World(seed);
  const tokens = new TokenStore([...clients.values()], seed.apiTokens ?? []);
  const counters = new CounterBook();
  const faults = new Faults(options.randomSeed ?? seed.randomSeed ?? 1);
  const windows = new SlidingWindows(SIMULATED_MINUTE_MS * timeScale);
  const limitsOf = (name: EndpointName) =>
    bucketsFor(name).map((b) => ({
      bucket: b.bucket,
      limit: options.bucketLimits?.[b.bucket] ?? b.limitPerMinute,
    }));

  const sockets = new Set<Socket>();
  const sleepers = new Set<() => void>();
  let closed = false;
  let selfUrl = '';

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const rateLimited = (waitMs: number): HttpAnswer => {
    const headers: Record<string, string> = {};
    if (settings.retryAfter) {
      // Whole real seconds, rounded up and at least 1: HTTP's Retry-After has no fractions, and 0
      // would invite an immediate retry. The exact figure rides along for scaled-time benchmarks.
      headers['Retry-After'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
      headers['X-Simulator-Retry-After-Ms'] = String(Math.ceil(waitMs));
    }
    return apiError('rateLimited', undefined, headers);
  };

  const faultAnswer = (status: number): HttpAnswer =>
    status === 429
      ? rateLimited(Math.max(1, 1000 * timeScale))
      : {
          status,
          body: errorEnvelope(status, ERRORS.fault.message, ERRORS.fault.code, { instanceId: randomUUID() }),
        };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    const bad = (message: string) =>
      send(res, { status: 400, body: { error: { code: 'BAD_REQUEST', message } } });
    if (route === `GET ${ADMIN_PREFIX}/counters`) {
      send(res, { status: 200, body: counters.snapshot(url.searchParams.get('log') === '1') });
      return;
    }
    if (route === `POST ${ADMIN_PREFIX}/revoke-tokens`) {
      tokens.revokeAll();
      send(res, { status: 200, body: { revoked: true } });
      return;
    }
    if (route === `POST ${ADMIN_PREFIX}/reset-counters`) {
      counters.reset();
      send(res, { status: 200, body: { reset: true } });
      return;
    }
    if (route === `POST ${ADMIN_PREFIX}/faults`) {
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
      } catch {
        bad('body must be JSON');
        return;
      }
      const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      if (o.clear === true) {
        if (o.endpoint !== undefined && typeof o.endpoint !== 'string') {
          bad('endpoint must be a string');
          return;
        }
        faults.clear(o.endpoint as string | undefined);
        send(res, { status: 200, body: { cleared: o.endpoint ?? 'all' } });
        return;
      }
      const problem = faultProblem(o.endpoint, o.fault);
      if (problem) {
        bad(problem);
        return;
      }
      faults.set(o.endpoint as string, o.fault as Fault);
      send(res, { status: 200, body: { armed: o.endpoint } });
      return;
    }
    send(res, { status: 404, body: { error: { code: 'NOT_FOUND', message: 'unknown simulator route' } } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const path = url.pathname;
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
      await handleAdmin(req, res, url);
      return;
    }

    const underApi = path === API_ROOT || path.startsWith(`${API_ROOT}/`);
    const match = underApi
      ? matchEndpoint(method, path.slice(API_ROOT.length) || '/', true)
      : matchEndpoint(method, path, false);
    const name: string = match?.name ?? UNKNOWN_ENDPOINT;
    counters.request(name);
    const reply = (answer: HttpAnswer) => {
      counters.response(name, answer.status);
      send(res, answer);
    };

    if (method === 'POST' && bodyless(req)) {
      // HTTP-layer rejection, as probed live: not a v3 envelope (status observed, body our choice;
      // docs/qualtrics-api.md#errors).
      reply({ status: 411, body: 'Length Required', headers: { 'Content-Type': 'text/plain' } });
      return;
    }
    let raw: Buffer = Buffer.alloc(0);
    if (method === 'POST') {
      try {
        raw = await readBody(req);
      } catch (e) {
        if (e instanceof BodyTooLarge) reply(apiError('tooLarge', undefined, { Connection: 'close' }));
        return;
      }
    }
    if (!match) {
      reply({ status: 404, body: UNKNOWN_ROUTE_BODY });
      return;
    }

    const fault = faults.draw(match.name);
    if (fault?.hang) return; // the socket is destroyed when the client aborts or we close
    if (fault?.delayMs) {
      await sleep(fault.delayMs);
      if (closed || res.destroyed) return;
    }

    if (match.name === 'token') {
      if (fault?.status) {
        reply(faultAnswer(fault.status));
        return;
      }
      const answer = tokens.issue(
        req.headers.authorization,
        req.headers['content-type'],
        raw,
        clock(),
        settings.tokenTtlSeconds * 1000 * timeScale,
      );
      if (answer.issued) counters.tokenIssued();
      reply(answer);
      return;
    }

    if (fault?.status === 429) {
      reply(faultAnswer(429));
      return;
    }
    const now = clock();
    const decision = windows.tryAdmit(limitsOf(match.name), now, settings.enforceRateLimits);
    if (!decision.admitted) {
      reply(rateLimited(decision.waitMs));
      return;
    }
    const logEntry = counters.admitted(match.name, now);
    const answerWith = (answer: HttpAnswer) => {
      logEntry.status = answer.status;
      reply(answer);
    };
    if (fault?.status) {
      answerWith(faultAnswer(fault.status));
      return;
    }

    const auth = tokens.authenticate(req.headers, ENDPOINTS[match.name].scope, now);
    if (!auth.ok) {
      answerWith(apiError(auth.error));
      return;
    }
    let body: unknown;
    if (method === 'POST') {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        answerWith(apiError('validation', 'The request body is not valid JSON.'));
        return;
      }
    }
    answerWith(
      handleApi(
        {
          name: match.name,
          params: match.params,
          query: url.searchParams,
          body,
          origin: originOf(req, selfUrl),
          now,
        },
        world,
        counters,
        settings,
      ),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Never echo internals (they could carry request data); answer a bare 500.
      if (!res.headersSent)
        send(res, { status: 500, body: errorEnvelope(500, 'Internal error.', 'SIM_INTERNAL') });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  selfUrl = `http://${urlHost}:${port}`;

  const simulator: Simulator = {
    url: selfUrl,
    port,
    faults,
    async close() {
      if (closed) return;
      closed = true;
      for (const wake of [...sleepers]) wake();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    revokeTokens: () => tokens.revokeAll(),
    contactsWithEmail(email) {
      world.settle(clock());
      return world.contactsWithEmail(email);
    },
    customerDataJobs() {
      const now = clock();
      world.settle(now);
      return world.jobViews(now);
    },
    erasures() {
      const now = clock();
      world.settle(now);
      return world.erasureList(now).map((e) => {
        const completedAt = world.erasureCompletedAt(e.id);
        return {
          id: e.id,
          status: e.status,
          searchOnly: e.searchOnly,
          createdAt: e.created,
          ...(completedAt !== undefined ? { completedAt } : {}),
        };
      });
    },
    fileBytes(customerDataRequestId, fileId) {
      world.settle(clock());
      const bytes = world.jobFile(customerDataRequestId, fileId);
      if (!bytes) throw new Error('no such customer-data file (unknown job or file, or job not complete)');
      return Buffer.from(bytes);
    },
    setOptions(patch) {
      validateMutable(patch);
      for (const key of MUTABLE_KEYS) {
        const v = patch[key];
        if (v !== undefined) (settings as unknown as Record<string, unknown>)[key] = v;
      }
    },
  };
  return simulator;
}
