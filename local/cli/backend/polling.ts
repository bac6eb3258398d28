import { isTerminalStatus } from '../../../lambdas/core/request-contract';
import type { RequestStatusDocument } from '../../../lambdas/core/request-store';
import type { Progress } from '../progress';
import { stopSignals } from '../signals';
import type { Backend, EndedListener, FollowResult } from './backend';
import type { DsrClient } from './client';

/**
 * Following requests that run in another process or a deployment: polling their status documents
 * (each new timeline entry a progress line). Ctrl-C stops the following, never the requests (they
 * go on where they run).
 */

export interface PollingIntervals {
  /** The first wait between two polls of a request; it grows by a quarter each time, to `maxMs`. */
  firstMs: number;
  maxMs: number;
}

/**
 * Requests of a bulk run polled at once. Each is polled until it ends, then the next: the run
 * waits for all of them anyway, and most have ended by the time their turn comes (one read each).
 */
const FOLLOW_ALL_AT_ONCE = 4;

export type PollingFollower = Pick<Backend, 'follow' | 'followAll' | 'stoppedBy'>;

export function pollingFollower(client: DsrClient, intervals: PollingIntervals): PollingFollower {
  let stoppedBy: NodeJS.Signals | undefined;

  /**
   * Polls one request until it ended, or until `cancel` resolves (a stop signal, or another poll
   * of the same run failed); `onDoc` sees each document read.
   */
  async function pollOne(
    requestId: string,
    cancel: Promise<unknown>,
    onDoc: (doc: RequestStatusDocument) => void = () => undefined,
  ): Promise<{ doc: RequestStatusDocument; ended: boolean }> {
    let interval = intervals.firstMs;
    let cancelled = false;
    void cancel.then(() => {
      cancelled = true;
    });
    for (;;) {
      const doc = await client.getRequest(requestId);
      onDoc(doc);
      const ended = isTerminalStatus(doc.status);
      if (ended || cancelled) return { doc, ended };
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, interval);
      });
      await Promise.race([tick, cancel]);
      clearTimeout(timer);
      if (cancelled) return { doc, ended: false };
      interval = Math.min(intervals.maxMs, Math.round(interval * 1.25));
    }
  }

  /** Runs `use` with the stop signals of this command, remembering the one that came. */
  async function withSignals<T>(use: (stop: Promise<NodeJS.Signals>) => Promise<T>): Promise<T> {
    const signals = stopSignals();
    void signals.first.then((signal) => {
      stoppedBy ??= signal;
    });
    try {
      return await use(signals.first);
    } finally {
      signals.dispose();
    }
  }

  return {
    follow: (requestId: string, progress: Progress): Promise<FollowResult> =>
      withSignals(async (stop) => {
        let shown = 0;
        const { doc, ended } = await pollOne(requestId, stop, (d) => {
          for (const t of d.timeline.slice(shown))
            progress.line(`${t.step}${t.detail ? `: ${t.detail}` : ''}`);
          shown = Math.max(shown, d.timeline.length);
        });
        return { doc, interrupted: !ended };
      }),

    followAll: (requestIds: readonly string[], onEnded: EndedListener) =>
      withSignals(async (stop) => {
        const queue = [...requestIds];
        // One failed poll (the owner went away) ends the others: the caller decides what comes next.
        let failNow: () => void = () => undefined;
        const failed = new Promise<void>((resolve) => {
          failNow = resolve;
        });
        const cancel = Promise.race([stop, failed]);
        let over = false;
        void cancel.then(() => {
          over = true;
        });
        const worker = async () => {
          try {
            for (let id = queue.shift(); id !== undefined && !over; id = queue.shift()) {
              const { doc, ended } = await pollOne(id, cancel);
              if (ended) onEnded(id, doc.status);
            }
          } catch (err) {
            failNow();
            throw err;
          }
        };
        await Promise.all(Array.from({ length: Math.min(FOLLOW_ALL_AT_ONCE, queue.length) }, worker));
        return { interrupted: stoppedBy !== undefined };
      }),

    stoppedBy: () => stoppedBy,
  };
}
