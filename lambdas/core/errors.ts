/**
 * Typed errors of the core. An error's `name` is what Step Functions sees as the error name
 * (`ErrorEquals`), so the names are a contract with `statemachines/*.asl.json`.
 *
 * No error carries an email, a token or a secret: messages are built from status codes, Qualtrics
 * error codes and ids only, never from request bodies or URLs with credentials.
 */

export const ErrorNames = {
  RateLimited: 'Qualtrics.RateLimited',
  Auth: 'Qualtrics.Auth',
  MissingScope: 'Qualtrics.MissingScope',
  NotFound: 'Qualtrics.NotFound',
  Validation: 'Qualtrics.Validation',
  Transient: 'Qualtrics.Transient',
  UnexpectedResponse: 'Qualtrics.UnexpectedResponse',
  JobFailed: 'Qualtrics.JobFailed',
  /** An earlier create (job or erasure) ended without a known outcome; repeating it could create a second one. */
  AmbiguousCreate: 'Qualtrics.AmbiguousCreate',
  LimiterUnavailable: 'RateLimiter.Unavailable',
  Throttled: 'RateLimiter.Throttled',
  Config: 'Config.Invalid',
  Input: 'Input.Invalid',
  RequestNotFound: 'Request.NotFound',
  /** A request-store write the record's status forbids (e.g. leaving COMPLETED/FAILED). */
  RequestConflict: 'Request.Conflict',
  Storage: 'Storage.Unavailable',
  /** A stored request record is not in the form this version writes (edited by hand, damaged storage). */
  RecordUnreadable: 'Storage.RecordUnreadable',
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

export interface QualtricsErrorDetails {
  /** HTTP status Qualtrics answered with; 0 when no response arrived (network error, timeout). */
  httpStatus: number;
  /** Qualtrics `meta.error.errorCode` (e.g. `ATP_2`, `DCD_7`, `AUTH_6.0`) when present. */
  errorCode?: string;
  /** Qualtrics `meta.requestId` (a trace id, not personal data) when present. */
  qualtricsRequestId?: string;
  /** Which endpoint of the table the call addressed. */
  endpoint?: string;
  /** Seconds Qualtrics asked us to wait (`Retry-After`), when sent. */
  retryAfterSeconds?: number;
  /**
   * True when the request provably never reached Qualtrics: the connection or its TLS handshake
   * failed before any byte of it was written (refused, DNS failure, certificate or handshake error).
   * Absent when it may have arrived (a timeout, a connection lost mid-way, any answer).
   */
  notSent?: boolean;
}

export class DsrError extends Error {
  override readonly name: ErrorName;
  /** Whether repeating the same step later may succeed. */
  readonly retryable: boolean;
  constructor(name: ErrorName, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.retryable = retryable;
  }
  /** A stable, PII-free code for summaries and API errors (`Qualtrics.Auth` → `QUALTRICS_AUTH`). */
  get code(): string {
    return this.name
      .replace(/\./g, '_')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toUpperCase();
  }
}

export class QualtricsError extends DsrError {
  readonly httpStatus: number;
  readonly errorCode?: string;
  readonly qualtricsRequestId?: string;
  readonly endpoint?: string;
  readonly retryAfterSeconds?: number;
  readonly notSent: boolean;
  constructor(
    name: ErrorName,
    message: string,
    details: QualtricsErrorDetails,
    options?: { cause?: unknown },
  ) {
    const retryable =
      name === ErrorNames.RateLimited ||
      name === ErrorNames.Transient ||
      name === ErrorNames.LimiterUnavailable;
    const parts = [`HTTP ${details.httpStatus || 'no response'}`];
    if (details.endpoint) parts.unshift(details.endpoint);
    if (details.errorCode) parts.push(`errorCode ${details.errorCode}`);
    if (details.qualtricsRequestId) parts.push(`Qualtrics requestId ${details.qualtricsRequestId}`);
    super(name, `${message} (${parts.join(', ')})`, retryable, options);
    this.httpStatus = details.httpStatus;
    this.errorCode = details.errorCode;
    this.qualtricsRequestId = details.qualtricsRequestId;
    this.endpoint = details.endpoint;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.notSent = details.notSent === true;
  }
}

/** The limiter denied the call: wait `waitSeconds` (exact) and try again. Not a Qualtrics call. */
export class ThrottledError extends DsrError {
  constructor(
    readonly waitMs: number,
    readonly bucket: string,
    /**
     * The same moment as epoch ms, when the limiter knows it: a reserved slot is kept only briefly
     * past its instant, so a caller that takes a while before it schedules its wait must count from
     * this, not from its own clock plus `waitMs`.
     */
    readonly retryAt?: number,
  ) {
    super(ErrorNames.Throttled, `rate limiter: bucket ${bucket} admits the next call in ${waitMs} ms`, true);
  }
  get waitSeconds(): number {
    return Math.max(1, Math.ceil(this.waitMs / 1000));
  }
}

export class ConfigError extends DsrError {
  /** The setting (environment variable) the user must fix. */
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(ErrorNames.Config, message, false);
    this.setting = setting;
  }
}

export class InputError extends DsrError {
  constructor(message: string) {
    super(ErrorNames.Input, message, false);
  }
}

export function isDsrError(e: unknown): e is DsrError {
  return e instanceof DsrError;
}
