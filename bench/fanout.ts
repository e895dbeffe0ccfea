/**
 * Fan-out bench: one publisher, N WebSocket-FLV players, all on 127.0.0.1, against three servers in
 * the same run: ours (`wsflv run` with ws-publish → flv-demux, timestamps → ws-play), a
 * plain `ws` broadcast (the floor for Node.js) and node-media-server 4.x (installed into
 * bench/.cache/nms on first use, never a project dependency).
 *
 * Each server runs alone in a child process, so its CPU (utime + stime) and RSS come from /proc for
 * that process only; the load generator (bench/lib/load.ts) is another child process.
 *
 *   npm run bench:fanout
 *   npm run bench:fanout -- --n 1000 --seconds 20 --servers ours,ws,nms
 *
 * Flags: --n LIST (100,500,1000)  --seconds S (20)  --servers LIST (ours,ours-c0,ws,nms; also ours-fixed, ours-c40, ours-nodedefaults)
 *        --stalled LIST (servers for the stalled-player scenario, default ours; `none` skips it)
 *        --stalled-seconds S (25)  --connect-rate R players/s (250)  --sample-every K (10)
 *        --repeat R (1): run every server R times per N, interleaved; the table shows each server's
 *          median-CPU run and the spread is printed under it
 *        --out FILE (bench/results/fanout-DATE.json)  --plot FILE (bench/results/fanout-scale.svg, with several N)
 *        --profile: also take a CPU profile of each server over its window (through --inspect on
 *          127.0.0.1) into bench/.cache/prof and print where the time went; profiling inflates CPU,
 *          so figures from such a run are not comparable
 *        --alloc: sample the server's JS heap allocations over the window (collected objects
 *          included) and print them per player-second, per tag sent and, for ours, per write
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadConfig, LoadResult, ParentMessage } from './lib/load.js';
import { nextMessage } from './lib/load-control.js';
import { OURS_NODE_FLAGS } from './lib/ours.js';
import { freePort } from './lib/children.js';
import { ensureMedia, loadMedia, MEDIA } from './lib/media.js';
import { ensureNms, NMS_DIR } from './lib/nms.js';
import { cpuTimes, load1, rssBytes } from './lib/proc.js';
import { startAllocationSampler, startProfiler, summarizeProfile } from './lib/profile.js';
import { slope } from './lib/stats.js';
import { scaleCurveSvg, type ScalePoint } from './lib/scale-plot.js';
import { DEFAULT_PLAYER_LIMITS } from '../core/live/player.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'bench', '.cache');
const STREAM_PATH = '/live/bench.flv';

// ---------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '100,500,1000' },
    seconds: { type: 'string', default: '20' },
    servers: { type: 'string', default: 'ours,ours-c0,ws,nms' },
    stalled: { type: 'string', default: 'ours' },
    'stalled-seconds': { type: 'string', default: '25' },
    'connect-rate': { type: 'string', default: '250' },
    'sample-every': { type: 'string', default: '10' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    plot: { type: 'string' },
  },
  strict: true,
});

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const playerCounts = list(flags.n!).map(Number);
const seconds = Number(flags.seconds);
const serverNames = list(flags.servers!);
const stalledServers = flags.stalled === 'none' ? [] : list(flags.stalled!);
const stalledSeconds = Number(flags['stalled-seconds']);
const connectRate = Number(flags['connect-rate']);
const sampleEvery = Number(flags['sample-every']);
const repeat = Number(flags.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 5) throw new Error('--repeat: 1 to 5');
if (playerCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) throw new Error('--n: player counts from 1 to 5000');
if (!(seconds >= 3 && seconds <= 300)) throw new Error('--seconds: 3 to 300');
if (!(stalledSeconds >= 5 && stalledSeconds <= 120)) throw new Error('--stalled-seconds: 5 to 120');
if (!(connectRate >= 10 && connectRate <= 2000)) throw new Error('--connect-rate: 10 to 2000 players per second');

// ---------------------------------------------------------------------------------------------------
// Servers under test
// ---------------------------------------------------------------------------------------------------

interface ServerSpec {
  name: string;
  description: string;
  /** `nodeArgs` go before the script (e.g. --inspect). */
  start(port: number, players: number, log: number, nodeArgs: string[]): ChildProcess;
}

