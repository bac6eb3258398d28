import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { localDynamoClient } from '../../../test/support/dynalite';
import type { DeadlineEventDetail, DsrEvent, EventPublisher } from '../events';
import { MAX_RESUMPTIONS, RequestStore } from '../request-store';
import { StepFunctionsStarter } from '../workflow-starter';
import { STALL_GRACE_MS, type SweepResult, sweep } from '.';
import { stepFunctionsLiveness } from './step-functions-liveness';

/**
 * The sweep against the real request store (dynalite) and a mocked Step Functions (there is no
 * local Step Functions API): it asks DescribeExecution before it resumes anything, resumes only
 * what is definitely not running, at most three times, and warns of each deadline once.
 */

const DAY = 86_400_000;
const ACCESS_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:qdsr-access';
const DELETION_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:qdsr-deletion';
const arnOf = (type: 'access' | 'deletion') => (type === 'access' ? ACCESS_ARN : DELETION_ARN);

let aws: LocalAws;
let client: DynamoDBClient;
let clock = Date.parse('2026-03-02T09:00:00.000Z');
let store: RequestStore;
const sfn = mockClient(SFNClient);
/** What Step Functions says of each execution name; absent → ExecutionDoesNotExist. */
const executions = new Map<string, 'RUNNING' | 'FAILED' | 'SUCCEEDED' | 'THROTTLED'>();
const published: DsrEvent[] = [];
let publishFails = false;
const events: EventPublisher = {
  async publish(e) {
    if (publishFails) throw new Error('bus unavailable');
    published.push(e);
  },
};

beforeAll(async () => {
  aws = await startLocalAws();
  client = localDynamoClient(aws.dynamoEndpoint);
  store = new RequestStore({
    doc: DynamoDBDocumentClient.from(client),
    tableName: aws.names.requestsTable,
    now: () => new Date(clock),
  });
});
afterAll(async () => {
  client?.destroy();
  await aws?.close();
});
afterEach(() => {
  sfn.reset();
  published.length = 0;
  publishFails = false;
});

function mockStepFunctions(): void {
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const name = input.executionArn.split(':').at(-1)!;
    const status = executions.get(name);
    if (status === 'THROTTLED')
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    if (!status) throw new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} });
    return { status, executionArn: input.executionArn };
  });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
}

async function runSweep(): Promise<SweepResult> {
  const sfnClient = new SFNClient({ region: 'eu-west-1' });
  const starter = new StepFunctionsStarter({
    client: sfnClient,
    stateMachineArns: { access: ACCESS_ARN, deletion: DELETION_ARN },
  });
  return sweep(
    {
      store,
      starter,
      liveness: stepFunctionsLiveness(sfnClient, arnOf),
      events,
      dueSoonDays: 5,
      graceMs: STALL_GRACE_MS,
    },
    new Date(clock),
  );
}

/** A request whose workflow started (RUNNING, execution `<id>-1`) `ago` ms before now. */
async function running(ago = 10 * 60_000, type: 'access' | 'deletion' = 'access'): Promise<string> {
  const now = clock;
  clock -= ago;
  const { record } = await store.create({ source: 'api', type, email: 'sweep.subject@example.com' });
  await store.recordExecution(record.requestId, { name: `${record.requestId}-1`, attempt: 1 });
  await store.transition(record.requestId, 'RUNNING', 'STARTED');
  clock = now;
  return record.requestId;
}

const described = () =>
  sfn.commandCalls(DescribeExecutionCommand).map((c) => String(c.args[0].input.executionArn));
const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => String(c.args[0].input.name));

