import { startChild, type ManagedChild } from '../../core/process/child.js';
import { findNatsServer } from '../../core/cluster/local-nats.js';
import { delay, freePort } from './live-clients.js';
import { connect as tcpConnect } from 'node:net';

/** A real nats-server on 127.0.0.1, which a test can stop and start again on the same port. */
export interface TestNats {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startNats(): Promise<TestNats> {
  const binary = findNatsServer();
  if (!binary) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const port = await freePort();
  let child: ManagedChild | undefined;
  const nats: TestNats = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      child = startChild({ command: binary, args: ['-a', '127.0.0.1', '-p', String(port)] });
      const until = Date.now() + 5000;
      while (!(await open(port))) {
        if (Date.now() > until) throw new Error(`nats-server did not listen on ${port}: ${child.lastStderr()}`);
        await delay(20);
      }
    },
    async stop() {
      await child?.stop();
      child = undefined;
    },
  };
  await nats.start();
  return nats;
}

function open(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
