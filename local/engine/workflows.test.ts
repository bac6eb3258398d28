import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDLERS, type HandlerName } from '../../lambdas/catalog';
import { ErrorNames } from '../../lambdas/core/errors';
import { taskStates } from '../../statemachines/definitions';
import { scopedEnv } from '../../test/support/scoped-env';
import { loadLocalDefinition, MAX_LOCAL_TIMEOUT_SECONDS } from './definitions';
import { DEFAULT_LOCAL_CONCURRENCY, runWorkflow, type StepHandlers, timedByWait } from './workflows';

/** Every handler counts how many run at once and takes a moment; the first step fails, so the failure step ends the run. */
function countingHandlers() {
  const seen = { running: 0, most: 0, calls: 0 };
  const step = (name: HandlerName) => async () => {
    seen.calls++;
    seen.running++;
    seen.most = Math.max(seen.most, seen.running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen.running--;
    if (name === 'recordStarted') throw Object.assign(new Error('stop here'), { name: 'Stop' });
    return {};
  };
  const handlers = Object.fromEntries(
    (Object.keys(HANDLERS) as HandlerName[]).map((name) => [name, step(name)]),
  ) as StepHandlers;
  return { seen, handlers };
}

describe('runWorkflow: step concurrency (QDSR_LOCAL_CONCURRENCY)', () => {
  const env = scopedEnv();
  afterEach(() => env.restore());

  it('runs at most that many step handlers at once, over every execution of the process', async () => {
    const runAll = async (concurrency: string) => {
      env.set({ QDSR_LOCAL_CONCURRENCY: concurrency });
      const { seen, handlers } = countingHandlers();
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) => runWorkflow({ type: 'access', requestId: `r-${i}`, handlers })),
      );
      expect(runs.map((r) => r.status)).toEqual(Array(6).fill('FAILED'));
      // Each execution ran its first step and its failure step.
      expect(seen.calls).toBe(12);
      return seen.most;
    };
    expect(await runAll('2')).toBe(2);
    expect(await runAll('12')).toBeGreaterThan(2);
    expect(DEFAULT_LOCAL_CONCURRENCY).toBeGreaterThan(1);
  });

  it("runs each step in its own execution's async context, not in that of the step that freed its slot", async () => {
    env.set({ QDSR_LOCAL_CONCURRENCY: '1' });
    const als = new AsyncLocalStorage<string>();
    const seen: Array<[string | undefined, string]> = [];
    const { handlers } = countingHandlers();
    const step = (name: keyof typeof handlers) => async (event: unknown, context: unknown) => {
      seen.push([als.getStore(), (event as { requestId: string }).requestId]);
      return handlers[name]?.(event, context);
    };
    const traced = Object.fromEntries(
      Object.keys(handlers).map((name) => [name, step(name as keyof typeof handlers)]),
    ) as StepHandlers;
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        als.run(id, () => runWorkflow({ type: 'access', requestId: id, handlers: traced })),
      ),
    );
    expect(seen).toHaveLength(6);
    for (const [context, requestId] of seen) expect(context).toBe(requestId);
  });

  it('refuses a value that is not a whole number of at least 1', async () => {
    const { handlers } = countingHandlers();
    for (const bad of ['0', '-3', '2.5', 'many']) {
      env.set({ QDSR_LOCAL_CONCURRENCY: bad });
      await expect(runWorkflow({ type: 'access', requestId: 'r', handlers })).rejects.toMatchObject({
        name: ErrorNames.Config,
        setting: 'QDSR_LOCAL_CONCURRENCY',
      });
    }
  });
});

describe('timedByWait', () => {
  it('finds the instant a Wait timed, or rate-limiter reservations, anywhere in a step input', () => {
    const reservations = [{ key: 'gcra#t#createErasureRequest', slotAt: 1 }];
    expect(timedByWait({ requestId: 'r', erasure: { started: false, reservations } })).toBe(true);
    expect(timedByWait({ requestId: 'r', job: { listing: { page: { reservations } } } })).toBe(true);
    expect(timedByWait({ requestId: 'r', erasure: { started: false, reservations: [] } })).toBe(false);
    expect(timedByWait({ requestId: 'r', erasure: { started: false } })).toBe(false);
    expect(timedByWait({ requestId: 'r', job: { polls: 1, waitUntil: '2030-01-01T00:00:05.000Z' } })).toBe(
      true,
    );
    expect(timedByWait([{ reservations }])).toBe(false);
    expect(timedByWait(null)).toBe(false);
  });
});

