/**
 * Real-browser playback for tests: headless Debian Chromium driven by playwright-core, playing a
 * live FLV URL with mpegts.js (Media Source Extensions), as a web page would.
 *
 *   const browser = await openBrowser(t);            // closed by t.teardown
 *   const result = await browser.playInBrowser('ws://127.0.0.1:1234/live/x.flv', { seconds: 4, isLive: true });
 *
 * The test page is served from a loopback HTTP server (127.0.0.1, port 0) and loads mpegts.js from
 * node_modules. Each playback gets its own browser context and page, closed when it returns.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MPEGTS_JS = join(ROOT, 'node_modules', 'mpegts.js', 'dist', 'mpegts.js');
export const RESULTS_DIR = join(ROOT, 'test-results');
export const CHROMIUM_PATH = process.env.WSFLV_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // Several pages play at once; none of them may be throttled as a background tab.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * mpegts.js configuration for live, low-latency playback: no stash buffer (data goes to the demuxer
 * as it arrives), no lazy loading, and latency chasing so a late joiner that receives a GOP-cache
 * burst jumps to the live edge rather than playing behind it.
 */
export const LIVE_PLAYER_CONFIG = {
  enableWorker: false,
  enableStashBuffer: false,
  stashInitialSize: 128 * 1024,
  isLive: true,
  lazyLoad: false,
  deferLoadAfterSourceOpen: false,
  liveBufferLatencyChasing: true,
  liveBufferLatencyMaxLatency: 1.5,
  liveBufferLatencyMinRemain: 0.3,
  autoCleanupSourceBuffer: true,
  statisticsInfoReportInterval: 250,
} as const;

export interface PlayOptions {
  /** Wall-clock seconds to watch playback for, counted from the first frame played (at most, with `untilAdvanced`). */
  seconds: number;
  isLive: true;
  /** Passed to mpegts.js only when given; otherwise it follows the FLV header's flags. */
  hasAudio?: boolean;
  hasVideo?: boolean;
  /** How long to wait for playback to start (ms); a stall here is reported in `errors`. Default 10 s. */
  startupTimeoutMs?: number;
  /** Overrides merged into LIVE_PLAYER_CONFIG. */
  config?: Record<string, unknown>;
  /** Save a PNG of the page at the end under test-results/<screenshot>.png. */
  screenshot?: string;
  /** Stop watching early once currentTime has advanced this many seconds (within `seconds`). */
  untilAdvanced?: number;
  /** Sampling interval for currentTime (ms). Default 250. */
  sampleIntervalMs?: number;
}

export interface PlaybackSample {
  /** Wall-clock ms since playback started. */
  wallMs: number;
  currentTime: number;
  readyState: number;
  paused: boolean;
  /** Buffered end minus currentTime (s): the player's latency behind what it has received. */
  bufferAhead: number;
}

export interface PlayResult {
  videoWidth: number;
  videoHeight: number;
  /** currentTime when playback started (first `playing` with currentTime advancing), s. */
  currentTimeStart: number;
  /** currentTime after `seconds` of wall time, s. */
  currentTimeEnd: number;
  /** Wall ms from player.load() to playback start, or -1 if it never started. */
  startupMs: number;
  samples: PlaybackSample[];
  /** mpegts.js ERROR events, the video element's error, page errors and failed play(). */
  errors: string[];
  /** mpegts.js log lines at warn/error level, and page console errors. */
  log: string[];
  /** Other notable events: loading-complete (the server closed the stream), ended. */
  events: string[];
  /** The last mpegts.js STATISTICS_INFO. */
  statistics: Record<string, unknown> | null;
  mediaInfo: Record<string, unknown> | null;
  /** video.getVideoPlaybackQuality() at the end. */
  quality: { totalVideoFrames: number; droppedVideoFrames: number } | null;
  screenshotPath?: string;
  /** Wall ms per phase: opening the page (context, page, load), startup, watching, screenshot. */
  timings: { openMs: number; startupMs: number; watchMs: number; screenshotMs: number };
}

