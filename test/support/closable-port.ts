import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a loopback port that can stop listening and start again on the same port:
 * while closed, a connection attempt is refused by the kernel (ECONNREFUSED), so the client never
 * writes a byte — unlike test/faults/tcp-proxy.ts, which accepts and then resets.
 */
export interface ClosablePort {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops listening and drops every open connection: new connections are refused. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  open(): Promise<void>;
  /** Connections forwarded so far. */
  readonly accepted: number;
  dispose(): Promise<void>;
}

export async function startClosablePort(target: string): Promise<ClosablePort> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    const s = createServer((client) => {
      accepted++;
      const upstream = connect(Number(targetPort), hostname);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          sockets.delete(a);
          b.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const socket of [...sockets]) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    close: stop,
    async open() {
      if (!server) await listen();
    },
    dispose: stop,
  };
}
