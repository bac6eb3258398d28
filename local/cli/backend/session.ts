import { isTerminalStatus } from '../../../lambdas/core/request-contract';
import { CliError, ExitCode } from '../exit-codes';
import type { Progress } from '../progress';
import { signalExitCode } from '../signals';
import { type Backend, type EndedListener, type FollowResult, OwnerGoneError } from './backend';
import { ApiCallError } from './client';
import { type BackendOptions, OWNER_WAIT_MS, openBackend } from './open';

/**
 * One command's use of a data dir: the backend it opened, and what happens when the owner it
 * handed the command to goes away meanwhile (it finished its own work, or was stopped): the
 * command opens the data dir again, which this process may now own, and goes on from there.
 */
export interface Session {
  readonly backend: Backend;
  /** Runs `call`; when the owner went away, opens the data dir again and runs it once more. */
  retrying<T>(call: (backend: Backend) => Promise<T>): Promise<T>;
  /**
   * Follows a request to its end. When the owner that ran it went away and this process owns the
   * data dir now, a request it left unfinished is resumed here (as `retry` would).
   */
  followToEnd(requestId: string, progress: Progress): Promise<FollowResult>;
  /** The same for many requests (a bulk run's); `onEnded` hears each once. */
  followAllToEnd(requestIds: readonly string[], onEnded: EndedListener): Promise<{ interrupted: boolean }>;
}

/** How often a command opens the data dir again after its owner went away. */
const REOPENS = 2;

export async function withBackend(
  o: BackendOptions,
  action: (session: Session) => Promise<number>,
): Promise<number> {
  let backend = await openBackend(o);
  let reopens = 0;
  const reopen = async (err: unknown) => {
    if (!(err instanceof OwnerGoneError) || reopens >= REOPENS) throw err;
    reopens++;
    await backend.close().catch(() => undefined);
    // An owner that is stopping lets go of the data dir within its grace periods.
    const { SHUTDOWN_GRACE_MS, STEP_GRACE_MS } = await import('./owner-backend.js');
    backend = await openBackend({ ...o, waitMs: SHUTDOWN_GRACE_MS + STEP_GRACE_MS + OWNER_WAIT_MS });
  };
  /** After a reopen: a request the owner that went away left unfinished runs in this process now. */
  const resumeHere = async (requestId: string) => {
    if (backend.kind !== 'owner') return;
    const doc = await backend.client.getRequest(requestId);
    if (!isTerminalStatus(doc.status)) await backend.client.retry(requestId);
  };
  const session: Session = {
    get backend() {
      return backend;
    },
    async retrying(call) {
      for (;;) {
        try {
          return await call(backend);
        } catch (err) {
          await reopen(err);
        }
      }
    },
    async followToEnd(requestId, progress) {
      for (;;) {
        try {
          return await backend.follow(requestId, progress);
        } catch (err) {
          await reopen(err);
          progress.line(backend.describe());
          await resumeHere(requestId);
        }
      }
    },
    async followAllToEnd(requestIds, onEnded) {
      const pending = new Set(requestIds);
      const ended: EndedListener = (requestId, status) => {
        if (pending.delete(requestId)) onEnded(requestId, status);
      };
      for (;;) {
        try {
          return await backend.followAll([...pending], ended);
        } catch (err) {
          await reopen(err);
          for (const requestId of pending) await resumeHere(requestId);
        }
      }
    },
  };
  let code: number;
  try {
    code = await action(session);
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw asCliError(err);
  }
  await backend.close();
  const signal = backend.stoppedBy();
  if (!signal) return code;
  // Interrupted: the workflows were stopped, but an engine timer of theirs may still hold the
  // event loop open for as long as a Wait state lasts. Everything is written: end here.
  if (backend.kind === 'owner') process.exit(signalExitCode(signal));
  return signalExitCode(signal);
}

/**
 * An answer of the API as the CLI's exit code (README "The CLI"): a refusal (4xx) is bad input
 * (exit 2), a bundle gone is exit 1, a server-side failure exit 3; the API's own message (PII-free).
 */
export function asCliError(err: unknown): unknown {
  if (err instanceof ApiCallError) {
    if (err.code === 'REQUEST_NOT_FOUND') return new CliError(ExitCode.BadInput, 'unknown request id');
    if (err.status === 410) return new CliError(ExitCode.RequestFailed, `${err.code}: ${err.message}`);
    // Throttled: the API took nothing; not the command's input.
    if (err.status === 429) return new CliError(ExitCode.ConfigOrConnection, `${err.code}: ${err.message}`);
    if (err.status < 500) return new CliError(ExitCode.BadInput, `${err.code}: ${err.message}`);
    return new CliError(ExitCode.ConfigOrConnection, `${err.code}: ${err.message}`);
  }
  if (err instanceof OwnerGoneError) {
    return new CliError(ExitCode.ConfigOrConnection, `${err.message}: run the command again`);
  }
  return err;
}
