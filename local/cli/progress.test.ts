import { describe, expect, it } from 'vitest';
import { describeJob, duration } from './job-watch';
import { createProgress, type ProgressClock, REDRAW_MS } from './progress';

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

/** A clock the test moves: `advance` runs the timer's ticks that fall due. */
function fakeClock(start: number) {
  let now = start;
  const timers = new Set<{ ms: number; next: number; tick: () => void }>();
  const clock: ProgressClock = {
    now: () => now,
    every(ms, tick) {
      const t = { ms, next: now + ms, tick };
      timers.add(t);
      return { stop: () => timers.delete(t) };
    },
  };
  return {
    clock,
    timers,
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.ms;
        due.tick();
      }
      now = end;
    },
  };
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const JOB = 'CDR_abcdefghijklmno';
const REQUEST = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const job = (over: Record<string, unknown>) => ({
  requestId: REQUEST,
  job: {
    started: true,
    customerDataRequestId: JOB,
    createdAt: new Date(T0).toISOString(),
    polls: 0,
    status: 'inProgress',
    fileIds: [],
    ...over,
  },
});

describe('the live view during a Qualtrics job', () => {
  it('shows the job, its progress, the time waited and the next poll, and the clock moves without events', () => {
    const prev = process.env.CI;
    delete process.env.CI;
    try {
      const out = stream(true);
      const time = fakeClock(T0 + 30_000);
      const p = createProgress(out.s, '', time.clock);
      // Polled once: 35 % done, next poll 60 s after creation.
      p.workflowEvent({
        at: 0,
        type: 'StateEntered',
        state: 'Wait before polling the customer-data job',
        stateType: 'Wait',
        input: job({ polls: 1, percentComplete: 35, waitUntil: new Date(T0 + 90_000).toISOString() }),
      });
      const first = out.text();
      expect(first).toContain(
        `waiting on Qualtrics: customer-data job ${JOB}: 35% · waited 30s · next poll in 1m 00s (10:01:30 UTC)`,
      );
      expect(time.timers.size).toBe(1);

      // No event for 5 s: the timer redraws with the time moved on.
      time.advance(5 * REDRAW_MS);
      const later = out.text().slice(first.length);
      expect(later).toContain('waited 35s · next poll in 55s');
      expect(later).toContain('\x1b[3A');

      // Hours later, still waiting.
      time.advance(2 * 3_600_000);
      expect(out.text()).toContain('waited 2h 00m · polling now');

      // Qualtrics says it is done: the job line goes, the timer stops.
      p.workflowEvent({
        at: 0,
        type: 'StateExited',
        state: 'Get customer-data job progress',
        stateType: 'Task',
        output: job({ polls: 2, status: 'complete', percentComplete: 100, fileIds: ['F_1'] }),
      });
      expect(time.timers.size).toBe(0);
      const written = out.count();
      time.advance(10 * REDRAW_MS);
      expect(out.count()).toBe(written);
      p.done();
    } finally {
      if (prev !== undefined) process.env.CI = prev;
    }
  });

  it('done() stops the timer while a job is still waited on', () => {
    const prev = process.env.CI;
    delete process.env.CI;
    try {
      const out = stream(true);
      const time = fakeClock(T0);
      const p = createProgress(out.s, '', time.clock);
      p.workflowEvent({
        at: 0,
        type: 'StateEntered',
        state: 'Wait before checking the erasure',
        stateType: 'Wait',
        input: {
          requestId: REQUEST,
          erasure: {
            started: true,
            erasureRequestId: 'OP-1',
            dryRun: true,
            status: 'inProgress',
            qualtricsStatus: 'Pending',
            createdAt: new Date(T0).toISOString(),
            polls: 1,
            waitUntil: new Date(T0 + 8000).toISOString(),
          },
        },
      });
      expect(out.text()).toContain('erasure (dry run) OP-1: Pending · waited 0s · next poll in 8s');
      p.done();
      expect(time.timers.size).toBe(0);
      const written = out.count();
      time.advance(5 * REDRAW_MS);
      expect(out.count()).toBe(written);
    } finally {
      if (prev !== undefined) process.env.CI = prev;
    }
  });

  it('writes one plain line per poll scheduled and when the job ends, without a timer', () => {
    const out = stream(false);
    const time = fakeClock(T0 + 12_000);
    const p = createProgress(out.s, '', time.clock);
    const wait = job({ polls: 1, percentComplete: 10, waitUntil: new Date(T0 + 20_000).toISOString() });
    p.workflowEvent({
      at: 0,
      type: 'StateExited',
      state: 'Get customer-data job progress',
      stateType: 'Task',
      output: wait,
    });
    p.workflowEvent({
      at: 0,
      type: 'StateEntered',
      state: 'Wait before polling the customer-data job',
      stateType: 'Wait',
      input: wait,
    });
    time.advance(8000);
    p.workflowEvent({
      at: 0,
      type: 'StateExited',
      state: 'Get customer-data job progress',
      stateType: 'Task',
      output: job({ polls: 2, status: 'complete', percentComplete: 100 }),
    });
    expect(time.timers.size).toBe(0);
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /waiting on Qualtrics: customer-data job CDR_\w+: 10% · waited 12s · next poll in 8s \(10:00:20 UTC\)$/,
    );
    expect(lines[1]).toMatch(/customer-data job CDR_\w+: done after 20s$/);
  });

  it('durations read as a person says them', () => {
    expect([0, 999, 59_999, 60_000, 3_599_000, 3_600_000, 86_400_000 + 3_600_000 * 5].map(duration)).toEqual([
      '0s',
      '0s',
      '59s',
      '1m 00s',
      '59m 59s',
      '1h 00m',
      '1d 5h',
    ]);
    expect(describeJob({ kind: 'erasure', id: 'OP-2', createdAt: 0 }, 61_000)).toBe(
      'erasure OP-2: in progress · waited 1m 01s',
    );
  });
});
