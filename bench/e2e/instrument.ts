import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerName } from '../../lambdas/catalog';
import { HANDLERS } from '../../lambdas/catalog';
import type { StepHandlers } from '../../local/engine/workflows';

/**
 * Per-request resource counting for the end-to-end benchmark, kept outside product code:
 *  - SDK middleware on the shared DynamoDB and S3 clients counts every request by operation (and
 *    DynamoDB capacity units, asking for `ReturnConsumedCapacity` on the wire only);
 *  - a wrapped handler registry counts Lambda invocations and their in-process duration;
 *  - an AsyncLocalStorage context (entered around each request's intake and workflow run) tells
 *    which request an SDK call or an invocation belongs to. The engine runs a workflow's states as
 *    promise continuations and timers of `runWorkflow`, so the context follows every step.
 */

export interface RequestUsage {
  /** DynamoDB requests by operation (PutItem, UpdateItem, GetItem, …), failed conditions included. */
  ddbOps: Record<string, number>;
  /** Write request units (ConsumedCapacity; 1 for a failed conditional write, as AWS bills it). */
  ddbWriteUnits: number;
  /** Read request units (ConsumedCapacity). */
  ddbReadUnits: number;
  /** S3 requests by operation. */
  s3Ops: Record<string, number>;
  /** Lambda invocations by handler name. */
  invocations: Record<string, number>;
  /** GB-seconds: in-process handler duration (ms) × the catalog memory, summed. */
  gbSeconds: number;
  /** Handler wall time in ms, summed. */
  handlerMs: number;
  /** Qualtrics HTTP requests by endpoint (the token included), as the connector sent them. */
  qualtrics: Record<string, number>;
  /** GB-seconds a Lambda would add waiting on a real Qualtrics (see `instrumentQualtrics`). */
  qualtricsWaitGbSeconds: number;
}

export function emptyUsage(): RequestUsage {
  return {
    ddbOps: {},
    ddbWriteUnits: 0,
    ddbReadUnits: 0,
    s3Ops: {},
    invocations: {},
    gbSeconds: 0,
    handlerMs: 0,
    qualtrics: {},
    qualtricsWaitGbSeconds: 0,
  };
}

const DDB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const DDB_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** PUT, COPY, POST, LIST requests (one S3 price class). */
export const S3_PUT_CLASS = new Set([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'ListObjectsV2',
  'ListObjects',
]);
/** GET, HEAD and the like (the other S3 price class). */
export const S3_GET_CLASS = new Set(['GetObject', 'HeadObject']);

export const isDdbWrite = (op: string) => DDB_WRITES.has(op);
export const isDdbRead = (op: string) => DDB_READS.has(op);

interface Ctx {
  usage: RequestUsage;
  /** The handler running, inside an invocation. */
  handler?: HandlerName;
}

const current = new AsyncLocalStorage<Ctx>();

/** Usage outside any request's context (should stay empty: the benchmark checks it). */
export const unattributed: RequestUsage = emptyUsage();

function usageNow(): RequestUsage {
  return current.getStore()?.usage ?? unattributed;
}

const bump = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};

/** Runs `fn` with every SDK call and invocation inside it counted into `usage`. */
export function withUsage<T>(usage: RequestUsage, fn: () => Promise<T>): Promise<T> {
  return current.run({ usage }, fn);
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      // biome-ignore lint/suspicious/noExplicitAny: SDK middleware signature
      mw: (next: any, context: any) => (args: any) => Promise<any>,
      options: { step: 'serialize'; priority: 'high'; name: string },
    ): void;
    remove(name: string): boolean;
  };
}

const DDB_MW = 'qdsrBenchDynamoCounter';
const S3_MW = 'qdsrBenchS3Counter';

/**
 * Counts every DynamoDB request of `client` (the shared document client's stack is the base
 * client's). Asks DynamoDB for ConsumedCapacity so write and read units reflect item sizes.
 */
