export { MAX_JSON_DEPTH, parseCreateRequest, validateCreateRequest } from './body';
export { ApiError, type MappedError, toErrorResponse } from './errors';
export {
  type ApiErrorBody,
  type ApiRequest,
  type ApiResponse,
  headerValue,
  jsonResponse,
  MAX_BODY_BYTES,
} from './http';
export { type MatchedRoute, matchRoute, type RouteName } from './routes';
export {
  type AcceptedRequest,
  type ApiDeps,
  type ApiLogEntry,
  type BundleReader,
  createApi,
  type ExportLinks,
  MAX_EXPORT_LINK_SECONDS,
  type RequestStoreLike,
} from './service';
export { type SubmitDeps, type Submitted, submitRequest } from './submit';
