import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/**
 * A switchable TCP proxy on loopback, in front of dynalite or s3rver: while `down`, every open
 * connection is reset and new ones are reset on accept, so the SDK sees what a network partition or
 * an unreachable endpoint looks like (ECONNRESET / socket hang up), not an HTTP error.
 */

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: point the SDK endpoint here. */
  readonly url: string;
  /** Resets every connection and refuses new ones until `up()`. Returns the instant it took effect. */
  down(): number;
  /** Accepts connections again. Returns the instant it took effect. */
  up(): number;
  readonly isDown: boolean;
  /** Outages so far, [start, end) in epoch ms (end undefined while down). */
  readonly outages: ReadonlyArray<{ start: number; end?: number }>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const outages: Array<{ start: number; end?: number }> = [];
  let isDown = false;

  const kill = (s: Socket) => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  const server = createServer((client) => {
    if (isDown) {
      client.on('error', () => undefined);
      kill(client);
      return;
    }
    const upstream = connect(Number(port), hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on('error', () => kill(b));
      a.on('close', () => {
        open.delete(a);
        if (!b.destroyed) b.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    get isDown() {
      return isDown;
    },
    outages,
    down() {
      const at = Date.now();
      if (!isDown) {
        isDown = true;
        outages.push({ start: at });
      }
      for (const s of [...open]) kill(s);
      return at;
    },
    up() {
      const at = Date.now();
      if (isDown) {
        isDown = false;
        const last = outages.at(-1);
        if (last) last.end = at;
      }
      return at;
    },
    async close() {
      for (const s of [...open]) kill(s);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
