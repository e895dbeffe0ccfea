/**
 * bench:rtmp — RTMP ingest and fan-out CPU, wsflv against node-media-server 4.4.3 in the same run.
 *
 *   npm run bench:rtmp [-- --publishers 4 --players 20 --seconds 15 --media 800k|6m]
 *
 * Both servers run as child processes on loopback; ffmpeg publishes (`-re -c copy -f flv rtmp://…`)
 * and plays (`-i rtmp://… -c copy -f null -`) in its own processes, so only the servers' CPU is
 * counted (user + system from /proc). Phase 1: P publishers, no players → CPU per publisher-second.
 * Phase 2: one publisher and N RTMP players → CPU per player-second, with one publisher's ingest
 * (from phase 1) taken off. Ratios are wsflv / node-media-server. wsflv's ingest is also measured
 * over HTTP POST (ffmpeg) and WebSocket (`wsflv publish --loop`), the same file at the same pace.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { child as spawnTracked, freePort, sleep, stopAll, track, waitPort } from './lib/children.js';
import { ensureMedia, MEDIA } from './lib/media.js';
import { startNms } from './lib/nms.js';
import { liveConfig } from './lib/ours.js';
import { cpuSeconds, load1, rssBytes } from './lib/proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'bench', '.cache');
const { values } = parseArgs({ options: { publishers: { type: 'string', default: '4' }, players: { type: 'string', default: '20' }, seconds: { type: 'string', default: '15' }, media: { type: 'string', default: '800k' } } });
if (values.media !== '800k' && values.media !== '6m') throw new Error('--media is 800k or 6m');
const MEDIA_SPEC = MEDIA[values.media];
const PUBLISHERS = Number(values.publishers);
const PLAYERS = Number(values.players);
const SECONDS = Number(values.seconds);
/** Time for connections to settle (handshakes, first GOP) before the window opens. */
const WARMUP_MS = 3000;

const child = (command: string, args: string[]) => spawnTracked(command, args, ROOT);

interface Server { name: string; pid: number; rtmp: string; http?: string; stop(): Promise<void> }

async function startOurs(): Promise<Server> {
  const [port, rtmpPort] = [await freePort(), await freePort()];
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, 'rtmp-bench.yaml');
  writeFileSync(file, liveConfig({ header: 'bench/rtmp.ts', port, rtmpPort, sinks: ['rtmp-play'] }));
  const c = child(process.execPath, ['--max-semi-space-size=8', join(ROOT, 'bin', 'wsflv.js'), 'run', file]);
  await waitPort(rtmpPort);
  return { name: 'wsflv', pid: c.pid!, rtmp: `rtmp://127.0.0.1:${rtmpPort}`, http: `127.0.0.1:${port}`, stop: () => stopAll([c]) };
}

async function startTheirs(): Promise<Server> {
  const [port, rtmpPort] = [await freePort(), await freePort()];
  const c = await startNms(port, rtmpPort);
  track(c);
  return { name: 'node-media-server', pid: c.pid!, rtmp: `rtmp://127.0.0.1:${rtmpPort}`, stop: () => stopAll([c]) };
}

const publish = (media: string, url: string) => child('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', url]);
// The same file and pacing over the other ways in: ffmpeg's chunked HTTP POST, and our CLI over WebSocket.
const publishHttp = (media: string, url: string) => child('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', url]);
const publishWs = (media: string, url: string) => child(process.execPath, [join(ROOT, 'bin', 'wsflv.js'), 'publish', '--loop', media, url]);
const play = (url: string) => child('ffmpeg', ['-v', 'error', '-i', url, '-c', 'copy', '-f', 'null', '-']);

/** Server CPU seconds over the window, after the warm-up. */
async function window(pid: number): Promise<number> {
  await sleep(WARMUP_MS);
  const before = cpuSeconds(pid);
  await sleep(SECONDS * 1000);
  return cpuSeconds(pid) - before;
}

/** CPU per publisher-second with P publishers started by `start`. */
async function ingestWith(server: Server, start: (i: number) => ChildProcess): Promise<number> {
  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => start(i));
  const cpu = await window(server.pid);
  await stopAll(publishers);
  return cpu / (PUBLISHERS * SECONDS);
}

async function measure(server: Server, media: string): Promise<{ ingest: number; fanout: number; rssPerPlayer: number; http?: number; ws?: number }> {
  const ingest = await ingestWith(server, (i) => publish(media, `${server.rtmp}/live/in${i}`));
  const others = server.http
    ? {
        http: await ingestWith(server, (i) => publishHttp(media, `http://${server.http}/live/h${i}.flv`)),
        ws: await ingestWith(server, (i) => publishWs(media, `ws://${server.http}/live/w${i}.flv`)),
      }
    : {};
  const source = publish(media, `${server.rtmp}/live/fan`);
  await sleep(1500);
  const rssBefore = rssBytes(server.pid);
  const players = Array.from({ length: PLAYERS }, () => play(`${server.rtmp}/live/fan`));
  const fanCpu = await window(server.pid);
  const rssPerPlayer = (rssBytes(server.pid) - rssBefore) / PLAYERS;
  await stopAll([...players, source]);
  const fanout = Math.max(0, fanCpu - ingest * SECONDS) / (PLAYERS * SECONDS);
  return { ingest, fanout, rssPerPlayer, ...others };
}

const media = ensureMedia(CACHE, MEDIA_SPEC);
const kbps = MEDIA_SPEC.videoKbps + MEDIA_SPEC.audioKbps;
console.log(`bench:rtmp: ${PUBLISHERS} publishers, then 1 publisher + ${PLAYERS} RTMP players, ${SECONDS} s windows, ${MEDIA_SPEC.name} (~${kbps} kb/s), load1 ${load1().toFixed(2)}`);
const results: Record<string, { ingest: number; fanout: number; rssPerPlayer: number; http?: number; ws?: number }> = {};
for (const start of [startOurs, startTheirs]) {
  const server = await start();
  try {
    results[server.name] = await measure(server, media);
  } finally {
    await server.stop();
  }
  const r = results[server.name]!;
  console.log(`${server.name.padEnd(18)} ingest ${(r.ingest * 1e3).toFixed(2)} ms CPU per publisher-second   fan-out ${(r.fanout * 1e6).toFixed(0)} µs CPU per player-second, RSS ${(r.rssPerPlayer / 1024).toFixed(1)} KB per player`);
  if (r.http !== undefined && r.ws !== undefined) {
    console.log(`${''.padEnd(18)} ingest by transport, ms CPU per publisher-second: RTMP ${(r.ingest * 1e3).toFixed(2)}   HTTP POST ${(r.http * 1e3).toFixed(2)}   WebSocket ${(r.ws * 1e3).toFixed(2)}   (RTMP / WebSocket ${(r.ingest / r.ws).toFixed(2)}×)`);
  }
}
const ours = results['wsflv']!;
const theirs = results['node-media-server']!;
console.log(`ratios (wsflv / node-media-server): ingest ${(ours.ingest / theirs.ingest).toFixed(2)}×   fan-out ${(ours.fanout / theirs.fanout).toFixed(2)}×   (load1 now ${load1().toFixed(2)})`);
await stopAll();
