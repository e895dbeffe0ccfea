import { connect, createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now: for a child that must be told its port before it starts
 * (a local nats-server, a peer in a test or a bench). Another process may take it before the child
 * binds, so callers that can retry do.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts on 127.0.0.1:`port` within `withinMs` (tried every 50 ms). */
export async function waitForPort(port: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
