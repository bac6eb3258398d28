import type {
  AcceptedRequest,
  BatchItemResult,
  BulkRetryRequest,
  BulkRetryResult,
  ExportLinks,
  QueryParameters,
  SubjectRequests,
  SweepReport,
} from '../../../lambdas/core/api';
import { SOURCE_HEADER } from '../../../lambdas/core/api/http';
import type { EvidenceDocument } from '../../../lambdas/core/evidence';
import type { YearMetrics } from '../../../lambdas/core/ledger';
import type { LedgerPage, RequestStatusDocument } from '../../../lambdas/core/request-store';

/**
 * The HTTP API (README "HTTP API") as the CLI calls it, written once over a `Transport`: the
 * process that owns the data dir answers in-process, any other process goes over HTTP to the
 * owner's local API (or to a deployment's). Each method is one route; a non-2xx answer is an
 * `ApiCallError` carrying the API's code and message (PII-free by construction).
 */

export interface TransportRequest {
  method: 'GET' | 'POST';
  /** `/requests/{id}`, with the id already in its normalized form. */
  path: string;
  query?: QueryParameters;
  headers?: Record<string, string>;
  /** JSON-encoded by the client. */
  body?: unknown;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** A refusal or failure the API answered with (`{"error":{"code","message"}}`). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** What `POST /requests` takes from the CLI (the submission of README "Request rules"). */
export interface Submission {
  type: 'access' | 'deletion';
  email: string;
  dryRun?: boolean;
  jurisdiction?: string;
  receivedAt?: string;
  channel?: string;
  idempotencyKey?: string;
}

export class DsrClient {
  constructor(private readonly transport: Transport) {}

  /** `POST /requests`, recorded with source `cli`. */
  createRequest(submission: Submission): Promise<AcceptedRequest> {
    return this.json({
      method: 'POST',
      path: '/requests',
      body: submission,
      headers: { [SOURCE_HEADER]: 'cli' },
    });
  }

  /**
   * `POST /requests/batch` (1-500 submissions), recorded with source `import`. The local server
   * trusts that header; through API Gateway the requests' source is `api`.
   */
  async submitBatch(submissions: readonly Submission[]): Promise<BatchItemResult[]> {
    const { results } = await this.json<{ results: BatchItemResult[] }>({
      method: 'POST',
      path: '/requests/batch',
      body: { requests: submissions },
      headers: { [SOURCE_HEADER]: 'import' },
    });
    return results;
  }

  getRequest(requestId: string): Promise<RequestStatusDocument> {
    return this.json({ method: 'GET', path: `/requests/${requestId}` });
  }

  listRequests(query: QueryParameters): Promise<LedgerPage> {
    return this.json({ method: 'GET', path: '/requests', query });
  }

  searchRequests(email: string): Promise<SubjectRequests> {
    return this.json({ method: 'POST', path: '/requests/search', body: { email } });
  }

  /** `GET /records`: the records CSV. */
  async records(query: QueryParameters): Promise<string> {
    return (await this.send({ method: 'GET', path: '/records', query })).body;
  }

  extend(requestId: string, reason: string): Promise<RequestStatusDocument> {
    return this.json({ method: 'POST', path: `/requests/${requestId}/extend`, body: { reason } });
  }

  retry(requestId: string): Promise<AcceptedRequest> {
    return this.json({ method: 'POST', path: `/requests/${requestId}/retry` });
  }

  /** `POST /requests/retry`: the FAILED requests that match, at most 100 a call. */
  retryFailed(filter: BulkRetryRequest): Promise<BulkRetryResult> {
    return this.json({ method: 'POST', path: '/requests/retry', body: filter });
  }

  exportLinks(requestId: string): Promise<ExportLinks> {
    return this.json({ method: 'GET', path: `/requests/${requestId}/export` });
  }

  /** `GET /requests/{id}/evidence`: a deletion's evidence. */
  evidence(requestId: string): Promise<EvidenceDocument> {
    return this.json({ method: 'GET', path: `/requests/${requestId}/evidence` });
  }

  /** `GET /reports/metrics?year=YYYY`. */
  metrics(year: number): Promise<YearMetrics> {
    return this.json({ method: 'GET', path: '/reports/metrics', query: { year: [String(year)] } });
  }

  /** `POST /sweep` (local-only). */
  sweep(): Promise<SweepReport> {
    return this.json({ method: 'POST', path: '/sweep' });
  }

  private async json<T>(req: TransportRequest): Promise<T> {
    const res = await this.send(req);
    try {
      return JSON.parse(res.body) as T;
    } catch {
      throw new ApiCallError(res.statusCode, 'BAD_ANSWER', `the API answered ${req.path} with no JSON`);
    }
  }

  private async send(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.transport(req);
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = (JSON.parse(res.body) as { error?: typeof error }).error;
    } catch {
      // Not the API's JSON: a proxy's or gateway's own page.
    }
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.statusCode}`;
    const message = typeof error?.message === 'string' ? error.message : `the API answered ${res.statusCode}`;
    throw new ApiCallError(res.statusCode, code, message);
  }
}
