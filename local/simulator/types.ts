import type { SimulatorSeed } from './seed';

/** Public types of the simulator; `index.ts` re-exports them (kept apart to avoid import cycles). */

export interface SimulatorClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

export interface SimulatorOptions {
  /** Default 0 (the OS picks a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Default 1. Multiplies every simulated duration: the 60 s rate-limit window, job durations and
   * the token TTL. 0.01 makes a rate-limit minute last 600 ms of real time. Must be > 0.
   */
  timeScale?: number;
  /** Default true. */
  enforceRateLimits?: boolean;
  /** Default true: 429s carry `Retry-After` (whether real Qualtrics sends it is unknown). */
  retryAfter?: boolean;
  /** Default 3600 simulated seconds (scaled by timeScale). */
  tokenTtlSeconds?: number;
  /** Default 20000 simulated ms from create to complete. */
  customerDataJobMs?: number;
  /** Default 2 files per completed job. */
  customerDataFiles?: number;
  /** Default 30000 simulated ms from create to completion. */
  erasureJobMs?: number;
  /** Default 100: the server caps every `pageSize` to this (1 pages every list). */
  pageSizeCap?: number;
  /** Extra OAuth clients; SIMULATOR_CLIENT is always registered unless one here reuses its id. */
  clients?: SimulatorClient[];
  /** Default: the built-in seed (`seed.ts`). Deep-copied: the simulator never mutates it. */
  seed?: SimulatorSeed;
  /** Jobs created while set end in status `failed`. */
  failCustomerDataJobs?: boolean;
  /** Erasures created while set end in status `Failed` with a `failureReason`. */
  failErasures?: boolean;
  // --- additions beyond the API ---
  /** Seed of the fault injector's PRNG; default `seed.randomSeed`, else 1. */
  randomSeed?: number;
  /**
   * Per-bucket per-minute limits overriding the endpoint table (keys: a bucket name from
   * endpoints.ts, or `brand`). Lets tests and benchmarks exercise a limit without thousands of calls.
   */
  bucketLimits?: Record<string, number>;
  /** Epoch-ms clock; default `Date.now`. Tests inject a manual clock to step time deterministically. */
  clock?: () => number;
}

export type MutableSimulatorOptions = Pick<
  SimulatorOptions,
  | 'enforceRateLimits'
  | 'retryAfter'
  | 'failCustomerDataJobs'
  | 'failErasures'
  | 'customerDataJobMs'
  | 'customerDataFiles'
  | 'erasureJobMs'
  | 'pageSizeCap'
  | 'tokenTtlSeconds'
>;

export interface EndpointCounters {
  requests: number;
  status429: number;
  status5xx: number;
  status4xx: number;
}

export interface SubjectCounters {
  customerDataCreates: number;
  erasureCreates: number;
  searches: number;
}

export interface SimulatorCounters {
  /** Key: an EndpointName from endpoints.ts, or `unknown` for unmatched routes. */
  byEndpoint: Record<string, EndpointCounters>;
  /** Key: emailSha256 (lambdas/core/privacy.ts) of the subject; never the email itself. */
  bySubject: Record<string, SubjectCounters>;
  tokensIssued: number;
  /** Every admitted (non-429) `/API/v3` request with its arrival time (clock ms), for window analysis. */
  log: Array<{ at: number; endpoint: string; status: number }>;
}

export interface Fault {
  status?: 500 | 502 | 503 | 504 | 429;
  /** 0..1; default 1. */
  probability?: number;
  /** The fault fires on at most the next N matching calls, then removes itself. Default: unlimited. */
  times?: number;
  /** Real milliseconds (not scaled) to wait before answering. */
  delayMs?: number;
  /** Never answer (until the client aborts or the simulator closes). */
  hang?: boolean;
}

export interface FaultInjector {
  /** `endpoint`: an EndpointName, or `*` for every `/API/v3` endpoint (the token endpoint only when named `token`). */
  set(endpoint: string, fault: Fault): void;
  /** Clears one endpoint's fault, or all of them. */
  clear(endpoint?: string): void;
  /** Source of randomness for `probability`; replaceable, default a PRNG seeded deterministically. */
  random?: () => number;
}

export interface CustomerDataJobView {
  id: string;
  status: string;
  createdAt: number;
  completedAt?: number;
  fileIds: string[];
}

export interface ErasureView {
  id: string;
  status: string;
  searchOnly: boolean;
  createdAt: number;
  completedAt?: number;
}

export interface Simulator {
  /** Origin, e.g. http://127.0.0.1:4010. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Deep snapshot. */
  counters(): SimulatorCounters;
  resetCounters(): void;
  readonly faults: FaultInjector;
  /** Every token issued so far now answers 401 AUTH_6.0. */
  revokeTokens(): void;
  /** Case-insensitive; reflects completed erasures. */
  contactsWithEmail(email: string): Array<{ directoryId: string; contactId: string }>;
  customerDataJobs(): CustomerDataJobView[];
  erasures(): ErasureView[];
  /** The exact bytes served for a file; throws when the job or file does not exist (yet). */
  fileBytes(customerDataRequestId: string, fileId: string): Buffer;
  setOptions(patch: Partial<MutableSimulatorOptions>): void;
}
