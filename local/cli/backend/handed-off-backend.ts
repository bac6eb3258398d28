import { isTerminalStatus, type RequestStatusDocument } from '../../../lambdas/core/request-store';
import { OWNER_STOPPING } from '../../owner/owner';
import type { OwnerInfo } from '../../owner/owner-file';
import type { Progress } from '../progress';
import { stopSignals } from '../signals';
import { type Backend, type FollowResult, OwnerGoneError } from './backend';
import { DsrClient, type Transport } from './client';
import { ApiUnreachableError, httpTransport } from './transports';

/**
 * The backend of a command whose data dir another process owns: the command is handed to that
 * process's local API over HTTP, and the request runs there. Following it is polling its status
 * document; Ctrl-C stops the following, never the request (it goes on in the owner).
 */

/** First poll interval of `follow`; it grows to FOLLOW_MAX_INTERVAL_MS. */
const FOLLOW_FIRST_INTERVAL_MS = 200;
const FOLLOW_MAX_INTERVAL_MS = 5_000;

export function handedOffBackend(dataDir: string, owner: OwnerInfo): Backend {
  const transport = httpTransport(owner.apiUrl);
  // The owner going away mid-command is its own error: the command may then open the data dir itself.
  const guarded: Transport = async (req) => {
    let res: Awaited<ReturnType<Transport>>;
    try {
      res = await transport(req);
    } catch (err) {
      if (err instanceof ApiUnreachableError) throw new OwnerGoneError(err.reason);
      throw err;
    }
    if (res.statusCode === 503 && res.body.includes(`"${OWNER_STOPPING}"`))
      throw new OwnerGoneError('it is stopping');
    return res;
  };
  const client = new DsrClient(guarded);
  let stoppedBy: NodeJS.Signals | undefined;

  return {
    kind: 'handed-off',
    client,
    describe: () =>
      `handed to the qualtrics-dsr process that holds ${dataDir} (pid ${owner.pid}, ${owner.apiUrl}); it runs the request`,
    // The owner checked its Qualtrics connection when it started; a request it cannot run ends FAILED there.
    preflight: async () => undefined,

    async follow(requestId: string, progress: Progress): Promise<FollowResult> {
      const signals = stopSignals();
      try {
        let shown = 0;
        let interval = FOLLOW_FIRST_INTERVAL_MS;
        for (;;) {
          const doc: RequestStatusDocument = await client.getRequest(requestId);
          for (const t of doc.timeline.slice(shown))
            progress.line(`${t.step}${t.detail ? `: ${t.detail}` : ''}`);
          shown = Math.max(shown, doc.timeline.length);
          if (isTerminalStatus(doc.status)) return { doc, interrupted: false };
          let timer: NodeJS.Timeout | undefined;
          const tick = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, interval);
          });
          const woke = await Promise.race([tick, signals.first]);
          clearTimeout(timer);
          if (woke) {
            stoppedBy = woke;
            return { doc, interrupted: true };
          }
          interval = Math.min(FOLLOW_MAX_INTERVAL_MS, Math.round(interval * 1.25));
        }
      } finally {
        signals.dispose();
      }
    },

    stoppedBy: () => stoppedBy,
    close: async () => undefined,
  };
}
