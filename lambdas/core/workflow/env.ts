import type { EventPublisher } from '../events';
import type { ExportWriter } from '../export-writer';
import type { QualtricsApi } from '../qualtrics/types';
import type { Reservation } from '../rate-limiter';
import {
  type RecordWithEmail,
  RequestNotFoundError,
  type RequestStore,
  requireEmail,
} from '../request-store';
import type { JobDurations } from './job-durations';

/** Whether a deletion is done once Qualtrics accepted the erasure, or once it confirmed it (default). */
export type DeletionDone = 'submitted' | 'confirmed';

/** The Qualtrics client as one step invocation sees it: every call goes through its own limiter gate. */
export interface LimitedQualtrics {
  api: QualtricsApi;
  /** Limiter slots this invocation holds (after a denial): carry them through the Wait. */
  reservations(): Reservation[];
  /** What this tenant's Qualtrics jobs have taught about their durations (absent: no hints). */
  durations?: JobDurations;
  /** Which Qualtrics this is: "simulator" or the origin (`qualtricsTarget`); absent in test doubles. */
  target?: string;
}

/** What every workflow step works with; built once per process (`deps.ts`), replaceable in tests. */
export interface WorkflowDeps {
  store: RequestStore;
  writer: ExportWriter;
  /**
   * The Qualtrics client behind the shared rate limiter, for one invocation holding `held` (the
   * slots an earlier, throttled attempt reserved). Built on first use (settings, secret).
   */
  qualtrics(held?: readonly Reservation[]): Promise<LimitedQualtrics>;
  events: EventPublisher;
  /** Epoch ms. */
  now(): number;
  /** QDSR_WAIT_SCALE: multiplies every poll wait a step computes. */
  waitScale: number;
  deletionDone: DeletionDone;
}

/** Structured logging of one step invocation; every line already carries the request id. */
export interface StepLog {
  debug(message: string, ...extra: Array<Record<string, unknown>>): void;
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface StepEnv extends WorkflowDeps {
  log: StepLog;
  /** Ms until the invocation is stopped (Lambda's `getRemainingTimeInMillis`); absent: no deadline. */
  remainingTimeMs?: () => number;
}

export const silentLog: StepLog = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The request record a step works on; it alone holds the subject's email. A record whose email was
 * erased (minimization) cannot be worked on: EmailForgottenError, at once, from any step.
 */
export async function loadRequest(
  env: Pick<WorkflowDeps, 'store'>,
  requestId: string,
): Promise<RecordWithEmail> {
  const record = await env.store.get(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  return requireEmail(record);
}

export const isoNow = (env: Pick<WorkflowDeps, 'now'>): string => new Date(env.now()).toISOString();
