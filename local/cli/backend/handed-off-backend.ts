import { OWNER_STOPPING, type OwnerInfo } from '../../owner/owner-file';
import { type Backend, OwnerGoneError } from './backend';
import { DsrClient, type Transport } from './client';
import { pollingFollower } from './polling';
import { ApiUnreachableError, httpTransport } from './transports';

/**
 * The backend of a command whose data dir another process owns: the command is handed to that
 * process's local API over HTTP, and the request runs there. Following it is polling its status
 * document; Ctrl-C stops the following, never the request (it goes on in the owner).
 */

/** Polls of a request in the owner: the first after 200 ms, growing to 5 s. */
const FOLLOW_INTERVALS = { firstMs: 200, maxMs: 5_000 };

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

  return {
    kind: 'handed-off',
    client,
    sameTarget: '',
    describe: () =>
      `handed to the qualtrics-dsr process that holds ${dataDir} (pid ${owner.pid}, ${owner.apiUrl}); it runs the request`,
    // The owner checked its Qualtrics connection when it started; a request it cannot run ends FAILED there.
    preflight: async () => undefined,
    ...pollingFollower(client, FOLLOW_INTERVALS),
    close: async () => undefined,
  };
}
