/**
 * Test support for the workflow steps (imported by `*.test.ts` only): a scripted Qualtrics client
 * and a step environment over a real request store and export writer (dynalite + s3rver).
 */
import { ErrorNames, QualtricsError, ThrottledError } from '../errors';
import { InProcessPublisher } from '../events';
import type { ExportWriter } from '../export-writer';
import type { QualtricsApi } from '../qualtrics/types';
import type { Reservation } from '../rate-limiter';
import type { RequestStore } from '../request-store';
import { type StepEnv, silentLog, type WorkflowDeps } from './env';
import type { JobDurations, JobKind } from './job-durations';

/** Every method rejects until a test scripts it. */
export function fakeQualtrics(script: Partial<QualtricsApi> = {}): QualtricsApi {
  const unscripted = (name: string) => () =>
    Promise.reject(new Error(`fake Qualtrics: ${name} not scripted`));
  const methods: Array<keyof QualtricsApi> = [
    'whoami',
    'grantedScopes',
    'listDirectoriesPage',
    'listDirectories',
    'searchContactsByEmailPage',
    'searchContactsByEmail',
    'getContact',
    'createCustomerDataRequest',
    'getCustomerDataRequest',
    'downloadCustomerDataFile',
    'createErasureRequest',
    'getErasureRequest',
    'listErasureRequestsPage',
    'listErasureRequests',
  ];
  const api = Object.fromEntries(methods.map((m) => [m, unscripted(m)])) as unknown as QualtricsApi;
  return Object.assign(api, script);
}

export interface TestEnv extends StepEnv {
  /** What `qualtrics(held)` was last called with. */
  heldSeen: Array<readonly Reservation[] | undefined>;
  events: InProcessPublisher;
  /** Advances the clock. */
  tick(ms: number): void;
}

/** Reservations a throttled fake gate hands back. */
export const RESERVED: Reservation[] = [{ key: 'gcra#test#bucket', slotAt: 1 }];

/** JobDurations in memory, with DynamoJobDurations' rules: `lessons` lists what was learned, in order. */
export function memoryDurations(initial: Partial<Record<JobKind, number>> = {}) {
  const typical = { ...initial };
  const provisional = new Set<JobKind>();
  const lessons: Array<{ kind: JobKind; seconds: number; atLeast?: true }> = [];
  const durations: JobDurations = {
    typical: async (kind) => typical[kind],
    learn: async (kind, seconds) => {
      lessons.push({ kind, seconds });
      typical[kind] = seconds;
      provisional.delete(kind);
    },
    learnAtLeast: async (kind, seconds) => {
      const known = typical[kind];
      if (known !== undefined && !(provisional.has(kind) && known < seconds)) return;
      lessons.push({ kind, seconds, atLeast: true });
      typical[kind] = seconds;
      provisional.add(kind);
    },
  };
  return { durations, lessons };
}

export function testEnv(
  parts: {
    store: RequestStore;
    writer: ExportWriter;
    api: QualtricsApi;
    durations?: JobDurations;
  } & Partial<WorkflowDeps>,
): TestEnv {
  let clock = Date.parse('2030-01-01T00:00:00.000Z');
  const heldSeen: TestEnv['heldSeen'] = [];
  const events = new InProcessPublisher();
  const { api, durations, ...rest } = parts;
  return {
    events,
    now: () => clock,
    waitScale: 1,
    deletionDone: 'confirmed',
    log: silentLog,
    heldSeen,
    tick: (ms) => {
      clock += ms;
    },
    async qualtrics(held) {
      heldSeen.push(held);
      return { api, reservations: () => [...RESERVED], ...(durations ? { durations } : {}) };
    },
    ...rest,
  } as TestEnv;
}

export const throttled = (waitMs = 1500, bucket = 'brand') => new ThrottledError(waitMs, bucket);

export const qualtricsFailure = (httpStatus: number, endpoint = 'createCustomerDataRequest') =>
  new QualtricsError(
    httpStatus === 429
      ? ErrorNames.RateLimited
      : httpStatus >= 500
        ? ErrorNames.Transient
        : httpStatus === 404
          ? ErrorNames.NotFound
          : ErrorNames.Validation,
    'scripted failure',
    { httpStatus, endpoint },
  );
