/**
 * bench:ingest — what publishers cost: P publishers at ~2.5 Mb/s each (720p H.264 + AAC, sent in real
 * time), no players, server CPU per publisher-second, side by side in one run:
 *   - wsflv (`wsflv run` as npm start runs it, the bundled pipeline's chain: publish → flv-demux,
 *     timestamps → ws-play, http-play, rtmp-play) over WebSocket, HTTP POST and RTMP;
 *   - node-media-server 4.4.3 over RTMP (the only way it takes publishers);
 *   - a plain `ws` server that reads every message and drops it: the plain-library baseline for WebSocket ingest.
 *
 *   npm run bench:ingest [-- --publishers 50 --seconds 15 --servers ours-ws,ours-http,ours-rtmp,nms-rtmp,ws-plain --repeat 3]
 *
 * Also `ours-ws-nodedefaults`: ours over WebSocket on node's defaults, to see what npm start's node flags buy.
 *
 * --repeat R runs every server R times, interleaved (so a change in background load hits them alike);
 * the table shows each server's median-CPU run and the spread is printed under it.
 *
 * Each server runs alone in a child process (CPU and RSS from /proc for that process only); all
 * publishers are one load-generator process (bench/lib/ingest-load.ts), started 20 ms apart. Results go
 * to bench/results/ingest-DATE.json unless --out says otherwise. --profile: a CPU profile of ours over the
 * window (through --inspect on 127.0.0.1), printed as where the time went; --alloc: its JS heap allocations
 * over the window, per publisher-second and per tag. Figures from either are not comparable.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, sleep, stopAll, track, waitPort } from './lib/children.js';
import type { IngestChildMessage, IngestConfig, IngestParentMessage, IngestResult, IngestTransport } from './lib/ingest-load.js';
import { nextMessage } from './lib/load-control.js';
import { ensureMedia, loadMedia, MEDIA } from './lib/media.js';
import { startNms } from './lib/nms.js';
import { liveConfig, OURS_NODE_FLAGS } from './lib/ours.js';
import { cpuSeconds, load1, rssBytes } from './lib/proc.js';
import { startAllocationSampler, startProfiler, summarizeProfile } from './lib/profile.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'bench', '.cache');

const { values: flags } = parseArgs({
  options: {
    publishers: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    servers: { type: 'string', default: 'ours-ws,ours-http,ours-rtmp,nms-rtmp,ws-plain' },
    out: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
  },
  strict: true,
});
const PUBLISHERS = Number(flags.publishers);
const SECONDS = Number(flags.seconds);
if (!Number.isInteger(PUBLISHERS) || PUBLISHERS < 1 || PUBLISHERS > 200) throw new Error('--publishers: 1 to 200');
if (!(SECONDS >= 3 && SECONDS <= 120)) throw new Error('--seconds: 3 to 120');
const REPEAT = Number(flags.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1 || REPEAT > 5) throw new Error('--repeat: 1 to 5');
/** Connections settle (handshakes, first GOPs cached) before the window opens. */
const WARMUP_MS = 3000;
const STAGGER_MS = 20;

interface Running {
  pid: number;
  /** The port publishers of this transport connect to. */
  port: number;
  stop(): Promise<void>;
}

interface ServerSpec {
  name: string;
  transport: IngestTransport;
  description: string;
  start(): Promise<Running>;
}

let inspectPort = 0;

async function startOurs(transport: IngestTransport, nodeFlags: readonly string[] = OURS_NODE_FLAGS): Promise<Running> {
  const [port, rtmpPort] = [await freePort(), await freePort()];
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, 'ingest-bench.yaml');
  writeFileSync(file, liveConfig({ header: "bench/ingest.ts: the bundled pipeline.yaml's live chain, on loopback", port, rtmpPort, metrics: true, sinks: ['ws-play', 'http-play', 'rtmp-play'] }));
  inspectPort = flags.profile || flags.alloc ? await freePort() : 0;
  const inspect = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
  const c = track(spawn(process.execPath, [...nodeFlags, ...inspect, join(ROOT, 'bin', 'wsflv.js'), 'run', file], { cwd: ROOT, stdio: 'ignore' }));
  await waitPort(port);
  await waitPort(rtmpPort);
  return { pid: c.pid!, port: transport === 'rtmp' ? rtmpPort : port, stop: () => stopAll([c]) };
}

