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
export { ApiError, inputErrorCode, isInputError, type MappedError, toErrorResponse } from './errors';
export {
  type ApiErrorBody,
  type ApiRequest,
  type ApiResponse,
  csvResponse,
  headerValue,
  jsonResponse,
  MAX_BODY_BYTES,
  type QueryParameters,
} from './http';
export {
  LIST_PARAMETERS,
  parseListQuery,
  parseRangeBound,
  parseRecordsQuery,
  RECORDS_PARAMETERS,
} from './ledger-query';
export {
  type MatchedRoute,
  type MatchOptions,
  matchRoute,
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
  SOURCE_HEADER,
  type SubjectRequests,
  type SweepReport,
} from './service';
export { type SubmitDeps, type Submitted, submitRequest } from './submit';
