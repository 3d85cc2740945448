/**
 * A TCP forwarder to a real server (PostgreSQL, Redis) that a test can cut and restore: a
 * network outage between the code under test and a shared service, without stopping the
 * service every other test file is using. Cut, it stops listening (new connections are
 * refused, as by a stopped server) and drops every open connection (as a restart does).
 */
import net from 'node:net';

export interface CuttableProxy {
  /** The loopback port to connect to instead of the target's. */
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const open = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  let server = createServer();
  function createServer(): net.Server {
    return net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of open) s.destroy();
    });
  const port = await listen(0);
  return {
    port,
    cut: stop,
    async restore() {
      server = createServer();
      await listen(port);
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}
