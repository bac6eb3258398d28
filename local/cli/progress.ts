import type { WorkflowEvent } from '../engine/workflows';

/**
 * Progress on stderr: a live view on a TTY, plain timestamped lines otherwise. It only ever shows
 * state names, counts and ids (never the email or contact data).
 */
export interface Progress {
  line(text: string): void;
  workflowEvent(e: WorkflowEvent): void;
  done(): void;
}

interface Tally {
  step: string;
  polls: number;
  limiterWaits: number;
  retries: number;
  directoriesSearched: number;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, label = ''): Progress {
  const live = Boolean(stream.isTTY) && process.env.TERM !== 'dumb' && !process.env.CI;
  const tally: Tally = { step: 'starting', polls: 0, limiterWaits: 0, retries: 0, directoriesSearched: 0 };
  let drawn = 0;
  let closed = false;
  const started = Date.now();

  const plain = (text: string) => stream.write(`${new Date().toISOString()} ${label}${text}\n`);
  const render = () => {
    if (!live || closed) return;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      `  step: ${tally.step}`,
      `  polls: ${tally.polls}   limiter waits: ${tally.limiterWaits}   retries: ${tally.retries}   directories searched: ${tally.directoriesSearched}   ${secs}s`,
    ];
    if (drawn > 0) stream.write(`\x1b[${drawn}A`);
    for (const l of lines) stream.write(`\x1b[2K${l}\n`);
    drawn = lines.length;
  };

  return {
    line(text) {
      if (live && !closed) {
        if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
        drawn = 0;
        stream.write(`${text}\n`);
        render();
      } else plain(text);
    },
    workflowEvent(e) {
      if (e.type === 'StateEntered' && e.state) {
        if (e.stateType === 'Task') tally.step = e.state;
        if (e.stateType === 'Wait' && e.state.includes('rate limiter')) tally.limiterWaits++;
        if (e.state.startsWith('Get ') && e.stateType === 'Task' && /progress|status/.test(e.state))
          tally.polls++;
        if (
          !live &&
          (e.stateType === 'Task' || (e.stateType === 'Wait' && e.state.includes('rate limiter')))
        ) {
          plain(`step: ${e.state}`);
        }
      } else if (e.type === 'StateRetried') {
        tally.retries++;
        if (!live) plain(`retry: ${e.state} after ${e.error?.Error ?? 'an error'}`);
      } else if (e.type === 'MapIterationSucceeded') {
        tally.directoriesSearched++;
      }
      render();
    },
    /** Leaves the last view on screen and stops drawing, so output that follows is never overwritten. */
    done() {
      closed = true;
      drawn = 0;
    },
  };
}
