import { freePort, waitForPort } from '../process/ports.js';
import { WsflvError } from '../errors.js';
import type { Logger } from '../logger.js';
import { startChild, type ManagedChild } from '../process/child.js';
import { findProgram } from '../process/program.js';

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ':/usr/sbin:/usr/local/sbin';
const READY_WITHIN_MS = 5000;
const RESTART_MS = 500;

export function findNatsServer(): string | undefined {
  return findProgram('nats-server', `${process.env.PATH ?? ''}${EXTRA_DIRS}`);
}

export const NATS_MISSING = 'server.workers needs NATS to tie the workers together: install Debian\'s nats-server package (apt-get install nats-server), or point `server.cluster.nats` at a running NATS';

export interface LocalNats {
  url: string;
  stop(): Promise<void>;
}

/**
 * A nats-server child for the workers of one box: bound to 127.0.0.1 on a free port, restarted if it
 * dies, stopped with the supervisor. Throws WSFLV_ERR_NO_NATS when the binary is not installed.
 */
export async function startLocalNats(logger: Logger): Promise<LocalNats> {
  const binary = findNatsServer();
  if (!binary) throw new WsflvError('WSFLV_ERR_NO_NATS', NATS_MISSING);
  const port = await freePort();
  let child: ManagedChild | undefined;
  let stopped = false;
  let restart: NodeJS.Timeout | undefined;
  const launch = () => {
    const current = startChild({ command: binary, args: ['-a', '127.0.0.1', '-p', String(port)], logger, stderrLines: 10 });
    child = current;
    void current.exited.then((exit) => {
      if (stopped || child !== current) return;
      logger.error({ code: exit.code, signal: exit.signal, stderr: current.lastStderr() }, 'the local nats-server exited: restarting it');
      restart = setTimeout(launch, RESTART_MS);
    });
  };
  launch();
  if (!(await waitForPort(port, READY_WITHIN_MS))) {
    stopped = true;
    const tail = child?.lastStderr();
    await child?.stop();
    throw new WsflvError('WSFLV_ERR_NO_NATS', `the local nats-server did not listen on 127.0.0.1:${port} within ${READY_WITHIN_MS} ms${tail ? `: ${tail}` : ''}`);
  }
  logger.info({ port, pid: child?.pid }, 'started a local nats-server for the workers');
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      stopped = true;
      clearTimeout(restart);
      await child?.stop();
    },
  };
}

