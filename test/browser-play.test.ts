/**
 * End to end through our own live server, judged by a real browser: a publisher sends a fixture in
 * real time to `ws-publish` (or ffmpeg -re POSTs it to `http-publish`), the pipeline demuxes it, fixes
 * timestamps and keeps a GOP cache, and headless Chromium joins ~1 s late on `ws-play` (or `http-play`,
 * fetched cross-origin) and plays it with mpegts.js (MSE). A second, raw player beside the browser
 * records what the server sends a late joiner: header flags, configs, first keyframe.
 *
 * Audio-only and video-only fixtures check the FLV header flags the server writes: mpegts.js follows
 * them, and a flag for a track that never comes leaves it waiting for that track.
 *
 * The cases run concurrently, each with its own App on its own port and one shared browser.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import type { MediaPacket } from '../core/media/packet.js';
import { startLiveApp } from './helpers/live-app.js';
import { BrowserHarness, describePlayback, type PlayResult } from './helpers/browser.js';
import { pacedFlvTags } from './helpers/paced-flv.js';

type Context = { browser: BrowserHarness };
type T = ExecutionContext<Context>;
const test = anyTest as TestFn<Context>;
const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

/** How late the player joins after the stream goes live, ms. */
const JOIN_DELAY_MS = 1000;
/** Playback must advance this much (media seconds) ... */
const ADVANCE_SECONDS = 3;
/** ... within this many wall seconds after its first frame (real time is 3; the slack is for loaded CI machines). */
const MAX_WATCH_SECONDS = 6;

test.before(async (t) => {
  t.context.browser = await BrowserHarness.launch();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

const PIPELINE = (source: string) => `
server:
  host: 127.0.0.1
  port: 0
pipelines:
  live:
    source: ${source}
    stages: [flv-demux, timestamps]
    sinks: [ws-play, http-play]
`;

/** Start the live pipeline with `source` on 127.0.0.1, port 0; stopped by teardown. Returns the port. */
async function startLive(t: T, source: string): Promise<number> {
  const live = await startLiveApp(PIPELINE(source));
  t.teardown(() => live.stop().then(() => undefined));
  const address = live.server.address();
  if (!address) throw new Error('live server did not report an address');
  return address.port;
}

/** Publish `file` in real time over WebSocket (subprotocol `publisher`); stopped by teardown. */
async function publishWs(t: T, url: string, file: string): Promise<void> {
  const abort = new AbortController();
  const socket = new WebSocket(url, 'publisher');
  t.teardown(() => {
    abort.abort();
    socket.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`publisher refused: HTTP ${res.statusCode}`)));
  });
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  void (async () => {
    for await (const { header, tag } of pacedFlvTags(file, { signal: abort.signal })) {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (header) socket.send(header);
      socket.send(tag);
    }
  })().catch((error: unknown) => t.log(`publisher failed: ${String(error)}`));
}

/** Publish `file` in real time with `ffmpeg -re ... -f flv http://...` (an HTTP POST body); killed by teardown. */
function publishFfmpeg(t: T, url: string, file: string): void {
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d));
  ffmpeg.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) t.log(`ffmpeg publisher exited ${code}: ${stderr.trim()}`);
  });
  t.teardown(() => {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
  });
}

/** Resolves once the stream is live: a GET on its HTTP-FLV URL stops answering 404 (the publisher is in). */
async function waitForStream(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const abort = new AbortController();
    const response = await fetch(url, { signal: abort.signal });
    abort.abort(); // the headers are enough
    if (response.status === 200) return;
    if (response.status !== 404 || Date.now() > deadline) throw new Error(`stream ${url} not live: HTTP ${response.status}`);
    await delay(100);
  }
}

interface Wire {
  hasAudio: boolean;
  hasVideo: boolean;
  packets: MediaPacket[];
  /** WebSocket close code if the server closed the player; 'end' when an HTTP response ended. */
  closed?: number | 'end';
}

/**
 * A raw player beside the browser: records what the server sends a late joiner (header flags, the
 * first tags) and whether data keeps flowing, until `stop()`.
 */
