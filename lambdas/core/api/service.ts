import type { ConnectionReport } from '../connection-check';
import { isDsrError, ThrottledError } from '../errors';
import type { Manifest } from '../export-writer/manifest';
import { type RequestSource, recordsCsv } from '../ledger';
import {
  EmailForgottenError,
  isTerminalStatus,
  type LedgerPage,
  type RequestStore,
  toStatusDocument,
} from '../request-store';
import type { RequestRecord, RequestSummary, RequestType } from '../request-store/types';
import type { SweepReport } from '../sweep';
import { exportPrefix, manifestKey } from '../tables';
import type { WorkflowStarter } from '../workflow-starter';
import {
  parseCreateRequest,
  parseExtensionRequest,
  parseSubjectSearch,
  readJsonBody,
  validateBody,
} from './body';
import { batchSubmission, bulkRetryRequest, retryFailed, submitBatch } from './bulk';
import { ApiError, toErrorResponse } from './errors';
import { readEvidence } from './evidence';
import {
  type ApiRequest,
  type ApiResponse,
  csvResponse,
  headerValue,
  jsonResponse,
  MAX_BATCH_BODY_BYTES,
  SOURCE_HEADER,
} from './http';
import { parseListQuery, parseMetricsQuery, parseRecordsQuery } from './ledger-query';
import { type MatchedRoute, matchRoute, type RouteName } from './routes';
import { submitRequest } from './submit';

/**
 * The HTTP API (README "HTTP API"), Lambda-free: API Gateway (lambdas/handlers/api.ts) and the local
 * server (local/api) both call `handle`. Input is validated completely before anything is
 * recorded or started, and every answer is JSON.
 */

/**
 * `GET /health` answers within this, whatever Qualtrics, Secrets Manager or DynamoDB do: API Gateway
 * gives up after 29 s, and a token, a whoami and their retries at 15 s each could take longer.
 */
export const HEALTH_DEADLINE_MS = 20_000;

/** Longest life of a presigned export link (README "HTTP API": 15 minutes). */
export const MAX_EXPORT_LINK_SECONDS = 900;

export type RequestStoreLike = Pick<
  RequestStore,
  | 'create'
  | 'get'
  | 'getStatusDocument'
  | 'recordExecution'
  | 'reopenForRetry'
  | 'reopenInterrupted'
  | 'fail'
  | 'list'
  | 'findBySubject'
  | 'records'
  | 'extend'
  | 'metrics'
>;

/** Reads the bundle's manifest and the deletion evidence, and signs links (the ExportWriter does all). */
export interface BundleReader {
  readJson<T = unknown>(key: string): Promise<T | undefined>;
  presign(key: string, seconds: number): Promise<string>;
}

/**
 * What the API needs. Read lazily (the handler passes getters), so `/health` never builds a
 * request store and `/requests` never builds a Qualtrics client.
 */
export interface ApiDeps {
  readonly store: RequestStoreLike;
  readonly starter: WorkflowStarter;
  readonly bundles: BundleReader;
  checkConnection(): Promise<ConnectionReport>;
  now?: () => Date;
  /** Life of export links; capped at 900. */
  exportLinkSeconds?: number;
  /** How long `GET /health` waits for the connection check; default HEALTH_DEADLINE_MS. */
  healthDeadlineMs?: number;
  /** One entry per request: route, status and codes only (no path, body or headers). */
  log?: (entry: ApiLogEntry) => void;
  /** Set by the local server only: its local-only routes and the CLI's hand-off (never in Lambda). */
  local?: LocalApiDeps;
}

/**
 * What the local server adds (README "Several processes, one data dir"): a command another
 * process hands over says where its requests came from (`x-qdsr-source: cli`, or `import` for
 * `qualtrics-dsr import`: the requests' source), and the local-only routes.
 */
export interface LocalApiDeps {
  /** `POST /sweep`. */
  sweep(): Promise<SweepReport>;
}

/** The sources a handed-over command may claim (the local server only). */
export type HandedOverSource = Extract<RequestSource, 'cli' | 'import'>;
const HANDED_OVER_SOURCES: ReadonlySet<string> = new Set<HandedOverSource>(['cli', 'import']);

