import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resetAwsClients } from '../../lambdas/core/aws-clients';
import { ExportWriter } from '../../lambdas/core/export-writer';
import { bucketsFor } from '../../lambdas/core/qualtrics/endpoints';
import { RateLimiter } from '../../lambdas/core/rate-limiter';
import { RequestStore } from '../../lambdas/core/request-store';
import { STEP_HANDLERS } from '../../lambdas/handlers';
import { type LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/dynamo';
import type { StepHandlers } from '../../local/engine/workflows';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../local/simulator';
import { CANARY_CLIENT, CANARY_CLIENT_ENV, canarySeed } from '../support/canaries';
import { scopedEnv } from '../support/scoped-env';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/**
 * The parts the fault matrix runs on: dynalite and s3rver behind switchable TCP proxies (the steps
 * reach them only through the proxies; the test observes them directly, so its own reads never
 * fail), a fresh simulator per case with the canary client and canary subjects, and a record of
 * every Qualtrics API call the steps make, attributed to the step invocation that made it and to
 * the limiter admission it went out on (both observed, never changed: `RateLimiter.acquire` and the
 * global fetch are wrapped to take notes and call through).
 */

/** One step invocation, as the engine ran it. */
export interface Invocation {
  step: string;
  /** Logical time (see `FaultWorld.tick`) at which it started. */
  startedAt: number;
  /** The limiter's latest admission of a call of this invocation. */
  admission?: Admission;
}

/** The limiter admitted one call. */
export interface Admission {
  /** Logical time at which `acquire` was asked (its DynamoDB writes come after). */
  askedAt: number;
  /** Every bucket of the call was covered by a reservation presented (no DynamoDB write needed). */
  byReservation: boolean;
  /** Whether a request has gone out on it yet. */
  used: boolean;
}

/** One HTTP request a step sent to the simulator's `/API/v3`. */
export interface ApiCall {
  /** Logical time. */
  at: number;
  invocation?: Invocation;
  /** The admission it went out on: its invocation's latest, unless that one was already used. */
  admission?: Admission;
}

export interface FaultWorld {
  aws: LocalAws;
  dynamo: TcpProxy;
  s3: TcpProxy;
  /** Direct (unproxied) observers of the requests table and the bucket. */
  store: RequestStore;
  writer: ExportWriter;
  /** The current case's simulator. */
  sim: Simulator;
  /** The step handlers, each invocation tracked. */
  handlers: StepHandlers;
  /** Every `/API/v3` request the steps sent, in order. */
  apiCalls: ApiCall[];
  /** A strictly increasing logical clock shared by invocations, calls and outages. */
  tick(): number;
  /** Starts a fresh simulator (the previous one is closed) and points the connector at it. */
  newSimulator(subjects: readonly string[], options?: SimulatorOptions): Promise<Simulator>;
  /** Sets env for the steps until close (undefined deletes); the dependencies are rebuilt. */
  setEnv(vars: Record<string, string | undefined>): void;
  close(): Promise<void>;
}

export async function startFaultWorld(scale: number): Promise<FaultWorld> {
  const aws = await startLocalAws();
  aws.applyEnv();
  const dynamo = await startTcpProxy(aws.dynamoEndpoint);
  const s3 = await startTcpProxy(aws.s3Endpoint);

  const env = scopedEnv();
  const setEnv = env.set;
  // The steps' SDK clients go through the proxies.
  setEnv({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, AWS_ENDPOINT_URL_S3: s3.url });
  resetAwsClients();

  const credentials = LOCAL_CREDENTIALS;
  const ddb = new DynamoDBClient({ endpoint: aws.dynamoEndpoint, region: LOCAL_REGION, credentials });
  const doc = DynamoDBDocumentClient.from(ddb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const s3Client = new S3Client({
    endpoint: aws.s3Endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const store = new RequestStore({ doc, tableName: aws.names.requestsTable });
  const writer = new ExportWriter({ s3: s3Client, bucket: aws.names.exportBucket });

  let clock = 0;
  const tick = () => ++clock;
  const scope = new AsyncLocalStorage<Invocation>();
  const handlers: StepHandlers = Object.fromEntries(
    Object.entries(STEP_HANDLERS).map(([step, handler]) => [
      step,
      (event: unknown, context: unknown) =>
        scope.run({ step, startedAt: tick() }, () =>
          (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, context),
        ),
    ]),
  );

  // Observes (never changes) every admission of the shared limiter…
  const realAcquire = RateLimiter.prototype.acquire;
  RateLimiter.prototype.acquire = async function acquire(this: RateLimiter, endpoint, held = []) {
    const keys = bucketsFor(endpoint).map((b) => this.keyOf(b.bucket));
    const byReservation = keys.every((k) => held.some((r) => r.key === k));
    const askedAt = tick();
    const result = await realAcquire.call(this, endpoint, held);
    const inv = scope.getStore();
    if (result.admitted && inv) inv.admission = { askedAt, byReservation, used: false };
    return result;
  };
  // …and every fetch: the Qualtrics client's transport is the global fetch.
  const apiCalls: ApiCall[] = [];
  let sim: Simulator | undefined;
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (sim && url.startsWith(`${sim.url}/API/v3/`)) {
      const invocation = scope.getStore();
      const admission =
        invocation?.admission && !invocation.admission.used ? invocation.admission : undefined;
      if (admission) admission.used = true;
      apiCalls.push({
        at: tick(),
        ...(invocation ? { invocation } : {}),
        ...(admission ? { admission } : {}),
      });
    }
    return realFetch(input, init);
  }) as typeof fetch;

  const world: FaultWorld = {
    aws,
    dynamo,
    s3,
    store,
    writer,
    get sim() {
      if (!sim) throw new Error('no simulator yet');
      return sim;
    },
    handlers,
    apiCalls,
    tick,
    async newSimulator(subjects, options = {}) {
      await sim?.close();
      sim = await startSimulator({
        timeScale: scale,
        clients: [CANARY_CLIENT],
        seed: canarySeed(subjects),
        ...options,
      });
      setEnv({
        QUALTRICS_BASE_URL: sim.url,
        QUALTRICS_DATACENTER: undefined,
        QUALTRICS_SECRET_ARN: undefined,
        ...CANARY_CLIENT_ENV,
        QDSR_WAIT_SCALE: String(scale),
        QDSR_EVENT_BUS: undefined,
        QDSR_DELETION_DONE: undefined,
      });
      return sim;
    },
    setEnv,
    async close() {
      globalThis.fetch = realFetch;
      RateLimiter.prototype.acquire = realAcquire;
      env.restore();
      await sim?.close();
      ddb.destroy();
      s3Client.destroy();
      await dynamo.close();
      await s3.close();
      await aws.close();
    },
  };
  return world;
}