async function recordPlayer(url: string): Promise<{ stop(): Promise<Wire> }> {
  const demuxer = new FlvDemuxer();
  const packets: MediaPacket[] = [];
  let closed: Wire['closed'];
  let finish: () => void;
  if (url.startsWith('ws:')) {
    const socket = new WebSocket(url);
    socket.on('message', (data: Buffer) => packets.push(...demuxer.push(data)));
    socket.on('close', (code) => (closed = code));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    finish = () => socket.terminate();
  } else {
    const abort = new AbortController();
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP player refused: ${response.status}`);
    const reader = response.body.getReader();
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        packets.push(...demuxer.push(Buffer.from(value)));
      }
      closed = 'end';
    })().catch(() => undefined);
    finish = () => abort.abort();
  }
  return {
    async stop() {
      finish();
      const header = demuxer.header;
      if (!header) throw new Error(`no FLV header received${closed !== undefined ? ` (closed: ${closed})` : ''}`);
      return { hasAudio: header.hasAudio, hasVideo: header.hasVideo, packets, closed };
    },
  };
}

function describeWire(wire: Wire): string {
  const media = wire.packets.filter((p) => p.kind !== 'script' && !p.config);
  const span = media.length ? `media dts ${media[0]!.dts}..${media.at(-1)!.dts} in ${media.length} tags` : 'no media';
  return `first tags: ${describeFirstTags(wire.packets)}; ${span}${wire.closed !== undefined ? `; closed: ${wire.closed}` : ''}`;
}

function describeFirstTags(packets: MediaPacket[], n = 6): string {
  return packets
    .slice(0, n)
    .map((p) => `${p.kind}${p.config ? '(config)' : ''}${p.kind === 'video' && !p.config ? (p.keyframe ? '(key)' : '(inter)') : ''}@${p.dts}`)
    .join(' ');
}

interface Case {
  title: string;
  /** Publisher and source: a WebSocket client to ws-publish, or ffmpeg POSTing to http-publish. */
  publish: 'ws' | 'ffmpeg-http';
  /** Which play sink the browser uses: ws-play (WebSocket) or http-play (fetch, cross-origin). */
  play: 'ws' | 'http';
  fixture: string;
  hasAudio: boolean;
  hasVideo: boolean;
  width: number;
  height: number;
}

const CASES: Case[] = [
  { title: 'H.264 + AAC 640x360', publish: 'ws', play: 'ws', fixture: 'h264-aac-360p30-10s.flv', hasAudio: true, hasVideo: true, width: 640, height: 360 },
  { title: 'AAC only', publish: 'ws', play: 'ws', fixture: 'aac-only-10s.flv', hasAudio: true, hasVideo: false, width: 0, height: 0 },
  { title: 'H.264 only 320x240', publish: 'ws', play: 'ws', fixture: 'h264-only-240p25-10s.flv', hasAudio: false, hasVideo: true, width: 320, height: 240 },
  { title: 'H.264 + AAC 640x360', publish: 'ffmpeg-http', play: 'http', fixture: 'h264-aac-360p30-10s.flv', hasAudio: true, hasVideo: true, width: 640, height: 360 },
];

for (const c of CASES) {
  const source = c.publish === 'ws' ? 'ws-publish' : 'http-publish';
  test(`Chromium joins a live ${source} -> ${c.play}-play stream late and plays it: ${c.title}`, async (t) => {
    // Page first: on a loaded machine opening it takes seconds, which must not delay the join.
    const [port, player] = await Promise.all([startLive(t, source), t.context.browser.openPlayer()]);
    t.teardown(() => player.close());
    const file = join(FIXTURES, c.fixture);
    // Taken before the first tag can leave, so (now - publishedAt) bounds the media time published.
    const publishedAt = Date.now();
    if (c.publish === 'ws') await publishWs(t, `ws://127.0.0.1:${port}/live/x.flv`, file);
    else publishFfmpeg(t, `http://127.0.0.1:${port}/live/x.flv`, file);
    await waitForStream(`http://127.0.0.1:${port}/live/x.flv`);
    await delay(JOIN_DELAY_MS);
    const url = `${c.play}://127.0.0.1:${port}/live/x.flv`;

    const recorder = await recordPlayer(url);
    const result = await player.play(url, {
      isLive: true,
      seconds: MAX_WATCH_SECONDS,
      untilAdvanced: ADVANCE_SECONDS,
      screenshot: `browser-play-${c.publish}-${c.play}-${c.fixture}`,
    });
    const wire = await recorder.stop();
    const summary = describePlayback(result);
    t.log(summary);
    t.log(`wire (${((Date.now() - publishedAt) / 1000).toFixed(2)} s after publishing): flags audio=${wire.hasAudio} video=${wire.hasVideo}; ${describeWire(wire)}`);

    // The header the server writes says exactly which tracks the stream has.
    t.deepEqual({ hasAudio: wire.hasAudio, hasVideo: wire.hasVideo }, { hasAudio: c.hasAudio, hasVideo: c.hasVideo }, 'FLV header flags');
    // A late joiner starts decodable: configs first, then (with video) a keyframe.
    const firstMedia = wire.packets.find((p) => p.kind !== 'script' && !p.config);
    if (c.hasVideo) {
      const firstVideo = wire.packets.find((p) => p.kind === 'video' && !p.config);
      t.true(firstVideo?.keyframe, `first video frame should be a keyframe: ${describeFirstTags(wire.packets)}`);
      const configIndex = wire.packets.findIndex((p) => p.kind === 'video' && p.config);
      t.true(configIndex >= 0 && configIndex < wire.packets.indexOf(firstVideo!), 'AVC sequence header before the first frame');
    }
    if (c.hasAudio) {
      const configIndex = wire.packets.findIndex((p) => p.kind === 'audio' && p.config);
      const firstAudio = wire.packets.findIndex((p) => p.kind === 'audio' && !p.config);
      t.true(configIndex >= 0 && configIndex < firstAudio, 'AAC sequence header before the first frame');
    }
    t.truthy(firstMedia, 'media reached the player');

    assertPlayback(t, result, c, summary);
    // Real time: the player cannot be further into the stream than the publisher has got.
    const publishedSeconds = (Date.now() - publishedAt) / 1000;
    t.true(result.currentTimeEnd <= publishedSeconds + 0.5, `currentTime ${result.currentTimeEnd} beyond the ${publishedSeconds.toFixed(2)} s published: ${summary}`);
  });
}

function assertPlayback(t: T, result: PlayResult, c: Case, summary: string): void {
  t.deepEqual(result.errors, [], summary);
  t.is(result.videoWidth, c.width, summary);
  t.is(result.videoHeight, c.height, summary);
  const advanced = result.currentTimeEnd - result.currentTimeStart;
  t.true(advanced >= ADVANCE_SECONDS, `currentTime should advance ${ADVANCE_SECONDS} s within ${MAX_WATCH_SECONDS} s: ${summary}`);
  t.like(result.mediaInfo, { hasAudio: c.hasAudio, hasVideo: c.hasVideo }, summary);
}
