export {
  createQualtricsClient,
  DEFAULT_PAGE_SIZE,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_REFRESH_MARGIN_SECONDS,
  MAX_ERASURE_EMAILS,
  type QualtricsClientOptions,
} from './client';
export * from './types';