describe('resuming stalled requests', () => {
  it('asks Step Functions first, and resumes a request whose execution is no longer RUNNING as <id>-2', async () => {
    const id = await running();
    executions.set(`${id}-1`, 'FAILED');
    mockStepFunctions();
    const result = await runSweep();

    expect(result.resumed).toContain(id);
    // DescribeExecution of the recorded execution came before the only StartExecution of it.
    const order = sfn
      .calls()
      .map((c) => c.args[0])
      .filter((cmd) => JSON.stringify(cmd.input).includes(id))
      .map((cmd) => cmd.constructor.name);
    expect(order).toEqual(['DescribeExecutionCommand', 'StartExecutionCommand']);
    expect(described()).toContain(`arn:aws:states:eu-west-1:123456789012:execution:qdsr-access:${id}-1`);
    expect(started()).toContain(`${id}-2`);
    const record = (await store.get(id))!;
    expect(record).toMatchObject({
      status: 'RUNNING',
      resumptions: 1,
      execution: { name: `${id}-2`, attempt: 2 },
    });
    expect(record.timeline.at(-1)).toMatchObject({ step: 'RESUMED' });
    executions.set(`${id}-2`, 'RUNNING');
  });

  it('leaves a RUNNING execution alone, and never resumes on doubt (DescribeExecution throttled)', async () => {
    const live = await running();
    const doubtful = await running();
    executions.set(`${live}-1`, 'RUNNING');
    executions.set(`${doubtful}-1`, 'THROTTLED');
    mockStepFunctions();
    const result = await runSweep();

    expect(described()).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`${live}-1`),
        expect.stringContaining(`${doubtful}-1`),
      ]),
    );
    expect(result.resumed).not.toContain(live);
    expect(result.resumed).not.toContain(doubtful);
    expect(started().filter((n) => n.startsWith(live) || n.startsWith(doubtful))).toEqual([]);
    expect((await store.get(doubtful))?.resumptions).toBeUndefined();
    executions.set(`${doubtful}-1`, 'RUNNING');
  });

  it('resumes a request recorded but never started (no execution of it exists), and not one written within the grace', async () => {
    const now = clock;
    clock -= 10 * 60_000;
    const { record: neverStarted } = await store.create({
      source: 'api',
      type: 'deletion',
      email: 'a@example.com',
    });
    clock = now - 10_000;
    const { record: young } = await store.create({ source: 'api', type: 'deletion', email: 'b@example.com' });
    clock = now;
    mockStepFunctions();
    const result = await runSweep();

    expect(result.resumed).toContain(neverStarted.requestId);
    expect(described()).toContain(
      `arn:aws:states:eu-west-1:123456789012:execution:qdsr-deletion:${neverStarted.requestId}-1`,
    );
    expect(started()).toContain(`${neverStarted.requestId}-2`);
    expect(described().some((a) => a.includes(young.requestId))).toBe(false);
    expect(result.resumed).not.toContain(young.requestId);
    executions.set(`${neverStarted.requestId}-2`, 'RUNNING');
    clock += STALL_GRACE_MS;
    executions.set(`${young.requestId}-1`, 'RUNNING');
  });

  it('two sweeps at once resume a stalled request once', async () => {
    const id = await running();
    mockStepFunctions();
    const [a, b] = await Promise.all([runSweep(), runSweep()]);
    expect([...a.resumed, ...b.resumed].filter((x) => x === id)).toEqual([id]);
    expect(started().filter((n) => n.startsWith(id))).toEqual([`${id}-2`]);
    expect((await store.get(id))?.resumptions).toBe(1);
    executions.set(`${id}-2`, 'RUNNING');
  });

  it(`resumes a request at most ${MAX_RESUMPTIONS} times, then fails it STALLED with what to do`, async () => {
    const id = await running();
    mockStepFunctions();
    for (let i = 1; i <= MAX_RESUMPTIONS; i++) {
      clock += 2 * STALL_GRACE_MS;
      const result = await runSweep();
      expect(result.resumed).toContain(id);
    }
    clock += 2 * STALL_GRACE_MS;
    const last = await runSweep();
    expect(last.failed).toContain(id);
    expect(last.resumed).not.toContain(id);
    expect(started().filter((n) => n.startsWith(id))).toEqual([`${id}-2`, `${id}-3`, `${id}-4`]);
    const record = (await store.get(id))!;
    expect(record).toMatchObject({
      status: 'FAILED',
      resumptions: MAX_RESUMPTIONS,
      error: { code: 'STALLED' },
    });
    expect(record.error?.message).toMatch(/resumed 3 times.*retry/);
    expect(record.error?.message).toContain(`${id}-4`);
  });
});

