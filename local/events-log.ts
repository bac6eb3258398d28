import { appendFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DsrError, ErrorNames } from '../lambdas/core/errors';
import { EVENT_SOURCE, localEvents } from '../lambdas/core/events';

/**
 * The laptop's stand-in for the event bus (README "Events"): every event the local runtime emits
 * (Completed, Failed, Due Soon, Overdue) is appended to `<data-dir>/events.jsonl` as one line
 * `{"detail-type","source","time","detail"}`, the envelope fields EventBridge would deliver. The
 * file is the owner's only (0600): the details carry ids and masked emails, but they are still a
 * record of who asked for what.
 */

export const EVENTS_FILE = 'events.jsonl';

/** Starts appending the process's local events to the data dir's log; returns the function that stops it. */
export function appendLocalEventsTo(dataDir: string): () => void {
  const path = join(dataDir, EVENTS_FILE);
  if (existsSync(path)) chmodSync(path, 0o600);
  return localEvents.subscribe((event) => {
    const line = JSON.stringify({
      'detail-type': event.detailType,
      source: EVENT_SOURCE,
      time: new Date().toISOString(),
      detail: event.detail,
    });
    try {
      appendFileSync(path, `${line}\n`, { mode: 0o600 });
    } catch (err) {
      // The publish fails, as a rejected PutEvents would: the step (or the sweep) tries again.
      const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
      throw new DsrError(ErrorNames.Storage, `could not append the event to ${EVENTS_FILE} (${code})`, true);
    }
  });
}
