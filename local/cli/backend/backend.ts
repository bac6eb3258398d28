import type { RequestStatus } from '../../../lambdas/core/request-contract';
import type { RequestStatusDocument } from '../../../lambdas/core/request-store';
import type { Progress } from '../progress';
import type { DsrClient } from './client';

/**
 * The CLI's one interface to where requests run (README "Several processes, one data dir", "The
 * CLI against a deployment"): every command is written once against it. Three backends implement
 * it: the process owns the data dir and runs the work itself (`owner-backend.ts`), another process
 * owns it and the command is handed to that process's local API (`handed-off-backend.ts`), or
 * `--api URL` sends it to a deployment's API or a `serve` (`api-backend.ts`, no data dir opened).
 */
export interface Backend {
  readonly kind: 'owner' | 'handed-off' | 'api';
  /** The HTTP API, in-process or over HTTP. */
  readonly client: DsrClient;
  /** The first progress line of a command that runs a request: who runs it, against which Qualtrics. */
  describe(): string;
  /**
   * Checks the Qualtrics connection before anything is recorded, so wrong credentials end with
   * exit 3 naming the setting; where another process owns the data dir, that process's own.
   */
  preflight(): Promise<void>;
  /** Follows a request until it ends, or until this command is stopped (Ctrl-C). */
  follow(requestId: string, progress: Progress): Promise<FollowResult>;
  /**
   * Follows many requests (a bulk run's) until each has ended, or until this command is stopped:
   * `onEnded` hears each as it ends, once; `interrupted` when following stopped before all ended.
   */
  followAll(requestIds: readonly string[], onEnded: EndedListener): Promise<{ interrupted: boolean }>;
  /** What to add to a command line the user is told to run next (` --api URL`), else ''. */
  readonly sameTarget: string;
  /** The stop signal this command received, if any (exit 130 / 143). */
  stoppedBy(): NodeJS.Signals | undefined;
  /**
   * The command's work is done. The owner keeps running the requests other commands handed to it,
   * then releases the data dir. Resolves when the process may end.
   */
  close(): Promise<void>;
}

export interface FollowResult {
  /** The request as it ended, or as it was when following stopped. */
  doc: RequestStatusDocument;
  /** The workflow's own summary, when this process ran it to COMPLETED. */
  output?: unknown;
  /** Following stopped before the request ended (Ctrl-C). */
  interrupted: boolean;
}

export type EndedListener = (requestId: string, status: RequestStatus) => void;

/** The owner of the data dir went away while a handed-off command talked to it. */
export class OwnerGoneError extends Error {
  constructor(readonly reason: string) {
    super(`the process that held the data dir stopped answering (${reason})`);
    this.name = 'OwnerGoneError';
  }
}

export const isEnded = (status: string): boolean => status === 'COMPLETED' || status === 'FAILED';