const SERVERS: Record<string, ServerSpec> = {
  'ours-ws': { name: 'ours-ws', transport: 'ws', description: 'wsflv, WebSocket publishers', start: () => startOurs('ws') },
  'ours-http': { name: 'ours-http', transport: 'http', description: 'wsflv, HTTP POST publishers', start: () => startOurs('http') },
  'ours-rtmp': { name: 'ours-rtmp', transport: 'rtmp', description: 'wsflv, RTMP publishers', start: () => startOurs('rtmp') },
  'ours-ws-nodedefaults': { name: 'ours-ws-nodedefaults', transport: 'ws', description: 'wsflv, WebSocket publishers, without the node flags of npm start', start: () => startOurs('ws', []) },
  'nms-rtmp': {
    name: 'nms-rtmp',
    transport: 'rtmp',
    description: 'node-media-server 4.4.3, RTMP publishers',
    async start() {
      const [port, rtmpPort] = [await freePort(), await freePort()];
      const c = track(await startNms(port, rtmpPort));
      return { pid: c.pid!, port: rtmpPort, stop: () => stopAll([c]) };
    },
  },
  'ws-plain': {
    name: 'ws-plain',
    transport: 'ws',
    description: 'plain ws server reading every message and dropping it',
    async start() {
      const port = await freePort();
      const c = track(spawn(process.execPath, ['--import=tsx', join(ROOT, 'bench', 'lib', 'ws-sink-server.ts'), String(port)], { cwd: ROOT, stdio: 'ignore' }));
      await waitPort(port);
      return { pid: c.pid!, port, stop: () => stopAll([c]) };
    },
  },
};

const serverNames = flags.servers!.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of serverNames) if (!SERVERS[name]) throw new Error(`unknown server ${name} (${Object.keys(SERVERS).join(', ')})`);

interface IngestRun {
  server: string;
  description: string;
  transport: IngestTransport;
  publishers: number;
  seconds: number;
  serverCpuCores: number;
  cpuUsPerPublisherSecond: number;
  rssIdleMB: number;
  rssKBPerPublisher: number;
  sentMbpsPerPublisher: number;
  load: IngestResult;
}