export function instrumentDynamo(client: MiddlewareClient): void {
  client.middlewareStack.remove(DDB_MW);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const usage = usageNow();
      bump(usage.ddbOps, op);
      const wantsCapacity = isDdbWrite(op) || isDdbRead(op);
      const input =
        wantsCapacity && args.input && typeof args.input === 'object'
          ? { ...args.input, ReturnConsumedCapacity: 'TOTAL' }
          : args.input;
      try {
        const out = await next({ ...args, input });
        const consumed = out?.output?.ConsumedCapacity;
        const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
          (n: number, c: { CapacityUnits?: number }) => n + (c.CapacityUnits ?? 0),
          0,
        );
        if (isDdbWrite(op)) usage.ddbWriteUnits += Math.max(1, units);
        else if (isDdbRead(op)) usage.ddbReadUnits += Math.max(0.5, units);
        return out;
      } catch (e) {
        // A failed conditional write is billed like a write (at least one unit).
        if (isDdbWrite(op)) usage.ddbWriteUnits += 1;
        else if (isDdbRead(op)) usage.ddbReadUnits += 0.5;
        throw e;
      }
    },
    { step: 'serialize', priority: 'high', name: DDB_MW },
  );
}

export function instrumentS3(client: MiddlewareClient): void {
  client.middlewareStack.remove(S3_MW);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      bump(usageNow().s3Ops, op);
      return next(args);
    },
    { step: 'serialize', priority: 'high', name: S3_MW },
  );
}

/** The step handlers, each invocation counted (with its duration) into the caller's usage. */
export function countedHandlers(registry: StepHandlers): StepHandlers {
  const out: StepHandlers = {};
  for (const [name, fn] of Object.entries(registry) as Array<
    [HandlerName, NonNullable<StepHandlers[HandlerName]>]
  >) {
    const memoryGb = HANDLERS[name].memoryMb / 1024;
    out[name] = async (event, context) => {
      const usage = usageNow();
      bump(usage.invocations, name);
      const t0 = performance.now();
      try {
        return await current.run({ usage, handler: name }, () => fn(event, context));
      } finally {
        // Lambda bills whole milliseconds, at least 1.
        const ms = Math.max(1, Math.ceil(performance.now() - t0));
        usage.handlerMs += ms;
        usage.gbSeconds += (ms / 1000) * memoryGb;
      }
    };
  }
  return out;
}

/**
 * Counts every Qualtrics request the connector sends (global fetch, as its HTTP layer uses) by
 * endpoint into the caller's usage, and charges `assumedLatencyMs` of the calling handler's memory
 * for each: what a Lambda would pay waiting on a real tenant. Returns the undo.
 */
export function instrumentQualtrics(
  origin: string,
  assumedLatencyMs: number,
  endpointOf: (method: string, url: URL) => string,
  /** Every request as it leaves (before the network and the simulator's event loop). */
  sent: Array<{ at: number; endpoint: string }> = [],
): () => void {
  const original = globalThis.fetch;
  const wrapped: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin === origin) {
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const ctx = current.getStore();
      const usage = ctx?.usage ?? unattributed;
      const endpoint = endpointOf(method, url);
      bump(usage.qualtrics, endpoint);
      sent.push({ at: Date.now(), endpoint });
      const memoryMb = ctx?.handler ? HANDLERS[ctx.handler].memoryMb : 256;
      usage.qualtricsWaitGbSeconds += (assumedLatencyMs / 1000) * (memoryMb / 1024);
    }
    return original(input, init);
  };
  globalThis.fetch = wrapped;
  return () => {
    globalThis.fetch = original;
  };
}

export function addUsage(into: RequestUsage, u: RequestUsage): void {
  for (const [k, v] of Object.entries(u.ddbOps)) bump(into.ddbOps, k, v);
  for (const [k, v] of Object.entries(u.s3Ops)) bump(into.s3Ops, k, v);
  for (const [k, v] of Object.entries(u.invocations)) bump(into.invocations, k, v);
  into.ddbWriteUnits += u.ddbWriteUnits;
  into.ddbReadUnits += u.ddbReadUnits;
  into.gbSeconds += u.gbSeconds;
  into.handlerMs += u.handlerMs;
  for (const [k, v] of Object.entries(u.qualtrics)) bump(into.qualtrics, k, v);
  into.qualtricsWaitGbSeconds += u.qualtricsWaitGbSeconds;
}

export const sum = (m: Record<string, number>, keep: (k: string) => boolean = () => true) =>
  Object.entries(m).reduce((n, [k, v]) => (keep(k) ? n + v : n), 0);