/** Our ws-play options: the sink's defaults, or with these overrides. */
function oursSpec(name: string, description: string, sinkOptions: Record<string, unknown>, nodeFlags: readonly string[] = OURS_NODE_FLAGS): ServerSpec {
  return {
    name,
    description,
    start(port, players, log, nodeArgs) {
      const sink = Object.keys(sinkOptions).length === 0 ? 'ws-play' : JSON.stringify({ type: 'ws-play', ...sinkOptions });
      const yaml = [
        '# Generated by bench/fanout.ts',
        'server:',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        // The default connection limit (1000) would refuse the 1001st connection: players + publisher.
        `  limits: { connections: ${players + 100} }`,
        // Read by the bench at the window's edges (writes, the window in force); costs nothing between scrapes.
        '  metrics: true',
        'pipelines:',
        '  live:',
        '    source: ws-publish',
        '    stages: [flv-demux, timestamps]',
        `    sinks: [${sink}]`,
        '',
      ].join('\n');
      const file = join(CACHE, `${name}.yaml`);
      writeFileSync(file, yaml);
      return spawn(process.execPath, [...nodeFlags, ...nodeArgs, join(ROOT, 'bin', 'wsflv.js'), 'run', file], {
        cwd: ROOT,
        // info shows why players were closed (the stalled scenario); nothing is logged per tag.
        env: { ...process.env, WSFLV_LOG_LEVEL: 'info' },
        stdio: ['ignore', log, log],
      });
    },
  };
}

const SERVERS: Record<string, ServerSpec> = {
  ours: oursSpec('ours', 'wsflv, ws-play defaults', {}),
  'ours-c0': oursSpec('ours-c0', 'wsflv, ws-play coalesceMs: 0', { coalesceMs: 0 }),
  // The window before it became adaptive: 20 ms whatever the load.
  'ours-fixed': oursSpec('ours-fixed', 'wsflv, ws-play coalesce: fixed (20 ms)', { coalesce: 'fixed' }),
  // Not in the default set: what a longer window buys (fanout.md measured 20 vs 40 ms).
  'ours-c40': oursSpec('ours-c40', 'wsflv, ws-play coalesceMs: 40', { coalesceMs: 40 }),
  // What the node flags of `npm start` buy: the same server on node's defaults.
  'ours-nodedefaults': oursSpec('ours-nodedefaults', 'wsflv, ws-play defaults, without the node flags of npm start', {}, []),
  ws: {
    name: 'ws',
    description: 'plain ws broadcast (ws.send of every message)',
    start: (port, _players, log, nodeArgs) =>
      spawn(process.execPath, [...nodeArgs, '--import=tsx', join(ROOT, 'bench', 'lib', 'ws-broadcast-server.ts'), String(port)], { cwd: ROOT, stdio: ['ignore', log, log] }),
  },
  nms: {
    name: 'nms',
    description: 'node-media-server 4.x',
    start(port, _players, log, nodeArgs) {
      const data = join(CACHE, 'nms-data');
      mkdirSync(data, { recursive: true });
      return spawn(process.execPath, [...nodeArgs, join(ROOT, 'bench', 'lib', 'nms-server.cjs'), NMS_DIR, String(port), data], { cwd: NMS_DIR, stdio: ['ignore', log, log] });
    },
  },
};

for (const name of [...serverNames, ...stalledServers]) if (!SERVERS[name]) throw new Error(`unknown server ${name} (${Object.keys(SERVERS).join(', ')})`);

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[(sorted.length - 1) >> 1]!;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------
// One run: one server, one player count
// ---------------------------------------------------------------------------------------------------

export interface RunResult {
  server: string;
  description: string;
  scenario: Scenario;
  players: number;
  stalledPlayers: number;
  media: string;
  seconds: number;
  load1: { start: number; end: number };
  serverCpuCores: number;
  /** The kernel's share of that CPU (system time over user + system). */
  serverCpuSystemShare: number;
  cpuUsPerPlayerSecond: number;
  rssIdleMB: number;
  rssPublishingMB: number;
  rssWindowMeanMB: number;
  rssWindowMedianMB: number;
  rssWindowMaxMB: number;
  rssAboveIdleKBPerPlayer: number;
  rssSlopeKBPerSecond: number;
  rssSamplesMB: number[];
  deliveredMbps: number;
  expectedMbps: number;
  load: LoadResult;
  /** With --profile: where the server's main thread spent the window. */
  profile?: string;
  /** Ours only, from /metrics over the window: how the sends were batched. */
  writes?: { perPlayerSecond: number; tagsPerWrite: number; windowMs: number; load: number };
  /** With --alloc: JS heap allocated over the window (collected objects included). */
  alloc?: { bytesPerPlayerSecond: number; bytesPerTagPlayer: number; bytesPerWrite?: number; top: { at: string; bytes: number }[] };
}

