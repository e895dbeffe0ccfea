import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/app.js';
import { startCli } from './helpers/cli.js';
import { publishLoop } from './helpers/http-app.js';
import { delay, freePort, RecordingSocket } from './helpers/live-clients.js';

/**
 * `server.workers: 2` through the real command: a supervisor, a nats-server it starts, two worker
 * processes on one port. Players land on both (each worker names its pid in the API), all play, a
 * killed worker is replaced, and a signal stops everything, nats-server included.
 */

interface ClusterView {
  nodes: { node: string; pid: number; worker?: number; players: number; self: boolean }[];
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('workers: 2 on one port: players land on both workers and all play; a killed worker is restarted; SIGTERM stops workers and nats-server', async (t) => {
  // Fails (and tears down, stopping every process) before the runner's own timeout would leave them.
  t.timeout(100_000);
  const port = await freePort();
  const file = join(tempDir('wsflv-workers-'), 'pipeline.yaml');
  writeFileSync(
    file,
    `server:
  host: 127.0.0.1
  port: ${port}
  api: true
  workers: 2
pipelines:
  live:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: play, maxQueueMs: 600000, maxQueueBytes: 67108864 }]
`,
  );
  const { child, result } = startCli(['run', file]);
  t.teardown(() => void (child.exitCode === null && child.kill('SIGTERM')));
  const base = `http://127.0.0.1:${port}`;
  // Bounded: a request handed to the worker being killed would otherwise wait forever.
  const cluster = async () => (await (await fetch(`${base}/api/cluster`, { signal: AbortSignal.timeout(2000) })).json()) as ClusterView;
  const twoWorkers = await eventually(async () => {
    const view = await cluster();
    return view.nodes.length === 2 ? view : undefined;
  }, 60_000, 'two workers hearing each other');
  const pids = twoWorkers.nodes.map((n) => n.pid).sort();
  t.is(new Set(pids).size, 2);
  t.false(pids.includes(child.pid!), 'the supervisor serves nothing itself');

  const publisher = await publishLoop(`ws://127.0.0.1:${port}/live/w.flv`);
  t.teardown(() => publisher.stop());
  await delay(1500); // every worker hears of the stream
  const players = Array.from({ length: 8 }, () => new RecordingSocket(`ws://127.0.0.1:${port}/live/w.flv`));
  t.teardown(() => players.forEach((p) => p.ws.terminate()));
  await Promise.all(players.map((p) => p.received(100_000, 20_000)));
  const spread = await eventually(async () => {
    const view = await cluster();
    return view.nodes.every((n) => n.players > 0) ? view : undefined;
  }, 10_000, 'players on both workers');
  t.is(spread.nodes.length, 2);

  // A worker that dies is replaced by a new process under the same number.
  const victim = spread.nodes.find((n) => n.worker !== undefined)!;
  process.kill(victim.pid, 'SIGKILL');
  await eventually(async () => {
    const view = await cluster();
    const replaced = view.nodes.find((n) => n.worker === victim.worker);
    return view.nodes.length === 2 && replaced && replaced.pid !== victim.pid ? view : undefined;
  }, 30_000, 'the worker to be restarted');

  const workerPids = (await cluster()).nodes.map((n) => n.pid);
  child.kill('SIGTERM');
  const exit = await result;
  t.is(exit.code, 0, exit.stderr.slice(-2000));
  t.deepEqual(workerPids.filter(alive), [], 'no worker left');
  t.notRegex(exit.stdout + exit.stderr, /"level":50.*nats-server exited/, 'nats-server was not restarted on the way out');
});
