import { startChild, type ManagedChild } from '../../core/process/child.js';
import { findNatsServer } from '../../core/cluster/local-nats.js';
import { waitForPort } from '../../core/process/ports.js';
import { freePort } from './live-clients.js';

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
      if (!(await waitForPort(port, 5000))) throw new Error(`nats-server did not listen on ${port}: ${child.lastStderr()}`);
    },
    async stop() {
      await child?.stop();
      child = undefined;
    },
  };
  await nats.start();
  return nats;
}