type Scenario = 'fanout' | 'stalled' | 'stalled-control';

async function run(spec: ServerSpec, scenario: Scenario, players: number, stalled: number, mediaFile: string, windowSeconds: number): Promise<RunResult> {
  const port = await freePort();
  mkdirSync(join(CACHE, 'logs'), { recursive: true });
  const log = openSync(join(CACHE, 'logs', `${spec.name}-${scenario}-${players}.log`), 'w');
  const loadStart = load1();
  const inspect = flags.profile || flags.alloc;
  const inspectPort = inspect ? await freePort() : 0;
  const server = spec.start(port, players + stalled, log, inspect ? [`--inspect=127.0.0.1:${inspectPort}`] : []);
  const ours = spec.name.startsWith('ours');
  let loadProc: ChildProcess | undefined;
  try {
    await waitListening(port, server, 30_000);
    await sleep(1000);
    const pid = server.pid!;
    const rssIdle = rssBytes(pid);

    const total = players + stalled;
    const joinTimeoutMs = 15_000;
    const config: LoadConfig = {
      port,
      path: STREAM_PATH,
      media: mediaFile,
      players,
      stalled,
      connectPerSec: connectRate,
      sampleEvery,
      joinTimeoutMs,
      maxRunMs: 60_000 + (total / connectRate) * 1000 + windowSeconds * 1000 + joinTimeoutMs,
    };
    loadProc = fork(join(ROOT, 'bench', 'lib', 'load.ts'), [JSON.stringify(config)], {
      cwd: ROOT,
      execArgv: ['--import=tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await nextMessage(loadProc, 'publishing', 30_000);
    // RSS with the stream flowing and no players: the median of 3 s of samples (the GC sawtooth).
    const before: number[] = [];
    for (let i = 0; i < 12; i++) {
      await sleep(250);
      before.push(rssBytes(pid));
    }
    const rssPublishing = median(before);
    loadProc.send({ type: 'join' } satisfies ParentMessage);
    const joined = await nextMessage(loadProc, 'joined', config.maxRunMs);
    if (joined.started < players) console.log(`  ! only ${joined.started}/${players} players started (${joined.failed} failed)`);
    await sleep(2000);

    // The measured window.
    const send = (m: ParentMessage) => loadProc!.send(m);
    const profiler = flags.profile ? await startProfiler(inspectPort) : undefined;
    const sampler = flags.alloc ? await startAllocationSampler(inspectPort, ROOT) : undefined;
    const metrics0 = ours ? await scrapeMetrics(port) : undefined;
    const cpu0 = cpuTimes(pid);
    const t0 = performance.now();
    send({ type: 'window-start' });
    const rss: number[] = [];
    const times: number[] = [];
    const step = 250;
    for (let i = 1; i <= (windowSeconds * 1000) / step; i++) {
      await sleep(t0 + i * step - performance.now());
      rss.push(rssBytes(pid));
      times.push((performance.now() - t0) / 1000);
    }
    const cpu1 = cpuTimes(pid);
    const elapsed = (performance.now() - t0) / 1000;
    const metrics1 = ours ? await scrapeMetrics(port) : undefined;
    const allocation = sampler ? await sampler.stop() : undefined;
    const resultPromise = nextMessage(loadProc, 'result', 30_000);
    send({ type: 'window-end' });
    const { result } = await resultPromise;
    let profile: string | undefined;
    if (profiler) {
      mkdirSync(join(CACHE, 'prof'), { recursive: true });
      const file = join(CACHE, 'prof', `${spec.name}-${scenario}-${players}.cpuprofile`);
      profile = `${spec.name}, N=${players}: ${relative(ROOT, file)}\n${summarizeProfile(await profiler.stop(file), ROOT)}`;
    }

    const MB = 1024 * 1024;
    const meanRss = rss.reduce((a, b) => a + b, 0) / rss.length;
    const medianRss = median(rss);
    const live = Math.max(1, result.started);
    const cpuUsed = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
    const cpuCores = cpuUsed / elapsed;
    // The kernel's share: on loopback a write also pays for the receiver's TCP work.
    const systemShare = (cpu1.system - cpu0.system) / cpuUsed;
    const delta = (name: string) => (metrics1?.get(name) ?? NaN) - (metrics0?.get(name) ?? NaN);
    const writes = metrics1 && {
      perPlayerSecond: delta('wsflv_live_writes_total') / elapsed / live,
      tagsPerWrite: delta('wsflv_live_tags_sent_total') / delta('wsflv_live_writes_total'),
      windowMs: metrics1.get('wsflv_live_write_window_ms') ?? NaN,
      load: metrics1.get('wsflv_live_write_load') ?? NaN,
    };
    // Tags each player was sent per second of the load generator's window, times the players.
    const tagPlayersPerSecond = ((result.sentTags * 1000) / result.windowMs) * live;
    const alloc = allocation && {
      bytesPerPlayerSecond: allocation.bytes / allocation.seconds / live,
      bytesPerTagPlayer: allocation.bytes / allocation.seconds / tagPlayersPerSecond,
      bytesPerWrite: writes ? allocation.bytes / (writes.perPlayerSecond * live * allocation.seconds) : undefined,
      top: allocation.top,
    };
    return {
      server: spec.name,
      description: spec.description,
      scenario,
      players,
      stalledPlayers: stalled,
      media: relative(ROOT, mediaFile),
      seconds: elapsed,
      load1: { start: loadStart, end: load1() },
      serverCpuCores: cpuCores,
      serverCpuSystemShare: systemShare,
      cpuUsPerPlayerSecond: (cpuCores * 1e6) / live,
      rssIdleMB: rssIdle / MB,
      rssPublishingMB: rssPublishing / MB,
      rssWindowMeanMB: meanRss / MB,
      rssWindowMedianMB: medianRss / MB,
      rssWindowMaxMB: Math.max(...rss) / MB,
      rssAboveIdleKBPerPlayer: (medianRss - rssPublishing) / 1024 / players,
      rssSlopeKBPerSecond: slope(times, rss) / 1024,
      // One a second in the JSON (the slope uses all).
      rssSamplesMB: rss.filter((_, i) => (i + 1) % 4 === 0).map((b) => Math.round((b / MB) * 10) / 10),
      deliveredMbps: (result.windowBytes * 8) / (result.windowMs / 1000) / 1e6,
      expectedMbps: ((result.sentBytes * 8) / (result.windowMs / 1000) / 1e6) * players,
      load: result,
      profile,
      writes,
      alloc,
    };
  } finally {
    if (loadProc) await stopChild(loadProc, 2000);
    await stopChild(server);
  }
}

/** Our /metrics as name → value, the series of a name summed over their labels. */
async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/i.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) values.set(m[1]!, (values.get(m[1]!) ?? 0) + value);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function table(rows: RunResult[]): string {
  const head = ['server', 'µs CPU/player·s', 'cores', 'kernel', 'RSS MB', 'KB/player', 'RSS slope KB/s', 'Mb/s delivered', 'lat p50/p99 ms', 'TTFK p50/p99 ms', 'tags/write', 'window ms (load)', 'missing', 'kept up', 'gen CPU', 'gen lag p99'];
  const lines = rows.map((r) => [
    r.server,
    f(r.cpuUsPerPlayerSecond),
    f(r.serverCpuCores, 2),
    `${f(r.serverCpuSystemShare * 100, 0)} %`,
    f(r.rssWindowMedianMB, 1),
    f(r.rssAboveIdleKBPerPlayer, 1),
    f(r.rssSlopeKBPerSecond, 0),
    `${f(r.deliveredMbps, 0)} / ${f(r.expectedMbps, 0)}`,
    `${f(r.load.latencyMs.p50, 1)} / ${f(r.load.latencyMs.p99, 1)}`,
    `${f(r.load.ttfkMs.p50, 0)} / ${f(r.load.ttfkMs.p99, 0)}`,
    r.writes ? f(r.writes.tagsPerWrite, 2) : '-',
    r.writes ? `${f(r.writes.windowMs, 0)} (${f(r.writes.load, 2)})` : '-',
    `${r.load.playersWithMissing} (${r.load.missingFrames} fr)`,
    `${r.load.keptUp}/${r.players}`,
    `${f(r.load.generatorCpu * 100, 0)} %`,
    `${f(r.load.loopDelayMs.p99, 1)} ms`,
  ]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  const fmt = (l: string[]) => '| ' + l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [fmt(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|') + '|', ...lines.map(fmt)].join('\n');
}

function allocationReport(r: RunResult): string {
  const a = r.alloc!;
  const kb = (b: number) => f(b / 1024, 1);
  return [
    `  ${r.server}, N=${r.players}: JS heap allocated ${kb(a.bytesPerPlayerSecond)} KB per player-second, ${f(a.bytesPerTagPlayer)} B per tag sent to a player` +
      (a.bytesPerWrite !== undefined ? `, ${f(a.bytesPerWrite)} B per write` : ''),
    ...a.top.slice(0, 8).map((t) => `    ${kb(t.bytes / r.seconds).padStart(8)} KB/s  ${t.at}`),
    '',
  ].join('\n');
}

function ratios(rows: RunResult[]): string[] {
  const out: string[] = [];
  const by = new Map(rows.map((r) => [r.server, r]));
  for (const ours of rows.filter((r) => r.server.startsWith('ours'))) {
    for (const other of ['nms', 'ws']) {
      const o = by.get(other);
      if (!o) continue;
      out.push(
        `${ours.server}/${other}: CPU ${f(ours.cpuUsPerPlayerSecond / o.cpuUsPerPlayerSecond, 2)}×, ` +
          `latency p50 ${f(ours.load.latencyMs.p50 / o.load.latencyMs.p50, 2)}× p99 ${f(ours.load.latencyMs.p99 / o.load.latencyMs.p99, 2)}×, ` +
          `RSS/player ${f(ours.rssAboveIdleKBPerPlayer / o.rssAboveIdleKBPerPlayer, 2)}×, TTFK p50 ${f(ours.load.ttfkMs.p50 / o.load.ttfkMs.p50, 2)}×`,
      );
    }
  }
  return out;
}

/** The goals for this player count: CPU against node-media-server's, latency against the plain broadcast's or nms's. */
function targets(rows: RunResult[]): string[] {
  const by = new Map(rows.map((r) => [r.server, r]));
  const nms = by.get('nms');
  const ws = by.get('ws');
  const out: string[] = [];
  const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  for (const ours of rows.filter((r) => r.server.startsWith('ours'))) {
    const n = ours.players;
    const cpuGoal = n >= 2000 ? 0.3 : n >= 1000 ? 0.35 : 0.6;
    const p99 = ours.load.latencyMs.p99;
    if (nms) {
      const ratio = ours.cpuUsPerPlayerSecond / nms.cpuUsPerPlayerSecond;
      out.push(`${ours.server}: CPU ≤ ${cpuGoal}× nms: ${f(ratio, 2)}× → ${mark(ratio <= cpuGoal)}`);
    }
    if (n < 1000 && ws) out.push(`${ours.server}: latency p99 ≤ 1.1× ws and ≤ 25 ms: ${f(p99, 1)} vs ${f(ws.load.latencyMs.p99, 1)} ms → ${mark(p99 <= 1.1 * ws.load.latencyMs.p99 && p99 <= 25)}`);
    if (n >= 1000 && nms) out.push(`${ours.server}: latency p99 ≤ nms: ${f(p99, 1)} vs ${f(nms.load.latencyMs.p99, 1)} ms → ${mark(p99 <= nms.load.latencyMs.p99)}`);
    out.push(`${ours.server}: TTFK p50 ≤ 50 ms and p99 ≤ 200 ms: ${f(ours.load.ttfkMs.p50, 1)} / ${f(ours.load.ttfkMs.p99, 1)} ms → ${mark(ours.load.ttfkMs.p50 <= 50 && ours.load.ttfkMs.p99 <= 200)}`);
    if (n >= 1000) out.push(`${ours.server}: RSS above idle ≤ 15 KB/player: ${f(ours.rssAboveIdleKBPerPlayer, 1)} KB, slope ${f(ours.rssSlopeKBPerSecond, 0)} KB/s → ${mark(ours.rssAboveIdleKBPerPlayer <= 15)}`);
    out.push(`${ours.server}: kept-up players with missing frames: ${ours.load.keptUpWithMissing} → ${mark(ours.load.keptUpWithMissing === 0)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const media800 = ensureMedia(CACHE, MEDIA['800k']);
  const media6m = stalledServers.length > 0 ? ensureMedia(CACHE, MEDIA['6m']) : undefined;
  if (serverNames.includes('nms') || stalledServers.includes('nms')) await ensureNms();
  const info = await loadMedia(media800);
  const rate = (info.bytes * 8) / (info.durationMs / 1000) / 1e6;

  const started = new Date();
  console.log(`fan-out bench ${started.toISOString()}  ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB, node ${process.version}`);
  console.log(`ours runs as npm start runs it: node ${[...OURS_NODE_FLAGS, 'bin/wsflv.js run'].join(' ')}`);
  console.log(`stream ${MEDIA['800k'].name}: ${f(rate, 2)} Mb/s, ${f(info.tags.length / (info.durationMs / 1000), 1)} tags/s; window ${seconds} s; load average ${f(load1(), 2)}`);

  const results: RunResult[] = [];
  const errors: { server: string; players: number; error: string }[] = [];
  for (const n of playerCounts) {
    const runs = new Map<string, RunResult[]>();
    // Servers interleaved per N (and per repetition), so a change in background load hits them alike.
    for (let round = 1; round <= repeat; round++) for (const name of serverNames) {
      process.stdout.write(`N=${n} ${name}${repeat > 1 ? ` (${round}/${repeat})` : ''} ... `);
      try {
        const r = await run(SERVERS[name]!, 'fanout', n, 0, media800, seconds);
        runs.set(name, [...(runs.get(name) ?? []), r]);
        results.push(r);
        console.log(`${f(r.cpuUsPerPlayerSecond)} µs/player·s, p99 ${f(r.load.latencyMs.p99, 1)} ms, load ${f(r.load1.start, 1)}→${f(r.load1.end, 1)}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.push({ server: name, players: n, error: message });
        console.log(`failed: ${message}`);
      }
    }
    // With repetitions, each server's row is its run with the median CPU; the spread is printed below.
    const rows = [...runs.values()].map((list) => [...list].sort((a, b) => a.cpuUsPerPlayerSecond - b.cpuUsPerPlayerSecond)[(list.length - 1) >> 1]!);
    if (rows.length > 0) {
      console.log(`\nN = ${n}, ${f(rate, 2)} Mb/s, ${seconds} s window${repeat > 1 ? `, median-CPU run of ${repeat}` : ''}\n${table(rows)}`);
      if (repeat > 1) {
        for (const [name, list] of runs) {
          const cpu = list.map((r) => f(r.cpuUsPerPlayerSecond)).join(', ');
          const p99 = list.map((r) => f(r.load.latencyMs.p99, 1)).join(', ');
          console.log(`  ${name}: CPU µs/player·s ${cpu}; latency p99 ms ${p99}`);
        }
      }
      for (const line of ratios(rows)) console.log(`  ${line}`);
      for (const line of targets(rows)) console.log(`  ${line}`);
      console.log('');
      for (const r of rows) if (r.alloc) console.log(allocationReport(r));
      for (const r of rows) if (r.profile) console.log(`${r.profile}\n`);
    }
  }

  // The scale curve: every N at once, marking where a server fell behind (players missed tags or did not keep up).
  const fanout = results.filter((r) => r.scenario === 'fanout');
  if (playerCounts.length > 1 && fanout.length > 0) {
    const points: ScalePoint[] = fanout.map((r) => ({
      server: r.server,
      players: r.players,
      cpuUsPerPlayerSecond: r.cpuUsPerPlayerSecond,
      latencyP99Ms: r.load.latencyMs.p99,
      rssKBPerPlayer: r.rssAboveIdleKBPerPlayer,
      behind: r.load.playersWithMissing > 0 || r.load.keptUp < r.players,
    }));
    const servers = [...new Set(points.map((p) => p.server))];
    console.log('Scale curve: µs CPU per player-second / latency p99 ms / RSS KB per player (! = players missed tags)\n');
    console.log(`| N | ${servers.join(' | ')} |`);
    console.log(`|---|${servers.map(() => '---').join('|')}|`);
    for (const n of playerCounts) {
      const cells = servers.map((server) => {
        const p = points.find((q) => q.server === server && q.players === n);
        return p ? `${f(p.cpuUsPerPlayerSecond)} / ${f(p.latencyP99Ms, 1)} / ${f(p.rssKBPerPlayer, 1)}${p.behind ? ' !' : ''}` : '-';
      });
      console.log(`| ${n} | ${cells.join(' | ')} |`);
    }
    const svg = flags.plot ?? join(ROOT, 'bench', 'results', 'fanout-scale.svg');
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(svg, scaleCurveSvg(points, `wsflv fan-out scale curve, ${f(rate, 2)} Mb/s, ${started.toISOString().slice(0, 10)}`));
    console.log(`\nplot written to ${relative(process.cwd(), svg)}\n`);
  }

  // Stalled players: the same 6 Mb/s stream with 2 healthy players, without (control) and with 2 more
  // players that never read. What the stalled ones cost is the difference in RSS growth.
  const stalledResults: RunResult[] = [];
  const bound = DEFAULT_PLAYER_LIMITS.maxQueueBytes / 2 ** 20;
  for (const name of stalledServers) {
    const pair: RunResult[] = [];
    for (const [scenario, stalled] of [['stalled-control', 0], ['stalled', 2]] as const) {
      process.stdout.write(`${scenario}: ${name}, 2 healthy + ${stalled} stalled players at 6 Mb/s, ${stalledSeconds} s ... `);
      try {
        const r = await run(SERVERS[name]!, scenario, 2, stalled, media6m!, stalledSeconds);
        pair.push(r);
        stalledResults.push(r);
        console.log(`RSS ${f(r.rssPublishingMB, 1)} MB before players, max ${f(r.rssWindowMaxMB, 1)} MB; samples ${r.rssSamplesMB.join(' ')}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.push({ server: name, players: 2, error: `${scenario}: ${message}` });
        console.log(`failed: ${message}`);
      }
    }
    const [control, test] = pair;
    if (control && test) {
      const growth = (r: RunResult) => r.rssWindowMaxMB - r.rssPublishingMB;
      const extra = growth(test) - growth(control);
      const extraMedian = test.rssWindowMedianMB - test.rssPublishingMB - (control.rssWindowMedianMB - control.rssPublishingMB);
      const limit = name.startsWith('ours') ? 2 * 2 * bound : NaN;
      console.log(
        `  ${name}: 2 stalled players cost ${f(extra, 1)} MiB of RSS at peak (growth ${f(growth(test), 1)} MiB vs ${f(growth(control), 1)} MiB without them), ` +
          `${f(extraMedian, 1)} MiB at the median` +
          (Number.isFinite(limit) ? `; configured bound: maxQueueBytes ${f(bound, 0)} MiB per player, closed past 2× → at most ${f(limit, 0)} MiB for two → ${extra <= limit ? 'PASS' : 'FAIL'}` : '') +
          `\n  stalled players: ${test.load.stalledReport?.closeCodes.join(', ')}; bytes still readable when they finally read: ` +
          `${test.load.stalledReport?.bytesBuffered.map((b) => f(b / 2 ** 20, 1) + ' MiB').join(', ')}; healthy players kept up ${test.load.keptUp}/2, ` +
          `missing frames ${test.load.missingFrames}, latency p99 ${f(test.load.latencyMs.p99, 1)} ms (control ${f(control.load.latencyMs.p99, 1)} ms)`,
      );
    }
  }

  const out = flags.out ?? join(ROOT, 'bench', 'results', `fanout-${started.toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: started.toISOString(),
        command: ['npm run bench:fanout', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version },
        stream: { file: MEDIA['800k'].name, mbps: rate, tagsPerSecond: info.tags.length / (info.durationMs / 1000) },
        seconds,
        repeat,
        results,
        stalled: stalledResults,
        errors,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results written to ${relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
