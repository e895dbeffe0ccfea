import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from '../../core/process/ports.js';

/**
 * The processes a bench starts: each spawned child is tracked and killed if the bench exits early,
 * so no server, ffmpeg or player outlives a run.
 */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Track a child spawned elsewhere. */
export function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

/** Spawn a tracked child with its output discarded. */
export function child(command: string, args: string[], cwd: string): ChildProcess {
  return track(spawn(command, args, { cwd, stdio: 'ignore' }));
}

/** SIGTERM each, SIGKILL after 3 s; resolves when all have exited. Without a list: every tracked child. */
export function stopAll(list: Iterable<ChildProcess> = children): Promise<void> {
  return Promise.all([...list].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    c.once('exit', () => { clearTimeout(timer); resolve(); });
    c.kill('SIGTERM');
  }))).then(() => undefined);
}

export { freePort };

/** Resolves once something accepts on 127.0.0.1:port (15 s at most). */
export async function waitPort(port: number): Promise<void> {
  if (!(await waitForPort(port, 15_000))) throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