/** Runs in the page: the player, its event collection and sampling, under window.__wsflv. */
const PAGE_SCRIPT = String.raw`
(function () {
  var video = document.getElementById('v');
  var state = { errors: [], log: [], events: [], mediaInfo: null, statistics: null, player: null };
  window.__wsflv = state;
  mpegts.LoggingControl.applyConfig({ enableAll: false, enableError: true, enableWarn: true });
  mpegts.LoggingControl.addLogListener(function (type, str) {
    if (type === 'error' || type === 'warn') state.log.push('mpegts ' + type + ': ' + str);
  });
  video.addEventListener('error', function () {
    var e = video.error;
    state.errors.push('video error: code ' + (e ? e.code : '?') + ' ' + (e ? e.message : ''));
  });
  video.addEventListener('ended', function () { state.events.push('ended'); });
  window.addEventListener('unhandledrejection', function (ev) { state.errors.push('unhandled rejection: ' + ev.reason); });

  state.start = function (source, config) {
    if (!mpegts.isSupported()) { state.errors.push('mpegts.js: MSE playback not supported'); return; }
    var player = mpegts.createPlayer(source, config);
    state.player = player;
    player.on(mpegts.Events.ERROR, function (type, detail, info) {
      state.errors.push('mpegts ' + type + ' / ' + detail + ': ' + JSON.stringify(info));
    });
    player.on(mpegts.Events.MEDIA_INFO, function (info) { state.mediaInfo = JSON.parse(JSON.stringify(info)); });
    player.on(mpegts.Events.STATISTICS_INFO, function (s) { state.statistics = s; });
    player.on(mpegts.Events.LOADING_COMPLETE, function () { state.events.push('loading-complete'); });
    player.attachMediaElement(video);
    player.load();
    var p = player.play();
    if (p && p.catch) p.catch(function (e) { state.errors.push('play() rejected: ' + e); });
  };

  state.sample = function () {
    var b = video.buffered;
    var end = b.length ? b.end(b.length - 1) : video.currentTime;
    return {
      currentTime: video.currentTime,
      readyState: video.readyState,
      paused: video.paused,
      bufferAhead: Math.max(0, end - video.currentTime),
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
    };
  };

  state.finish = function () {
    var q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    return {
      errors: state.errors.slice(), log: state.log.slice(), events: state.events.slice(),
      mediaInfo: state.mediaInfo, statistics: state.statistics,
      quality: q ? { totalVideoFrames: q.totalVideoFrames, droppedVideoFrames: q.droppedVideoFrames } : null,
    };
  };

  state.stop = function () {
    var p = state.player;
    state.player = null;
    if (!p) return;
    try { p.pause(); } catch (e) {}
    try { p.unload(); } catch (e) {}
    try { p.detachMediaElement(); } catch (e) {}
    try { p.destroy(); } catch (e) {}
  };
})();
`;

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>wsflv playback test</title>
<style>body{margin:0;background:#222}video{width:640px;height:360px;background:#000}</style></head>
<body><video id="v" muted autoplay playsinline></video>
<script src="/mpegts.js"></script>
<script src="/page.js"></script>
</body></html>`;

interface PageSample {
  currentTime: number;
  readyState: number;
  paused: boolean;
  bufferAhead: number;
  videoWidth: number;
  videoHeight: number;
}

interface PageFinish {
  errors: string[];
  log: string[];
  events: string[];
  mediaInfo: Record<string, unknown> | null;
  statistics: Record<string, unknown> | null;
  quality: PlayResult['quality'];
}

/** The page's handle, as seen from page.evaluate (typed here; the page script defines it). */
interface PageState {
  start(source: Record<string, unknown>, config: Record<string, unknown>): void;
  sample(): PageSample;
  finish(): PageFinish;
  stop(): void;
}
type PageWindow = Window & { __wsflv: PageState };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Serve the test page and mpegts.js on 127.0.0.1, port 0. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const mpegts = readFileSync(MPEGTS_JS);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') send('text/html; charset=utf-8', PAGE_HTML);
    else if (path === '/mpegts.js') send('text/javascript; charset=utf-8', mpegts);
    else if (path === '/page.js') send('text/javascript; charset=utf-8', PAGE_SCRIPT);
    else if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

export class BrowserHarness {
  private closed = false;
  private readonly players = new Set<BrowserPlayer>();

  private constructor(
    readonly browser: Browser,
    private readonly server: Server,
    /** http://127.0.0.1:PORT of the test page server. */
    readonly origin: string,
  ) {}

  static async launch(): Promise<BrowserHarness> {
    const { server, origin } = await servePage();
    try {
      // playwright-core gives a non-persistent launch its own temporary --user-data-dir and removes it.
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
      return new BrowserHarness(browser, server, origin);
    } catch (error) {
      await closeServer(server);
      throw error;
    }
  }

  /**
   * A loaded test page in its own browser context, ready to play. Opening it before the stream starts
   * keeps page start-up (seconds on a loaded machine) out of the timing a test is about.
   */
  async openPlayer(): Promise<BrowserPlayer> {
    if (this.closed) throw new Error('BrowserHarness is closed');
    const began = Date.now();
    const context = await this.browser.newContext({ viewport: { width: 660, height: 380 } });
    const player = new BrowserPlayer(context, () => this.players.delete(player));
    this.players.add(player);
    try {
      await player.load(this.origin);
    } catch (error) {
      await player.close();
      throw error;
    }
    player.openMs = Date.now() - began;
    return player;
  }

  /** Open a page, play `url` with mpegts.js and watch it for `seconds` after the first frame, close. */
  async playInBrowser(url: string, options: PlayOptions): Promise<PlayResult> {
    const player = await this.openPlayer();
    try {
      return await player.play(url, options);
    } finally {
      await player.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.players].map((p) => p.close()));
    await this.browser.close().catch(() => {});
    await closeServer(this.server);
  }
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** One page with the player script loaded; plays one URL. */
export class BrowserPlayer {
  openMs = 0;
  private page: Page | undefined;
  private closed = false;
  private readonly pageErrors: string[] = [];
  private readonly consoleErrors: string[] = [];

  constructor(
    private readonly context: BrowserContext,
    private readonly onClose: () => void,
  ) {}

  async load(origin: string): Promise<void> {
    const page = await this.context.newPage();
    this.page = page;
    page.on('pageerror', (error) => this.pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(`console error: ${message.text()}`);
    });
    await page.goto(`${origin}/`, { waitUntil: 'load' });
  }

  /** Play `url` and watch it; the player is stopped (not the page) when this returns. */
  async play(url: string, options: PlayOptions): Promise<PlayResult> {
    const page = this.page;
    if (!page || this.closed) throw new Error('BrowserPlayer is not open');
    const source: Record<string, unknown> = { type: 'flv', isLive: true, url };
    if (options.hasAudio !== undefined) source.hasAudio = options.hasAudio;
    if (options.hasVideo !== undefined) source.hasVideo = options.hasVideo;
    const config = { ...LIVE_PLAYER_CONFIG, ...options.config };
    const interval = options.sampleIntervalMs ?? 250;
    const startupTimeoutMs = options.startupTimeoutMs ?? 10_000;
    const sample = () => page.evaluate(() => (window as unknown as PageWindow).__wsflv.sample());

    const loadAt = Date.now();
    await page.evaluate(([s, c]) => (window as unknown as PageWindow).__wsflv.start(s, c), [source, config] as const);
    try {
      // Startup: wait for currentTime to move (the first frame is being played).
      let first = await sample();
      let startupMs = -1;
      let previous = first.currentTime;
      while (Date.now() < loadAt + startupTimeoutMs) {
        await sleep(50);
        first = await sample();
        if (!first.paused && first.currentTime > previous) {
          startupMs = Date.now() - loadAt;
          break;
        }
        previous = first.currentTime;
      }

      const samples: PlaybackSample[] = [];
      const startedAt = Date.now();
      const record = (s: PageSample) =>
        samples.push({ wallMs: Date.now() - startedAt, currentTime: s.currentTime, readyState: s.readyState, paused: s.paused, bufferAhead: s.bufferAhead });
      record(first);
      let last = first;
      if (startupMs >= 0) {
        const end = startedAt + options.seconds * 1000;
        while (Date.now() < end) {
          await sleep(Math.min(interval, Math.max(0, end - Date.now())));
          last = await sample();
          record(last);
          if (options.untilAdvanced !== undefined && last.currentTime - first.currentTime >= options.untilAdvanced) break;
        }
      }
      const watchMs = Date.now() - startedAt;

      const screenshotAt = Date.now();
      let screenshotPath: string | undefined;
      if (options.screenshot) {
        mkdirSync(RESULTS_DIR, { recursive: true });
        screenshotPath = join(RESULTS_DIR, `${options.screenshot.replace(/[^\w.-]+/g, '_')}.png`);
        await page.screenshot({ path: screenshotPath });
      }
      const screenshotMs = Date.now() - screenshotAt;

      const finish = await page.evaluate(() => (window as unknown as PageWindow).__wsflv.finish());
      const errors = [...finish.errors, ...this.pageErrors];
      if (startupMs < 0) errors.push(`playback did not start within ${startupTimeoutMs} ms (readyState ${first.readyState}, currentTime ${first.currentTime})`);
      return {
        videoWidth: last.videoWidth,
        videoHeight: last.videoHeight,
        currentTimeStart: first.currentTime,
        currentTimeEnd: last.currentTime,
        startupMs,
        samples,
        errors,
        log: [...finish.log, ...this.consoleErrors],
        events: finish.events,
        statistics: finish.statistics,
        mediaInfo: finish.mediaInfo,
        quality: finish.quality,
        screenshotPath,
        timings: { openMs: this.openMs, startupMs: startedAt - loadAt, watchMs, screenshotMs },
      };
    } finally {
      await page.evaluate(() => (window as unknown as PageWindow).__wsflv.stop()).catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await this.context.close().catch(() => {});
  }
}

/** Launch a browser for this test; it (and its page server) is closed in the test's teardown. */
export async function openBrowser(t: ExecutionContext<unknown>): Promise<BrowserHarness> {
  const harness = await BrowserHarness.launch();
  t.teardown(() => harness.close());
  return harness;
}

/** One-shot: launch, play, close (also in teardown if the test is torn down mid-way). */
export async function playInBrowser(t: ExecutionContext<unknown>, url: string, options: PlayOptions): Promise<PlayResult> {
  const harness = await openBrowser(t);
  try {
    return await harness.playInBrowser(url, options);
  } finally {
    await harness.close();
  }
}

/** One line for assertion messages and t.log. */
export function describePlayback(result: PlayResult): string {
  const moved = (result.currentTimeEnd - result.currentTimeStart).toFixed(2);
  const stats = result.statistics as { decodedFrames?: number; droppedFrames?: number; speed?: number } | null;
  return [
    `${result.videoWidth}x${result.videoHeight}`,
    `currentTime ${result.currentTimeStart.toFixed(2)} -> ${result.currentTimeEnd.toFixed(2)} (+${moved} s)`,
    `startup ${result.startupMs} ms`,
    stats ? `decoded ${stats.decodedFrames ?? '?'} dropped ${stats.droppedFrames ?? '?'}` : 'no stats',
    result.errors.length ? `errors: ${result.errors.join(' | ')}` : 'no errors',
    result.log.length ? `log: ${result.log.slice(0, 5).join(' | ')}` : '',
    result.events.length ? `events: ${result.events.join(',')}` : '',
    `phases ms: ${Object.entries(result.timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v}`).join(', ')}`,
  ].filter(Boolean).join('; ');
}
