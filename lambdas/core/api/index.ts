export type { SweepReport } from '../sweep';
export {
  type ExtensionRequest,
  extensionRequest,
  MAX_EXTENSION_REASON_LENGTH,
  MAX_JSON_DEPTH,
  parseCreateRequest,
  parseExtensionRequest,
  parseSubjectSearch,
  type SubjectSearch,
  subjectSearch,
  validateCreateRequest,
} from './body';
export {
  type BatchItemResult,
  type BatchSubmission,
  type BulkRetryRequest,
  type BulkRetryResult,
  batchSubmission,
  bulkRetryRequest,
  MAX_BATCH_REQUESTS,
  MAX_BULK_RETRIES,
  retryFailed,
  submitBatch,
} from './bulk';
export { ApiError, inputErrorCode, isInputError, type MappedError, toErrorResponse } from './errors';
export * from './http';
export {
  LIST_PARAMETERS,
  parseListQuery,
  parseRangeBound,
  parseRecordsQuery,
  RECORDS_PARAMETERS,
} from './ledger-query';
export {
  isLocalOnlyRoute,
  type LocalOnlyRouteName,
  type MatchedRoute,
  type MatchOptions,
  matchRoute,
  maxBodyBytesOf,
  ROUTES,
  type Route,
  type RouteName,
  routeResource,
  SHARED_ROUTES,
} from './routes';
export {
  type AcceptedRequest,
  type ApiDeps,
  type ApiLogEntry,
  type BundleReader,
  createApi,
  type ExportLinks,
  type LocalApiDeps,
  MAX_EXPORT_LINK_SECONDS,
  MAX_RECORDS_CSV_BYTES,
  type RequestStoreLike,
  type SubjectRequests,
} from './service';
export { type SubmitDeps, type Submitted, submitRequest } from './submit';
