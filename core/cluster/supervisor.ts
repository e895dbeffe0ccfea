import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from '../logger.js';
import { defaultNodeName, WORKER_ENV } from './config.js';
import { startLocalNats, type LocalNats } from './local-nats.js';

export interface SupervisorOptions {
  workers: number | 'auto';
  /** The file's `server.cluster.nats`; absent: a local nats-server is started. */
  nats?: string;
  /** The file's node name; workers are named NODE-w1, NODE-w2... */
  node?: string;
  logger: Logger;
  /** How long workers get to drain when the supervisor is stopped. */
  drainTimeoutMs: number;
}

/** A worker that dies sooner than this after starting makes the next restart wait longer. */
const HEALTHY_AFTER_MS = 10_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 10_000;

/** What the supervisor sends a worker to make it drain and exit. */
export const STOP_MESSAGE = 'wsflv:stop';

export function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? Math.max(1, availableParallelism()) : workers;
}

/** True in a process a supervisor started. */
export function isWorker(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WORKER_ENV.worker] !== undefined;
}

/**
 * `server.workers: N`: runs N copies of this `wsflv run` on the one port (node:cluster shares the
 * listening sockets and hands connections round-robin), tied together through NATS, so players spread
 * over the cores and any worker serves any stream. A worker that dies is restarted (with a growing
 * wait if it keeps dying). Resolves with the exit code once a signal stopped everything.
 */
export async function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { logger } = options;
  const count = workerCount(options.workers);
  let local: LocalNats | undefined;
  if (!options.nats) local = await startLocalNats(logger);
  const nats = options.nats ?? local!.url;
  const base = options.node ?? defaultNodeName();
  cluster.setupPrimary({ exec: process.argv[1]!, args: process.argv.slice(2) });

  let stopping = false;
  const slots = new Map<number, { worker: Worker; startedAt: number; waitMs: number; timer?: NodeJS.Timeout }>();
  const fork = (slot: number, waitMs: number) => {
    const worker = cluster.fork({ [WORKER_ENV.worker]: String(slot), [WORKER_ENV.nats]: nats, [WORKER_ENV.node]: `${base}-w${slot}` });
    slots.set(slot, { worker, startedAt: Date.now(), waitMs });
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      const entry = slots.get(slot)!;
      const healthy = Date.now() - entry.startedAt > HEALTHY_AFTER_MS;
      const next = healthy ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, entry.waitMs * 2);
      logger.error({ worker: slot, pid: worker.process.pid, code, signal, restartInMs: next }, 'a worker died: restarting it');
      entry.timer = setTimeout(() => fork(slot, next), next);
    });
  };
  for (let slot = 1; slot <= count; slot++) fork(slot, RESTART_MIN_MS / 2);
  logger.info({ workers: count, nats, local: local !== undefined }, 'supervising workers');

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        for (const { worker } of slots.values()) worker.process.kill('SIGKILL');
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping the workers');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

  const exits: Promise<void>[] = [];
  for (const entry of slots.values()) {
    clearTimeout(entry.timer);
    const { worker } = entry;
    if (worker.isDead()) continue;
    exits.push(new Promise((resolve) => worker.once('exit', () => resolve())));
    // A message, not a signal: a terminal's Ctrl-C already reached the workers, and a second signal forces them out.
    try {
      worker.send(STOP_MESSAGE);
    } catch {
      worker.process.kill('SIGTERM');
    }
  }
  const deadline = setTimeout(() => {
    for (const { worker } of slots.values()) if (!worker.isDead()) worker.process.kill('SIGKILL');
  }, options.drainTimeoutMs + 2000);
  await Promise.all(exits);
  clearTimeout(deadline);
  await local?.stop();
  return 0;
}