async function run(spec: ServerSpec, media: string): Promise<IngestRun> {
  inspectPort = 0;
  const server = await spec.start();
  let load: ChildProcess | undefined;
  try {
    await sleep(1000);
    const rssIdle = rssBytes(server.pid);
    const config: IngestConfig = { transport: spec.transport, port: server.port, publishers: PUBLISHERS, media, staggerMs: STAGGER_MS, maxRunMs: 60_000 + SECONDS * 1000 + PUBLISHERS * STAGGER_MS };
    load = fork(join(ROOT, 'bench', 'lib', 'ingest-load.ts'), [JSON.stringify(config)], { cwd: ROOT, execArgv: ['--import=tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const publishing = await nextMessage<IngestChildMessage, 'publishing'>(load, 'publishing', 60_000);
    await sleep(WARMUP_MS);
    const profiler = inspectPort && flags.profile ? await startProfiler(inspectPort) : undefined;
    const sampler = inspectPort && flags.alloc ? await startAllocationSampler(inspectPort, ROOT) : undefined;
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    load.send({ type: 'window-start' } satisfies IngestParentMessage);
    const rss: number[] = [];
    for (let i = 1; i <= SECONDS * 4; i++) {
      await sleep(t0 + i * 250 - performance.now());
      rss.push(rssBytes(server.pid));
    }
    const cpu1 = cpuSeconds(server.pid);
    const elapsed = (performance.now() - t0) / 1000;
    const resultPromise = nextMessage<IngestChildMessage, 'result'>(load, 'result', 30_000);
    load.send({ type: 'window-end' } satisfies IngestParentMessage);
    const { result } = await resultPromise;
    if (sampler) {
      const a = await sampler.stop();
      const perPublisher = a.bytes / a.seconds / publishing.connected;
      console.log(`\n${spec.name}: JS heap allocated ${f(perPublisher / 1024, 1)} KB per publisher-second, ${f(a.bytes / a.seconds / ((result.windowTags * 1000) / result.windowMs))} B per tag`);
      for (const top of a.top.slice(0, 10)) console.log(`  ${f(top.bytes / a.seconds / 1024, 1).padStart(9)} KB/s  ${top.at}`);
    }
    if (profiler) {
      mkdirSync(join(CACHE, 'prof'), { recursive: true });
      const file = join(CACHE, 'prof', `ingest-${spec.name}.cpuprofile`);
      console.log(`\n${spec.name}: ${relative(ROOT, file)}\n${summarizeProfile(await profiler.stop(file), ROOT)}`);
    }
    const cores = (cpu1 - cpu0) / elapsed;
    const medianRss = [...rss].sort((a, b) => a - b)[rss.length >> 1]!;
    return {
      server: spec.name,
      description: spec.description,
      transport: spec.transport,
      publishers: publishing.connected,
      seconds: elapsed,
      serverCpuCores: cores,
      cpuUsPerPublisherSecond: (cores * 1e6) / publishing.connected,
      rssIdleMB: rssIdle / 2 ** 20,
      rssKBPerPublisher: (medianRss - rssIdle) / 1024 / publishing.connected,
      sentMbpsPerPublisher: (result.windowBytes * 8) / (result.windowMs / 1000) / 1e6 / publishing.connected,
      load: result,
    };
  } finally {
    if (load) await stopAll([load]);
    await server.stop();
  }
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(): Promise<void> {
  const mediaFile = ensureMedia(CACHE, MEDIA['2500k']);
  const info = await loadMedia(mediaFile);
  const rate = (info.bytes * 8) / (info.durationMs / 1000) / 1e6;
  const started = new Date();
  console.log(`ingest bench ${started.toISOString()}  ${cpus().length} cores, node ${process.version}; ${PUBLISHERS} publishers × ${MEDIA['2500k'].name} (${f(rate, 2)} Mb/s, ${f(info.tags.length / (info.durationMs / 1000), 1)} tags/s), ${SECONDS} s window; load average ${f(load1(), 2)}`);
  const runs = new Map<string, IngestRun[]>();
  for (let round = 1; round <= REPEAT; round++) {
    for (const name of serverNames) {
      process.stdout.write(`${name}${REPEAT > 1 ? ` (${round}/${REPEAT})` : ''} ... `);
      try {
        const r = await run(SERVERS[name]!, mediaFile);
        runs.set(name, [...(runs.get(name) ?? []), r]);
        console.log(`${f(r.cpuUsPerPublisherSecond)} µs/publisher·s`);
      } catch (error) {
        console.log(`failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  const results = [...runs.values()].map((list) => [...list].sort((a, b) => a.cpuUsPerPublisherSecond - b.cpuUsPerPublisherSecond)[(list.length - 1) >> 1]!);
  const head = ['server', 'publishers', 'µs CPU/publisher·s', 'cores', 'RSS KB/publisher', 'Mb/s sent each', 'send late max ms', 'queued max KB', 'closed'];
  const rows = results.map((r) => [
    r.server,
    String(r.publishers),
    f(r.cpuUsPerPublisherSecond),
    f(r.serverCpuCores, 2),
    f(r.rssKBPerPublisher, 0),
    f(r.sentMbpsPerPublisher, 2),
    f(r.load.maxLateMs, 1),
    f(r.load.maxQueuedBytes / 1024, 0),
    String(r.load.closed),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((l) => l[i]!.length)));
  const line = (l: string[]) => '| ' + l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  console.log(`\n${line(head)}\n|${widths.map((w, i) => '-'.repeat(w + 1) + (i === 0 ? '-' : ':')).join('|')}|\n${rows.map(line).join('\n')}`);
  if (REPEAT > 1) for (const [name, list] of runs) console.log(`  ${name}: µs CPU per publisher-second ${list.map((r) => f(r.cpuUsPerPublisherSecond)).join(', ')}`);
  const by = new Map(results.map((r) => [r.server, r]));
  const nms = by.get('nms-rtmp');
  const plain = by.get('ws-plain');
  for (const ours of results.filter((r) => r.server.startsWith('ours'))) {
    const parts = [];
    if (nms) parts.push(`${f(ours.cpuUsPerPublisherSecond / nms.cpuUsPerPublisherSecond, 2)}× node-media-server (RTMP)`);
    if (plain) parts.push(`${f(ours.cpuUsPerPublisherSecond / plain.cpuUsPerPublisherSecond, 2)}× the plain ws server`);
    if (parts.length > 0) console.log(`  ${ours.server}: ${parts.join(', ')}`);
  }
  const out = flags.out ?? join(ROOT, 'bench', 'results', `ingest-${started.toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: started.toISOString(), command: ['npm run bench:ingest', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '), media: relative(ROOT, mediaFile), mbps: rate, results, runs: Object.fromEntries(runs) }, null, 2));
  console.log(`\nresults written to ${relative(process.cwd(), out)}`);
  await stopAll();
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