describe('deadline warnings', () => {
  const receivedDaysAgo = async (days: number, type: 'access' | 'deletion' = 'access') => {
    const { record } = await store.create({
      source: 'api',
      type,
      email: 'deadline.subject@example.com',
      jurisdiction: 'ccpa',
      receivedAt: new Date(clock - days * DAY).toISOString(),
    });
    executions.set(`${record.requestId}-1`, 'RUNNING');
    return record.requestId;
  };
  const ofKind = (kind: string, id: string) =>
    published.filter((e) => e.detailType === kind && e.detail.requestId === id);

  it('sends Due Soon within 5 days of the due date and Overdue past it, each once, with ids and dates only', async () => {
    mockStepFunctions();
    const soon = await receivedDaysAgo(42); // CCPA: due at 45 days, in 3
    const late = await receivedDaysAgo(50, 'deletion'); // 5 days overdue
    const early = await receivedDaysAgo(10);
    const first = await runSweep();

    expect(first.dueSoon).toContain(soon);
    expect(first.overdue).toContain(late);
    expect(first.dueSoon).not.toContain(late);
    expect([...first.dueSoon, ...first.overdue]).not.toContain(early);
    expect(first.overdueRequests).toBeGreaterThanOrEqual(1);
    const [dueSoon] = ofKind('Privacy Request Due Soon', soon);
    expect(Object.keys(dueSoon!.detail).sort()).toEqual([
      'dueAt',
      'effectiveDueAt',
      'extendedDueAt',
      'jurisdiction',
      'maskedEmail',
      'receivedAt',
      'requestId',
      'type',
    ]);
    expect(dueSoon!.detail).toMatchObject({
      requestId: soon,
      type: 'access',
      jurisdiction: 'ccpa',
      extendedDueAt: null,
      maskedEmail: 'd***@example.com',
    });
    expect(JSON.stringify(published)).not.toContain('deadline.subject');
    expect(ofKind('Privacy Request Overdue', late)).toHaveLength(1);

    const second = await runSweep();
    expect(second.dueSoon).not.toContain(soon);
    expect(second.overdue).not.toContain(late);
    expect(ofKind('Privacy Request Due Soon', soon)).toHaveLength(1);
    expect(ofKind('Privacy Request Overdue', late)).toHaveLength(1);
    // Still overdue, so still counted by the metric.
    expect(second.overdueRequests).toBe(first.overdueRequests);
  });

  it('sends a new Due Soon for the extended due date, and none for a COMPLETED request', async () => {
    mockStepFunctions();
    const id = await receivedDaysAgo(42);
    await runSweep();
    await store.extend(id, 'the subject holds many records');
    clock += 43 * DAY; // received 85 days ago: the extended date (90 days) is 5 days off
    const done = await receivedDaysAgo(44);
    await store.complete(done, { outcome: 'data-provided' });
    const result = await runSweep();
    expect(result.dueSoon).toContain(id);
    const warnings = ofKind('Privacy Request Due Soon', id);
    const detail = warnings.at(-1)!.detail as DeadlineEventDetail;
    expect(detail.extendedDueAt).not.toBeNull();
    expect(detail.effectiveDueAt).toBe(detail.extendedDueAt);
    expect([...result.dueSoon, ...result.overdue]).not.toContain(done);
  });

  it('takes the mark back when the event cannot be published, so the next sweep sends it', async () => {
    mockStepFunctions();
    const id = await receivedDaysAgo(43);
    publishFails = true;
    const failed = await runSweep();
    expect(failed.dueSoon).not.toContain(id);
    expect((await store.get(id))?.dueSoonNotifiedAt).toBeUndefined();
    publishFails = false;
    const retried = await runSweep();
    expect(retried.dueSoon).toContain(id);
    expect(ofKind('Privacy Request Due Soon', id)).toHaveLength(1);
  });
});
