import { describe, expect, it } from 'vitest';
import { createProgress } from './progress';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  const s = { isTTY, write: (c: string) => chunks.push(c) > 0 } as unknown as NodeJS.WriteStream;
  return { s, text: () => chunks.join(''), count: () => chunks.length };
}

describe('progress', () => {
  it('writes plain timestamped lines when stderr is not a TTY', () => {
    const out = stream(false);
    const p = createProgress(out.s);
    p.line('Qualtrics: the built-in simulator');
    p.workflowEvent({ at: 0, type: 'StateEntered', state: 'Start customer-data job', stateType: 'Task' });
    p.workflowEvent({
      at: 0,
      type: 'StateRetried',
      state: 'List directories',
      error: { Error: 'Qualtrics.Transient' },
    });
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(lines[1]).toMatch(/step: Start customer-data job$/);
    expect(lines[2]).toMatch(/retry: List directories after Qualtrics.Transient$/);
  });

  it('redraws a live view on a TTY, counting polls, limiter waits and directories, and stops drawing once done', () => {
    const prev = process.env.CI;
    delete process.env.CI;
    try {
      const out = stream(true);
      const p = createProgress(out.s);
      p.workflowEvent({
        at: 0,
        type: 'StateEntered',
        state: 'Get customer-data job progress',
        stateType: 'Task',
      });
      p.workflowEvent({
        at: 0,
        type: 'StateEntered',
        state: 'Wait for the rate limiter (search)',
        stateType: 'Wait',
      });
      p.workflowEvent({ at: 0, type: 'MapIterationSucceeded' });
      expect(out.text()).toMatch(/polls: 1 {3}limiter waits: 1 {3}retries: 0 {3}directories searched: 1/);
      expect(out.text()).toContain('\x1b[2A');
      p.done();
      const written = out.count();
      p.workflowEvent({ at: 0, type: 'StateEntered', state: 'Write manifest', stateType: 'Task' });
      expect(out.count()).toBe(written);
    } finally {
      if (prev !== undefined) process.env.CI = prev;
    }
  });
});
