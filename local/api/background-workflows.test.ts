import { describe, expect, it } from 'vitest';
import type { RunWorkflowOptions, WorkflowRun } from '../engine/workflows';
import { createBackgroundWorkflows } from './background-workflows';

/** A stand-in engine: each run waits until released (or stopped), counting how many run at once. */
function fakeEngine() {
  const seen = { running: 0, most: 0, started: [] as string[] };
  const releases = new Map<string, () => void>();
  const run = async (o: RunWorkflowOptions): Promise<WorkflowRun> => {
    seen.started.push(o.requestId);
    seen.running++;
    seen.most = Math.max(seen.most, seen.running);
    const stopped = await new Promise<boolean>((resolve) => {
      releases.set(o.requestId, () => resolve(false));
      o.signal?.addEventListener('abort', () => resolve(true), { once: true });
    });
    seen.running--;
    return stopped
      ? { status: 'ABORTED', events: [] }
      : { status: 'SUCCEEDED', output: o.requestId, events: [] };
  };
  const release = async (id: string) => {
    for (let i = 0; i < 50 && !releases.has(id); i++) await new Promise((r) => setTimeout(r, 5));
    releases.get(id)?.();
  };
  return { seen, run, release };
}

describe('background workflows', () => {
  it('runs at most maxRunning executions at once, the others in order when a turn frees', async () => {
    const engine = fakeEngine();
    const w = createBackgroundWorkflows({ waitScale: 1, run: engine.run, maxRunning: 2 });
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    for (const id of ids) await w.start('access', id);
    // Queued ones are this process's too: a retry must not start a second run of them.
    expect(await Promise.all(ids.map((id) => w.isRunning(id)))).toEqual([true, true, true, true, true]);
    await new Promise((r) => setTimeout(r, 20));
    expect(engine.seen.started).toEqual(['r1', 'r2']);
    for (const id of ids) await engine.release(id);
    expect((await w.settled('r5'))?.output).toBe('r5');
    expect(engine.seen.started).toEqual(ids);
    expect(engine.seen.most).toBe(2);
    // Nothing is kept of an ended execution.
    expect(w.running()).toEqual([]);
    expect(await w.settled('r1')).toBeUndefined();
  });

  it('on shutdown stops the running ones and never starts the queued ones', async () => {
    const engine = fakeEngine();
    const w = createBackgroundWorkflows({ waitScale: 1, run: engine.run, maxRunning: 1 });
    await w.start('deletion', 'a');
    await w.start('deletion', 'b');
    await new Promise((r) => setTimeout(r, 20));
    const { interrupted } = await w.shutdown({ graceMs: 0, stepGraceMs: 1_000 });
    expect(interrupted.sort()).toEqual(['a', 'b']);
    expect(engine.seen.started).toEqual(['a']);
    await expect(w.start('access', 'c')).rejects.toThrow(/stopping/);
    expect(w.running()).toEqual([]);
  });

  it('runs hundreds of executions on one stop signal without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const engine = fakeEngine();
      const w = createBackgroundWorkflows({ waitScale: 1, run: engine.run, maxRunning: 300 });
      const ids = Array.from({ length: 300 }, (_, i) => `r${i}`);
      for (const id of ids) await w.start('access', id);
      await new Promise((r) => setTimeout(r, 50));
      expect(engine.seen.most).toBe(300);
      await w.shutdown({ graceMs: 0, stepGraceMs: 1_000 });
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