describe('runWorkflow: per-function concurrency (the deployed qualtricsConcurrency)', () => {
  /** recordStarted passes; every step that calls Qualtrics takes a moment and then stops the run. */
  function qualtricsStepHandlers() {
    const running = new Map<HandlerName, number>();
    const most = new Map<HandlerName, number>();
    const handlers = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [
        name,
        async (event: unknown) => {
          if (name === 'recordStarted') return { requestId: (event as { requestId: string }).requestId };
          if (!HANDLERS[name].callsQualtrics) return {};
          running.set(name, (running.get(name) ?? 0) + 1);
          most.set(name, Math.max(most.get(name) ?? 0, running.get(name) ?? 0));
          await new Promise((resolve) => setTimeout(resolve, 20));
          running.set(name, (running.get(name) ?? 1) - 1);
          throw Object.assign(new Error('stop here'), { name: 'Stop' });
        },
      ]),
    ) as StepHandlers;
    return { handlers, most };
  }

  it('throttles a function beyond its reservation as Lambda does, and the ASL retries it', async () => {
    const run = async (qualtricsConcurrency?: number) => {
      const { handlers, most } = qualtricsStepHandlers();
      const runs = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          runWorkflow({
            type: 'access',
            requestId: `c-${i}`,
            handlers,
            waitScale: 0.001,
            qualtricsConcurrency,
          }),
        ),
      );
      const throttles = runs
        .flatMap((r) => r.events)
        .filter((e) => e.error?.Error === 'Lambda.TooManyRequestsException').length;
      // Every run reached the step that stops it (a throttle never ended one).
      for (const r of runs) expect(r.events.some((e) => e.error?.Error === 'Stop')).toBe(true);
      return { most: most.get('startCustomerDataJob') ?? 0, throttles };
    };
    const reserved = await run(1);
    expect(reserved.most).toBe(1);
    expect(reserved.throttles).toBeGreaterThan(0);
    // The deployed default reserves nothing: five executions start five jobs at once.
    const unreserved = await run();
    expect(unreserved.most).toBeGreaterThan(1);
    expect(unreserved.throttles).toBe(0);
  });
});

describe('runWorkflow: timeouts mean what they mean in AWS', () => {
  const env = scopedEnv();
  afterEach(() => env.restore());

  /** recordStarted takes `ms` and then stops the run; recordFailed keeps the error it was given. */
  function slowStart(ms: number) {
    const failures: Array<{ Error?: string }> = [];
    const handlers = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [
        name,
        async (event: unknown) => {
          if (name === 'recordFailed') {
            failures.push((event as { error: { Error?: string } }).error);
            return {};
          }
          await new Promise((resolve) => setTimeout(resolve, ms));
          throw Object.assign(new Error('stop here'), { name: 'Stop' });
        },
      ]),
    ) as StepHandlers;
    return { handlers, failures };
  }

  it('gives no Task a timeout the ASL does not set (not the engine’s 60-s default)', () => {
    for (const type of ['access', 'deletion'] as const) {
      const { definition, stateTimeouts } = loadLocalDefinition(type);
      const tasks = taskStates(definition);
      expect(tasks.length).toBeGreaterThan(3);
      for (const t of tasks) expect(t.state.TimeoutSeconds, t.stateName).toBe(MAX_LOCAL_TIMEOUT_SECONDS);
      // Our ASL sets none: the Lambda's own timeout is the only bound of a step.
      expect([...stateTimeouts.keys()]).toEqual([]);
    }
  });

  it('counts the Lambda timeout from when the step runs: waiting for a step slot is no timeout', async () => {
    env.set({ QDSR_LOCAL_CONCURRENCY: '1' });
    const { handlers, failures } = slowStart(120);
    // Three runs, one slot: the last first step waits ~240 ms for it, past a 200-ms Lambda timeout.
    const runs = await Promise.all(
      ['q1', 'q2', 'q3'].map((requestId) =>
        runWorkflow({ type: 'access', requestId, handlers, lambdaTimeoutMs: () => 200 }),
      ),
    );
    expect(runs.map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(failures.map((f) => f.Error)).toEqual(['Stop', 'Stop', 'Stop']);
  });

  it('fails a step that runs past its Lambda timeout with Sandbox.Timedout, which the ASL catches', async () => {
    const { handlers, failures } = slowStart(400);
    const run = await runWorkflow({
      type: 'deletion',
      requestId: 't1',
      handlers,
      lambdaTimeoutMs: () => 100,
    });
    expect(run.status).toBe('FAILED');
    expect(failures.map((f) => f.Error)).toEqual(['Sandbox.Timedout']);
  });
});

describe('runWorkflow: stopping and memory', () => {
  it('stops at the next state: the running step finishes, no later step starts, the run is ABORTED', async () => {
    const ran: string[] = [];
    const stop = new AbortController();
    const handlers = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [
        name,
        async (event: unknown) => {
          ran.push(`${name}:start`);
          if (name === 'recordStarted') stop.abort();
          await new Promise((resolve) => setTimeout(resolve, 50));
          ran.push(`${name}:end`);
          return { requestId: (event as { requestId: string }).requestId };
        },
      ]),
    ) as StepHandlers;
    const run = await runWorkflow({ type: 'access', requestId: 'a1', handlers, signal: stop.signal });
    expect(run.status).toBe('ABORTED');
    // The step that was running when the stop came ended before the run resolved; nothing followed.
    expect(ran).toEqual(['recordStarted:start', 'recordStarted:end']);
  });

  it('keeps only the last `history` events, and still reports the failure', async () => {
    const { handlers } = countingHandlers();
    const full = await runWorkflow({ type: 'access', requestId: 'h1', handlers });
    const kept = await runWorkflow({ type: 'access', requestId: 'h2', handlers, history: 3 });
    expect(full.events.length).toBeGreaterThan(3);
    expect(kept.events).toHaveLength(3);
    expect(kept.events.map((e) => e.type)).toEqual(full.events.slice(-3).map((e) => e.type));
    expect(kept.error).toEqual(full.error);
    const none = await runWorkflow({ type: 'access', requestId: 'h3', handlers, history: 0 });
    expect(none.events).toEqual([]);
    expect(none).toMatchObject({ status: 'FAILED', error: full.error });
  });
});
