import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RequestType } from '../../lambdas/core/request-store';
import { setWorkflowStarter, type WorkflowStarter } from '../../lambdas/core/workflow-starter';
import { type BackgroundWorkflows, createBackgroundWorkflows } from '../../local/api/background-workflows';
import { type ApiServer, startApiServer } from '../../local/api/server';
import { type LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/dynamo';
import { type RunWorkflowOptions, runWorkflow, type WorkflowRun } from '../../local/engine/workflows';
import {
  connectorEnvFor,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../local/simulator';
import { scopedEnv } from '../support/scoped-env';

/**
 * The local API as `serve` runs it, on real parts: the node:http server on 127.0.0.1 calling the
 * `api` Lambda handler, dynalite + s3rver, the simulator over HTTP, and the embedded engine in the
 * background — behind a spy starter that records every start and can hold runs at a gate. Every
 * wait runs `scale` times faster (500× by default, as in the workflow tests), the simulator's clock
 * as well.
 */

export interface ApiWorld {
  url: string;
  aws: LocalAws;
  sim: Simulator;
  server: ApiServer;
  workflows: BackgroundWorkflows;
  /** Every start and redrive the API asked for, in order. */
  starts: Array<{ type: RequestType; requestId: string }>;
  redrives: Array<{ type: RequestType; requestId: string }>;
  /** Makes the next starts throw (a Step Functions outage) while true. */
  failStarts: boolean;
  /** Holds every workflow run until `release()` (to see a request before it completes). */
  hold(): void;
  release(): void;
  /** Items in the requests table (records and idempotency keys). */
  countRequestItems(): Promise<number>;
  setEnv(vars: Record<string, string | undefined>): void;
  close(): Promise<void>;
}

export async function startApiWorld(
  opts: { scale?: number; simulator?: SimulatorOptions } = {},
): Promise<ApiWorld> {
  const scale = opts.scale ?? 0.002;
  const env = scopedEnv();
  const setEnv = env.set;
  const aws = await startLocalAws();
  aws.applyEnv();
  const sim = await startSimulator({ timeScale: scale, ...opts.simulator });
  setEnv({
    ...connectorEnvFor(sim.url),
    QDSR_WAIT_SCALE: String(scale),
    QDSR_EVENT_BUS: undefined,
    QDSR_DELETION_DONE: undefined,
  });

  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const gatedRun = async (o: RunWorkflowOptions): Promise<WorkflowRun> => {
    if (gate) await gate.promise;
    return runWorkflow(o);
  };
  const workflows = createBackgroundWorkflows({ waitScale: scale, run: gatedRun });
  const world: ApiWorld = {
    url: '',
    aws,
    sim,
    server: undefined as unknown as ApiServer,
    workflows,
    starts: [],
    redrives: [],
    failStarts: false,
    hold() {
      let open: () => void = () => undefined;
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    async countRequestItems() {
      const client = new DynamoDBClient({
        endpoint: aws.dynamoEndpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      try {
        let count = 0;
        let start: Record<string, unknown> | undefined;
        do {
          const out = await client.send(
            new ScanCommand({
              TableName: aws.names.requestsTable,
              Select: 'COUNT',
              ExclusiveStartKey: start as never,
            }),
          );
          count += out.Count ?? 0;
          start = out.LastEvaluatedKey;
        } while (start);
        return count;
      } finally {
        client.destroy();
      }
    },
    setEnv,
    async close() {
      world.release();
      await world.server?.close();
      setWorkflowStarter(undefined);
      await workflows.shutdown({ graceMs: 5_000, stepGraceMs: 5_000 });
      env.restore();
      await sim.close();
      await aws.close();
    },
  };
  const spy: WorkflowStarter = {
    async start(type, requestId, attempt) {
      world.starts.push({ type, requestId });
      if (world.failStarts)
        throw Object.assign(new Error('simulated outage'), { name: 'ServiceUnavailable' });
      return workflows.start(type, requestId, attempt);
    },
    async redrive(requestId, type, name) {
      world.redrives.push({ type, requestId });
      return workflows.redrive(requestId, type, name);
    },
    isRunning: (requestId) => workflows.isRunning(requestId),
  };
  setWorkflowStarter(spy);
  world.server = await startApiServer({ port: 0, host: '127.0.0.1' });
  world.url = world.server.url;
  return world;
}

/** Polls the status document until `until` holds (bounded by attempts, not by a timed assertion). */
export async function pollStatus(
  url: string,
  requestId: string,
  until: (doc: Record<string, unknown>) => boolean,
  attempts = 600,
): Promise<{ doc: Record<string, unknown>; seen: Array<Record<string, unknown>> }> {
  const seen: Array<Record<string, unknown>> = [];
  for (let i = 0; i < attempts; i++) {
    const res = await fetch(`${url}/requests/${requestId}`);
    const doc = (await res.json()) as Record<string, unknown>;
    seen.push(doc);
    if (until(doc)) return { doc, seen };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `request ${requestId} did not reach the expected state; last: ${JSON.stringify(seen.at(-1))}`,
  );
}

export const isTerminal = (doc: Record<string, unknown>): boolean =>
  doc.status === 'COMPLETED' || doc.status === 'FAILED';
