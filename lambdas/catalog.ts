/**
 * The handler catalog: every Lambda this product deploys, once. The CDK stack creates one function
 * per entry (and grants exactly the resources listed), the ASL files refer to step handlers by
 * `${<substitution>}`, and the local engine maps those substitutions back to the same modules.
 */

/** Resources a handler touches; the stack turns each into the narrowest IAM grant. */
export type HandlerResource =
  | 'requestsTable:read'
  | 'requestsTable:write'
  /** Query the ledger's indexes: list, search, the records export. */
  | 'requestsTable:queryLedger'
  /** Query `byEmailForgetAt`: the records whose email is due to be erased. */
  | 'requestsTable:queryEmailsDue'
  /** Query `byStatus`: the open requests, and those near or past their due date (the sweep). */
  | 'requestsTable:queryByStatus'
  | 'limiterTable:write'
  | 'exportsBucket:write'
  | 'exportsBucket:read'
  /** The bucket's name only (a step that reports where the bundle is): no access, no grant. */
  | 'exportsBucket:name'
  | 'evidence:write'
  /** Read the deletion evidence (`GET /requests/{id}/evidence`). */
  | 'evidence:read'
  | 'qualtricsSecret:read'
  | 'stateMachines:start'
  /** DescribeExecution of the two workflows' executions: is a request's execution still running? */
  | 'stateMachines:describeExecutions'
  | 'events:put';

export interface HandlerSpec {
  /** File under `lambdas/handlers/` (without `.ts`) exporting `handler`. */
  readonly file: string;
  /** `${…}` key the ASL files use for this function's ARN; absent for API/intake handlers. */
  readonly substitution?: string;
  readonly resources: readonly HandlerResource[];
  /** Whether the handler calls Qualtrics (then it goes through the rate limiter). */
  readonly callsQualtrics: boolean;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

const qualtricsStep = (file: string, substitution: string, extra: HandlerResource[] = []): HandlerSpec => ({
  file,
  substitution,
  resources: ['requestsTable:read', 'limiterTable:write', 'qualtricsSecret:read', ...extra],
  callsQualtrics: true,
  timeoutSeconds: 30,
  memoryMb: 256,
});

export const HANDLERS = {
  // One handler per Qualtrics call (README "How it is built"). The OAuth token refresh lives inside the
  // client, and `GET /whoami` is the connection check's call (`connectionCheck` below, and `api` for
  // /health).
  listDirectories: qualtricsStep('list-directories', 'ListDirectoriesFunctionArn'),
  searchDirectory: qualtricsStep('search-directory', 'SearchDirectoryFunctionArn'),
  getContacts: {
    ...qualtricsStep('get-contacts', 'GetContactsFunctionArn', ['exportsBucket:read', 'exportsBucket:write']),
    timeoutSeconds: 120,
  },
  startCustomerDataJob: qualtricsStep('start-customer-data-job', 'StartCustomerDataJobFunctionArn', [
    'requestsTable:write',
  ]),
  getCustomerDataJob: qualtricsStep('get-customer-data-job', 'GetCustomerDataJobFunctionArn', [
    'requestsTable:write',
  ]),
  downloadCustomerDataFiles: {
    // Streaming uploads finish with a server-side copy that writes the sha256 metadata: read + write.
    ...qualtricsStep('download-customer-data-files', 'DownloadCustomerDataFilesFunctionArn', [
      'exportsBucket:read',
      'exportsBucket:write',
    ]),
    timeoutSeconds: 900,
    memoryMb: 512,
  },
  createErasure: qualtricsStep('create-erasure', 'CreateErasureFunctionArn', ['requestsTable:write']),
  getErasure: qualtricsStep('get-erasure', 'GetErasureFunctionArn', ['requestsTable:write']),
  // Request-store steps.
  recordStarted: store('record-started', 'RecordStartedFunctionArn'),
  // Its output (the access summary) names the bucket the bundle is in.
  recordCompleted: store('record-completed', 'RecordCompletedFunctionArn', [
    'events:put',
    'exportsBucket:name',
  ]),
  recordFailed: store('record-failed', 'RecordFailedFunctionArn', ['events:put']),
  writeManifest: store('write-manifest', 'WriteManifestFunctionArn', [
    'exportsBucket:read',
    'exportsBucket:write',
  ]),
  writeEvidence: store('write-evidence', 'WriteEvidenceFunctionArn', ['evidence:write']),
  // API Gateway / EventBridge entry points.
  api: {
    file: 'api',
    resources: [
      'requestsTable:read',
      'requestsTable:write',
      'requestsTable:queryLedger',
      'stateMachines:start',
      'exportsBucket:read',
      'evidence:read',
      // GET /health runs the connection check (whoami through the shared limiter).
      'limiterTable:write',
      'qualtricsSecret:read',
    ],
    callsQualtrics: false,
    timeoutSeconds: 29,
    memoryMb: 256,
  },
  intakeEvent: {
    file: 'intake-event',
    resources: ['requestsTable:read', 'requestsTable:write', 'stateMachines:start'],
    callsQualtrics: false,
    timeoutSeconds: 30,
    memoryMb: 256,
  },
  // Step Functions "Execution Status Change" (FAILED/TIMED_OUT/ABORTED): no request stays open.
  executionEnded: store('execution-ended', undefined, ['events:put']),
  // The sweep, hourly (README "The sweep"): resumes stalled requests (asking Step Functions first),
  // warns of deadlines, and erases the raw email of requests answered QDSR_FORGET_EMAIL_AFTER_DAYS ago.
  sweep: {
    ...store('sweep', undefined, [
      'requestsTable:queryByStatus',
      'requestsTable:queryEmailsDue',
      'stateMachines:describeExecutions',
      'stateMachines:start',
      'events:put',
    ]),
    timeoutSeconds: 300,
  },
  connectionCheck: {
    file: 'connection-check',
    resources: ['limiterTable:write', 'qualtricsSecret:read'],
    callsQualtrics: true,
    timeoutSeconds: 30,
    memoryMb: 256,
  },
} as const satisfies Record<string, HandlerSpec>;

function store(file: string, substitution: string | undefined, extra: HandlerResource[] = []): HandlerSpec {
  return {
    file,
    ...(substitution ? { substitution } : {}),
    resources: ['requestsTable:read', 'requestsTable:write', ...extra],
    callsQualtrics: false,
    timeoutSeconds: 30,
    memoryMb: 256,
  };
}

export type HandlerName = keyof typeof HANDLERS;
export const HANDLER_NAMES = Object.keys(HANDLERS) as HandlerName[];

/**
 * The deployed default of `qualtricsConcurrency` (docs/deploy.md): no function reserves concurrency.
 * The shared rate limiter paces Qualtrics; Lambda's account concurrency is the only other cap.
 */
export const DEFAULT_QUALTRICS_CONCURRENCY = 0;

/**
 * A function's reserved concurrency for a `qualtricsConcurrency` setting: that many for each function
 * that calls Qualtrics (none at 0), none for the others. The stack and the local engine both use it.
 */
export function reservedConcurrency(spec: HandlerSpec, qualtricsConcurrency: number): number | undefined {
  return spec.callsQualtrics && qualtricsConcurrency > 0 ? qualtricsConcurrency : undefined;
}