export interface ApiLogEntry {
  method: string;
  route?: RouteName;
  status: number;
  code?: string;
  requestId?: string;
  /** Server-side failures: the error's class name and code. */
  fault?: { name: string; code: string };
}

export interface AcceptedRequest {
  requestId: string;
  status: RequestRecord['status'];
  links: { self: string; export?: string; retry?: string };
}

/** `POST /requests/search`: every request of the subject, newest receipt first. */
export interface SubjectRequests {
  requests: RequestSummary[];
}

/** Past this, a records export does not fit a Lambda response (6 MB): the caller narrows the range. */
export const MAX_RECORDS_CSV_BYTES = 5 * 1024 * 1024;

export interface ExportLinks {
  manifestUrl: string;
  files: Array<{ key: string; url: string }>;
  expiresAt: string;
}

export function createApi(deps: ApiDeps): (req: ApiRequest) => Promise<ApiResponse> {
  const now = deps.now ?? (() => new Date());
  const linkSeconds = Math.min(
    MAX_EXPORT_LINK_SECONDS,
    Math.max(1, Math.floor(deps.exportLinkSeconds ?? MAX_EXPORT_LINK_SECONDS)),
  );

  async function route(req: ApiRequest, matched: MatchedRoute): Promise<ApiResponse> {
    const base = req.basePath ?? '';
    const name = matched.name;
    switch (name) {
      case 'createRequest':
        return createRequest(req, base);
      case 'listRequests':
        return listRequests(req);
      case 'searchRequests':
        return searchRequests(req);
      case 'submitBatch':
        return submitBatchRoute(req);
      case 'retryFailed':
        return retryFailedRoute(req, base);
      case 'records':
        return records(req);
      case 'metrics':
        return metrics(req);
      case 'extendRequest':
        return extendRequest(req, matched.requestId!);
      case 'getRequest':
        return getRequest(matched.requestId!);
      case 'getExport':
        return getExport(matched.requestId!);
      case 'getEvidence':
        return jsonResponse(200, await readEvidence(deps, matched.requestId!));
      case 'retryRequest':
        return retryRequest(matched.requestId!, base);
      case 'health':
        return health();
      case 'sweep':
        return sweep();
      case 'operatorPage':
        // The local server answers the page before the handler (local/api/server.ts).
        throw new ApiError(404, 'NOT_FOUND', 'no such route');
    }
  }

  async function sweep(): Promise<ApiResponse> {
    // matchRoute only finds this route when `deps.local` is set.
    const report = await (deps.local as LocalApiDeps).sweep();
    return jsonResponse(200, report);
  }

  async function createRequest(req: ApiRequest, base: string): Promise<ApiResponse> {
    const input = parseCreateRequest(req);
    const { record, status } = await submitRequest(deps, { ...input, source: sourceOf(req) });
    return accepted(record.requestId, record.type, status, base);
  }

  /** `POST /requests/batch` (README "Bulk"): one result per submission, by index. */
  async function submitBatchRoute(req: ApiRequest): Promise<ApiResponse> {
    const { requests } = validateBody(batchSubmission, readJsonBody(req, MAX_BATCH_BODY_BYTES));
    return jsonResponse(200, { results: await submitBatch(deps, requests, sourceOf(req)) });
  }

  /** Only the local server trusts the header: through API Gateway a request's source is the API. */
  function sourceOf(req: ApiRequest): RequestSource {
    const claimed = deps.local ? headerValue(req.headers, SOURCE_HEADER) : undefined;
    return claimed !== undefined && HANDED_OVER_SOURCES.has(claimed) ? (claimed as HandedOverSource) : 'api';
  }

  /** `POST /requests/retry` (README "Bulk"): the FAILED requests that match, each as its own retry. */
  async function retryFailedRoute(req: ApiRequest, base: string): Promise<ApiResponse> {
    const filter = validateBody(bulkRetryRequest, readJsonBody(req));
    return jsonResponse(200, await retryFailed(deps.store, filter, (id) => retryRequest(id, base)));
  }

  async function listRequests(req: ApiRequest): Promise<ApiResponse> {
    const page = await deps.store.list(parseListQuery(req.query));
    const body: LedgerPage = { requests: page.requests, nextCursor: page.nextCursor };
    return jsonResponse(200, body);
  }

  async function searchRequests(req: ApiRequest): Promise<ApiResponse> {
    // The email travels in the body only (a URL lands in access logs), and is never answered.
    const { email } = parseSubjectSearch(req);
    const body: SubjectRequests = { requests: await deps.store.findBySubject(email) };
    return jsonResponse(200, body);
  }

  async function records(req: ApiRequest): Promise<ApiResponse> {
    const range = parseRecordsQuery(req.query);
    const rows: RequestSummary[] = [];
    for await (const row of deps.store.records(range)) rows.push(row);
    const csv = recordsCsv(rows);
    // A Lambda answer is capped at 6 MB; the local server's is not.
    if (!deps.local && Buffer.byteLength(csv) > MAX_RECORDS_CSV_BYTES) {
      throw new ApiError(
        413,
        'RANGE_TOO_LARGE',
        `the records of this range exceed ${MAX_RECORDS_CSV_BYTES} bytes; ask for a shorter since/until range`,
      );
    }
    return csvResponse(200, csv, 'request-records.csv');
  }

  async function metrics(req: ApiRequest): Promise<ApiResponse> {
    const { year } = parseMetricsQuery(req.query);
    return jsonResponse(200, await deps.store.metrics(year));
  }

  async function extendRequest(req: ApiRequest, requestId: string): Promise<ApiResponse> {
    const { reason } = parseExtensionRequest(req);
    const record = await deps.store.extend(requestId, reason);
    return jsonResponse(200, toStatusDocument(record, now()));
  }

  async function getRequest(requestId: string): Promise<ApiResponse> {
    const doc = await deps.store.getStatusDocument(requestId);
    if (!doc) throw notFound();
    return jsonResponse(200, doc);
  }

  async function getExport(requestId: string): Promise<ApiResponse> {
    const record = await deps.store.get(requestId);
    if (!record) throw notFound();
    if (record.emailForgottenAt) throw new EmailForgottenError(requestId);
    if (record.type !== 'access') {
      throw new ApiError(409, 'NO_EXPORT', 'only access requests have an export; this is a deletion request');
    }
    if (record.status !== 'COMPLETED') {
      throw new ApiError(
        409,
        'EXPORT_NOT_READY',
        `the request is ${record.status}; the export exists once it is COMPLETED`,
      );
    }
    const mKey = manifestKey(requestId);
    const manifest = await deps.bundles.readJson<Manifest>(mKey);
    if (!manifest) {
      throw new ApiError(410, 'EXPORT_EXPIRED', 'the export bundle is no longer stored (it expired)');
    }
    const prefix = exportPrefix(requestId);
    // Only objects of this bundle are signed, whatever the manifest says.
    const keys = (Array.isArray(manifest.files) ? manifest.files : [])
      .map((f) => f?.key)
      .filter((k): k is string => typeof k === 'string' && k.startsWith(prefix) && k !== mKey);
    const expiresAt = new Date(now().getTime() + linkSeconds * 1000).toISOString();
    const [manifestUrl, ...urls] = await Promise.all(
      [mKey, ...keys].map((key) => deps.bundles.presign(key, linkSeconds)),
    );
    const body: ExportLinks = {
      manifestUrl: manifestUrl!,
      files: keys.map((key, i) => ({ key, url: urls[i]! })),
      expiresAt,
    };
    return jsonResponse(200, body);
  }

  async function retryRequest(requestId: string, base: string): Promise<ApiResponse> {
    const record = await deps.store.get(requestId);
    if (!record) throw notFound();
    if (record.emailForgottenAt) throw new EmailForgottenError(requestId);
    // Interrupted: not ended, and no execution runs it (only a starter that can tell says so).
    const interrupted =
      !isTerminalStatus(record.status) && (await deps.starter.isRunning?.(requestId)) === false;
    if (record.status !== 'FAILED' && !interrupted) {
      throw new ApiError(
        409,
        'NOT_RETRYABLE',
        `the request is ${record.status}; only a FAILED request, or an interrupted one (not ended, and no process runs it), can be retried`,
      );
    }
    const reopened =
      record.status === 'FAILED'
        ? await deps.store.reopenForRetry(requestId)
        : await deps.store.reopenInterrupted(requestId, record);
    let status = reopened.status;
    try {
      const result = await deps.starter.redrive(requestId, record.type, record.execution?.name);
      if (result.executionName !== record.execution?.name) {
        const updated = await deps.store
          .recordExecution(requestId, {
            name: result.executionName,
            attempt: reopened.execution?.attempt ?? 1,
          })
          .catch(() => undefined);
        if (updated) status = updated.status;
      }
    } catch (err) {
      await deps.store
        .fail(requestId, {
          code: 'RETRY_FAILED',
          message: 'the workflow could not be resumed; retry again later',
        })
        .catch(() => undefined);
      throw new ApiError(
        503,
        'RETRY_FAILED',
        'the workflow could not be resumed; the request is FAILED again and can be retried later',
        { 'retry-after': '5' },
        { cause: err },
      );
    }
    return accepted(requestId, record.type, status, base);
  }

  async function health(): Promise<ApiResponse> {
    let report: ConnectionReport;
    const deadlineMs = deps.healthDeadlineMs ?? HEALTH_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HealthDeadlineError(deadlineMs)), deadlineMs);
    });
    try {
      report = await Promise.race([deps.checkConnection(), late]);
    } catch (err) {
      if (err instanceof HealthDeadlineError) {
        return jsonResponse(503, {
          ok: false,
          checkedAt: now().toISOString(),
          error: { code: 'CONNECTION_CHECK_TIMEOUT', message: err.message },
        });
      }
      // Qualtrics' and our own messages are PII- and secret-free by construction (errors.ts).
      const code = isDsrError(err) ? err.code : 'CONNECTION_CHECK_FAILED';
      const message = isDsrError(err) ? err.message : 'the connection check failed';
      // The shared limiter said wait: tell the caller how long.
      const headers: Record<string, string> =
        err instanceof ThrottledError ? { 'retry-after': String(err.waitSeconds) } : {};
      return jsonResponse(
        503,
        { ok: false, checkedAt: now().toISOString(), error: { code, message } },
        headers,
      );
    } finally {
      clearTimeout(timer);
    }
    if (report.ok) return jsonResponse(200, report);
    return jsonResponse(503, {
      ...report,
      error: { code: 'CONNECTION_CHECK_FAILED', message: report.problems.join('; ') },
    });
  }

  return async function handle(req: ApiRequest): Promise<ApiResponse> {
    const method = String(req.method ?? '').toUpperCase();
    let matched: MatchedRoute | undefined;
    let response: ApiResponse;
    let fault: ApiLogEntry['fault'];
    let code: string | undefined;
    try {
      matched = matchRoute(method, String(req.path ?? ''), { local: Boolean(deps.local) });
      response = await route(req, matched);
    } catch (err) {
      const mapped = toErrorResponse(err);
      response = mapped.response;
      fault = mapped.serverFault;
    }
    if (response.statusCode >= 400) code = errorCode(response);
    deps.log?.({
      method: /^[A-Z]{1,10}$/.test(method) ? method : 'OTHER',
      route: matched?.name,
      status: response.statusCode,
      ...(code ? { code } : {}),
      ...(matched?.requestId ? { requestId: matched.requestId } : {}),
      ...(fault ? { fault } : {}),
    });
    return response;
  };
}

function accepted(
  requestId: string,
  type: RequestType,
  status: RequestRecord['status'],
  base: string,
): ApiResponse {
  const self = `${base}/requests/${requestId}`;
  const links: AcceptedRequest['links'] = { self };
  if (type === 'access') links.export = `${self}/export`;
  if (status === 'FAILED') links.retry = `${self}/retry`;
  const body: AcceptedRequest = { requestId, status, links };
  return jsonResponse(202, body, { location: self });
}

function notFound(): ApiError {
  return new ApiError(404, 'REQUEST_NOT_FOUND', 'no request with this id');
}

function errorCode(response: ApiResponse): string | undefined {
  try {
    return (JSON.parse(response.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

class HealthDeadlineError extends Error {
  constructor(ms: number) {
    super(
      `the connection check did not finish within ${ms / 1000} s (Qualtrics, Secrets Manager or DynamoDB answered too slowly)`,
    );
    this.name = 'HealthDeadlineError';
  }
}
