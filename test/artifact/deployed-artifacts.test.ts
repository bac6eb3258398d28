import '../../local/engine/polyfills';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { StateMachine } from 'aws-local-stepfunctions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build';
import type { QualtricsDsrStack } from '../../infra/stack';
import { type ExportWriter, exportWriterFromEnv } from '../../lambdas/core/export-writer';
import type { RequestStore } from '../../lambdas/core/request-store';
import { requestStoreFromEnv } from '../../lambdas/core/request-store';
import { manifestKey } from '../../lambdas/core/tables';
import { type LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/dynamo';
import { SEEDED_SUBJECT, SIMULATOR_CLIENT, type Simulator, startSimulator } from '../../local/simulator';
import { type AslDefinition, substitute, taskStates, walkStates } from '../../statemachines/definitions';
import { leakForms } from '../cli/run-cli';
import { FAKE_ACCOUNT, FAKE_REGION, fakeArns, resolve } from '../infra/support';
import { type AwsJsonServices, startAwsJsonServices } from '../support/aws-json-services';
import { scopedEnv } from '../support/scoped-env';

/**
 * What deploys is what we tested, at the artifact level: `cdk synth` with its esbuild bundles, then
 * the template's own state machines (DefinitionString, substitutions resolved) run in the local
 * engine, every Task invoking the bundle the template deploys (`asset.<hash>/index.js` in the cloud
 * assembly), in a worker of its own whose environment is that function's `Environment.Variables`
 * from the template. The only additions are what AWS itself provides: the region and credentials,
 * and endpoints for dynalite, s3rver, a Secrets Manager and EventBridge stand-in, and the simulator
 * (`QUALTRICS_BASE_URL`; the secret holds the OAuth client), plus a wait scale.
 */

const SCALE = 0.002;
const SECRET_ARN = `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:QualtricsSecret-AbC123`;
const KEY_ARN = `arn:aws:kms:${FAKE_REGION}:${FAKE_ACCOUNT}:key/00000000-0000-4000-8000-00000000beef`;
// Names the deployed stack would get, not the local defaults: an output naming `qdsr-exports` is wrong.
const NAMES = {
  requestsTable: 'QualtricsDsr-StorageRequestsTable-artifact',
  limiterTable: 'QualtricsDsr-StorageLimiterTable-artifact',
  exportBucket: 'qualtricsdsr-storageexportsbucket-artifact',
};
const BUS = 'QualtricsDsr-events';

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** One deployed function: its bundle, loaded once in a worker with the template's environment. */
class FunctionWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly output: string[] = [];

  constructor(
    readonly logicalId: string,
    entry: string,
    env: Record<string, string>,
    readonly timeoutMs: number,
  ) {
    // As Lambda's Node.js runtime does: require the bundle, call `handler(event, context)`.
    this.worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { randomUUID } = require('node:crypto');
       const { handler } = require(workerData.entry);
       parentPort.on('message', async ({ id, event }) => {
         const deadline = Date.now() + workerData.timeoutMs;
         const context = {
           awsRequestId: randomUUID(), functionName: workerData.name, functionVersion: '$LATEST',
           invokedFunctionArn: workerData.arn, memoryLimitInMB: '256', logGroupName: '/aws/lambda/' + workerData.name,
           logStreamName: 'artifact', callbackWaitsForEmptyEventLoop: true,
           getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
         };
         try {
           const result = await handler(event, context);
           parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
         } catch (e) {
           parentPort.postMessage({ id, ok: false, name: (e && e.name) || 'Error', message: String((e && e.message) || e) });
         }
       });`,
      {
        eval: true,
        env,
        workerData: {
          entry,
          name: logicalId,
          arn: `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${logicalId}`,
          timeoutMs,
        },
        stdout: true,
        stderr: true,
      },
    );
    this.worker.stdout.on('data', (d) => this.output.push(String(d)));
    this.worker.stderr.on('data', (d) => this.output.push(String(d)));
    this.worker.on(
      'message',
      (m: { id: string; ok: boolean; result?: unknown; name?: string; message?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        // Step Functions sees the error's name, as Lambda reports it (errorType).
        else p.reject(Object.assign(new Error(m.message), { name: m.name }));
      },
    );
  }

  invoke(event: unknown): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, event: JSON.parse(JSON.stringify(event)) });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let stack: QualtricsDsrStack;
let template: { Resources: Record<string, CfnResource> };
let assemblyDir: string;
let aws: LocalAws;
let sim: Simulator;
let services: AwsJsonServices;
let store: RequestStore;
let writer: ExportWriter;
const workers = new Map<string, FunctionWorker>();
const env = scopedEnv();
let synthSeconds = 0;

const idOf = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

beforeAll(async () => {
  const t = Date.now();
  const built = buildApp();
  stack = built.stack;
  const assembly = built.app.synth();
  synthSeconds = (Date.now() - t) / 1000;
  assemblyDir = assembly.directory;
  template = assembly.getStackByName(stack.stackName).template;

  aws = await startLocalAws({ names: NAMES });
  aws.applyEnv();
  sim = await startSimulator({ timeScale: SCALE });
  services = await startAwsJsonServices({
    secrets: {
      [SECRET_ARN]: { ...SIMULATOR_CLIENT, datacenter: 'iad1' },
    },
  });
  env.set({ QDSR_WAIT_SCALE: String(SCALE) });
  store = requestStoreFromEnv();
  writer = exportWriterFromEnv();
}, 240_000);

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.terminate()));
  env.restore();
  await services?.close();
  await sim?.close();
  await aws?.close();
  if (assemblyDir) rmSync(assemblyDir, { recursive: true, force: true });
});

/** A template reference → the local stand-in of that resource; anything unexpected fails the test. */
function localValue(id: string, attr?: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': FAKE_REGION,
    'AWS::AccountId': FAKE_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (id in pseudo) return pseudo[id] as string;
  const s = stack.storage;
  const known: Record<string, string> = {
    [`${idOf(s.requestsTable)}`]: NAMES.requestsTable,
    [`${idOf(s.limiterTable)}`]: NAMES.limiterTable,
    [`${idOf(s.exportsBucket)}`]: NAMES.exportBucket,
    [`${idOf(s.dataKey)}.Arn`]: KEY_ARN,
    [`${idOf(stack.secret)}`]: SECRET_ARN,
    [`${idOf(stack.events.bus)}`]: BUS,
    [`${idOf(stack.workflows.access)}`]: `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:stateMachine:QualtricsDsr-access`,
    [`${idOf(stack.workflows.deletion)}`]: `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:stateMachine:QualtricsDsr-deletion`,
  };
  const key = attr ? `${id}.${attr}` : id;
  const value = known[key];
  if (value === undefined)
    throw new Error(`the template refers to ${key}, which this test has no stand-in for`);
  return value;
}

/** The worker of a function, by logical id: its bundle and its template environment. */
function workerFor(logicalId: string): FunctionWorker {
  let w = workers.get(logicalId);
  if (w) return w;
  const fn = template.Resources[logicalId];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${logicalId} is not a function of the template`);
  const props = fn.Properties ?? {};
  const code = props.Code as { S3Key: string };
  const entry = join(assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.js');
  const variables = resolve(
    (props.Environment as { Variables: Record<string, unknown> }).Variables,
    localValue,
  ) as Record<string, string>;
  w = new FunctionWorker(
    logicalId,
    entry,
    {
      ...variables,
      // What the Lambda service provides, pointed at the local stand-ins.
      PATH: process.env.PATH ?? '',
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: logicalId,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      ...services.env,
      QUALTRICS_BASE_URL: sim.url,
      QDSR_WAIT_SCALE: String(SCALE),
    },
    Number(props.Timeout ?? 30) * 1000,
  );
  workers.set(logicalId, w);
  return w;
}

/** Runs the template's state machine of `type` for a request, every Task through its deployed bundle. */
async function runDeployed(type: 'access' | 'deletion', requestId: string) {
  const machine = template.Resources[idOf(stack.workflows[type])]?.Properties ?? {};
  const substitutions = resolve(machine.DefinitionSubstitutions, fakeArns(template as never)) as Record<
    string,
    string
  >;
  const definition = JSON.parse(substitute(String(machine.DefinitionString), substitutions)) as AslDefinition;
  const local: Record<string, (input: unknown) => Promise<unknown>> = {};
  const invoked = new Set<string>();
  for (const task of taskStates(definition)) {
    const logicalId = task.resource.split(':function:')[1] ?? '';
    local[task.stateName] = (input) => {
      invoked.add(logicalId);
      return workerFor(logicalId).invoke(input);
    };
  }
  const retries: Record<string, number[]> = {};
  walkStates(definition, (name, state) => {
    if (Array.isArray(state.Retry)) {
      retries[name] = state.Retry.map((r: { IntervalSeconds?: number }) =>
        Math.round((r.IntervalSeconds ?? 1) * 1000 * SCALE),
      );
    }
  });
  // Node's timers are 32-bit: the engine cannot arm the 35-day execution timeout (AWS does).
  delete definition.TimeoutSeconds;
  // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than our JSON
  const sm = new StateMachine(definition as any, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = sm.run(
    { requestId },
    // biome-ignore lint/suspicious/noExplicitAny: the engine's handler type expects JSON values
    { overrides: { taskResourceLocalHandlers: local as any, retryIntervalOverrides: retries } },
  );
  return { output: (await execution.result) as Record<string, unknown>, invoked };
}

describe('the synthesized artifacts, run as deployed', () => {
  it('ships each bundle with its source map, and every function runs with --enable-source-maps', () => {
    expect(synthSeconds).toBeGreaterThan(0);
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const props = r.Properties ?? {};
      const key = (props.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      expect(existsSync(join(assemblyDir, `asset.${key}`, 'index.js')), id).toBe(true);
      expect(existsSync(join(assemblyDir, `asset.${key}`, 'index.js.map')), id).toBe(true);
      const vars = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.NODE_OPTIONS, id).toBe('--enable-source-maps');
    }
  });

  it('access: the deployed access machine and bundles reach COMPLETED, naming the deployed bucket', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: SEEDED_SUBJECT });
    const { output, invoked } = await runDeployed('access', record.requestId);
    expect((await store.get(record.requestId))?.status).toBe('COMPLETED');
    expect(output).toMatchObject({
      status: 'COMPLETED',
      export: { bucket: NAMES.exportBucket, prefix: `exports/${record.requestId}/` },
    });
    expect(await writer.readJson(manifestKey(record.requestId))).toMatchObject({
      requestId: record.requestId,
    });
    expect(await writer.verifyBundle(record.requestId)).toEqual({ ok: true, problems: [] });
    expect(invoked.size).toBeGreaterThanOrEqual(8);
    expect(services.secretReads.get(SECRET_ARN)).toBeGreaterThan(0);
    expect(services.events).toContainEqual(
      expect.objectContaining({ EventBusName: BUS, DetailType: 'Privacy Request Completed' }),
    );
  });

  it('deletion: the deployed deletion machine and bundles reach COMPLETED once Qualtrics confirms', async () => {
    const { record } = await store.create({ source: 'api', type: 'deletion', email: SEEDED_SUBJECT });
    const { output } = await runDeployed('deletion', record.requestId);
    const done = await store.get(record.requestId);
    expect(done?.status).toBe('COMPLETED');
    expect(done?.qualtrics.erasureRequestId).toBeTruthy();
    expect(output).toMatchObject({ status: 'COMPLETED', type: 'deletion' });
  });

  it('logged no email from any bundle', () => {
    const logs = [...workers.values()].flatMap((w) => w.output).join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const form of leakForms(SEEDED_SUBJECT)) expect(logs).not.toContain(form);
  });
});
