/**
 * The `snapshot` sink: a JPEG of each stream's latest keyframe, served by the API and shown as the
 * stream's thumbnail in the web page (headless Chromium, screenshot in test-results/).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { METRICS } from '../core/metrics.js';
import { runningChildren } from '../core/process/child.js';
import { jpegSize } from '../core/snapshot/keyframe-jpeg.js';
import { tempDir } from './helpers/app.js';
import { BrowserHarness, RESULTS_DIR } from './helpers/browser.js';
import { eventually, publishLoop, request, startHttpYaml } from './helpers/http-app.js';

const env = { HOST: '127.0.0.1', PORT: '0', RTMP_PORT: '0' };

async function fetchJpeg(base: string, key: string): Promise<Buffer | undefined> {
  const res = await fetch(`${base}/api/streams/${key}/snapshot.jpg`);
  if (res.status !== 200) return undefined;
  if (res.headers.get('content-type') !== 'image/jpeg') throw new Error(`content-type ${res.headers.get('content-type')}`);
  return Buffer.from(await res.arrayBuffer());
}

test.serial('examples/thumbnails.yaml: the API serves a 320-wide JPEG of the latest keyframe; the web page shows it', async (t) => {
  const live = await startHttpYaml(readFileSync('examples/thumbnails.yaml', 'utf8'), env);
  const base = live.url('http');
  const browser = await BrowserHarness.launch();
  try {
    t.is((await request(base, '/api/streams/live/none/snapshot.jpg')).status, 404);
    const publisher = await publishLoop(`${live.url('ws')}/live/studio.flv`);
    t.teardown(() => publisher.stop());
    const jpeg = await eventually(() => fetchJpeg(base, 'live/studio'), 20_000, 'a snapshot');
    t.deepEqual(jpegSize(jpeg), { width: 320, height: 180 });
    const { json } = await request(base, '/api/streams');
    const summary = json.streams.find((s: { key: string }) => s.key === 'live/studio');
    t.is(summary.snapshot.url, '/api/streams/live/studio/snapshot.jpg');
    t.is(summary.snapshot.width, 320);

    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`, { waitUntil: 'load' });

    await page.waitForFunction(
      () => {
        const img = document.querySelector('button.stream[data-key="live/studio"] img.thumb') as HTMLImageElement | null;
        return !!img && !img.hidden && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 30_000, polling: 250 },
    );
    const natural = await page.evaluate(() => {
      const img = document.querySelector('button.stream[data-key="live/studio"] img.thumb') as HTMLImageElement;
      return { width: img.naturalWidth, height: img.naturalHeight };
    });
    t.deepEqual(natural, { width: 320, height: 180 });
    t.deepEqual(errors, []);
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'web-page-thumbnails.png'), fullPage: true });
    await context.close();
  } finally {
    await browser.close();
    await live.stop();
  }
  t.is(runningChildren(), 0);
});

test.serial('a failing snapshot decode is counted and logged; the stream and its players go on', async (t) => {
  const dir = tempDir();
  const fake = join(dir, 'broken-ffmpeg');
  writeFileSync(fake, '#!/bin/sh\ncat > /dev/null; echo "decoder exploded" >&2; exit 1\n');
  chmodSync(fake, 0o755);
  const app = await startHttpYaml(`server: { host: 127.0.0.1, port: 0, api: {} }
pipelines:
  live:
    source: publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: play, transports: [ws, http] }, { type: snapshot, ffmpeg: ${fake}, everySeconds: 1 }]
`);
  try {
    const publisher = await publishLoop(`${app.url('ws')}/live/cam.flv`);
    t.teardown(() => publisher.stop());
    const metrics = app.app.container.get(METRICS);
    await eventually(async () => /wsflv_snapshots_total\{outcome="failed"\} [1-9]/.test(await metrics.scrape()), 20_000, 'a failed snapshot counted');
    t.is((await request(app.url('http'), '/api/streams/live/cam/snapshot.jpg')).status, 404);
    const player = await fetch(`${app.url('http')}/live/cam.flv`);
    t.is(player.status, 200);
    const reader = player.body!.getReader();
    const first = await reader.read();
    t.true((first.value?.length ?? 0) > 0);
    await reader.cancel();
  } finally {
    await app.stop();
  }
});
