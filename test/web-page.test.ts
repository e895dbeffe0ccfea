/**
 * The streams page in headless Chromium, served by the live server itself: with a publisher live, the
 * page lists the stream (codecs, resolution), plays it with mpegts.js when clicked (640x360, time
 * advancing), shows its play URLs; screenshots at desktop and phone size go to test-results/.
 * Also: the files are served with their content types, and a token-protected API asks for the token.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import type { BrowserContext, Page } from 'playwright-core';
import { mpegtsDistDir } from '../core/http/web.js';
import { BrowserHarness, RESULTS_DIR } from './helpers/browser.js';
import { httpFeatures, publishLoop, request, startHttpApp } from './helpers/http-app.js';
import type { LiveApp } from './helpers/live-app.js';

type Context = { browser: BrowserHarness };
const test = anyTest as TestFn<Context>;
type T = ExecutionContext<Context>;

test.before(async (t) => {
  t.context.browser = await BrowserHarness.launch();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

async function live(t: T, server = httpFeatures()): Promise<LiveApp> {
  const app = await startHttpApp(server);
  t.teardown(() => app.stop().then(() => undefined));
  return app;
}

async function publish(t: T, app: LiveApp, key: string): Promise<void> {
  const pub = await publishLoop(`${app.url('ws')}/${key}.flv`);
  t.teardown(() => pub.stop());
}

/** A page in its own context; page errors and console errors are collected for the final check. */
async function openPage(t: T, options: Parameters<BrowserHarness['browser']['newContext']>[0]): Promise<{ page: Page; errors: string[]; context: BrowserContext }> {
  const context = await t.context.browser.browser.newContext(options);
  t.teardown(() => context.close().catch(() => undefined));
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  return { page, errors, context };
}

interface VideoState {
  width: number;
  height: number;
  time: number;
  readyState: number;
}

const videoState = (page: Page) =>
  page.evaluate((): VideoState => {
    const v = document.getElementById('video') as HTMLVideoElement;
    return { width: v.videoWidth, height: v.videoHeight, time: v.currentTime, readyState: v.readyState };
  });

/** Wait for the video to be playing at 640x360, then check that its time moves on. */
async function assertPlaying(t: T, page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const v = document.getElementById('video') as HTMLVideoElement;
      return v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > 0;
    },
    undefined,
    { timeout: 40_000, polling: 200 },
  );
  const first = await videoState(page);
  t.is(first.width, 640);
  t.is(first.height, 360);
  await page.waitForTimeout(2000);
  const later = await videoState(page);
  t.true(later.time > first.time + 0.5, `currentTime ${first.time.toFixed(2)} -> ${later.time.toFixed(2)}`);
}

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

test('the page lists the live stream and plays it with mpegts.js; desktop and phone screenshots', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  await publish(t, app, 'live/studio');

  // Desktop.
  const desktop = await openPage(t, { viewport: { width: 1280, height: 800 } });
  await desktop.page.goto(`${base}/`, { waitUntil: 'load' });
  t.is(await desktop.page.title(), 'wsflv · live streams');
  const item = desktop.page.locator('button.stream[data-key="live/studio"]');
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  // Track details arrive with the publisher's configurations; the list refreshes every 2 s.
  await desktop.page.waitForFunction(
    () => /H\.264 Main · 640×360/.test(document.querySelector('button.stream[data-key="live/studio"]')?.textContent ?? ''),
    undefined,
    { timeout: 30_000, polling: 250 },
  );
  const text = (await item.textContent()) ?? '';
  t.regex(text, /live\/studio/);
  t.regex(text, /AAC LC · 44\.1 kHz · mono/);
  t.regex(text, /\d [kM]b\/s in/);
  t.is(await desktop.page.locator('#stream-count').textContent(), '1');

  await item.click();
  await assertPlaying(t, desktop.page);
  t.is(await desktop.page.locator('#url-ws').textContent(), `${app.url('ws')}/live/studio.flv`);
  t.is(await desktop.page.locator('#url-http').textContent(), `${base}/live/studio.flv`);
  t.is(await desktop.page.locator('#now-name').textContent(), 'live/studio');
  t.regex((await desktop.page.locator('#cmd-test').textContent()) ?? '', new RegExp(`-f flv ${base}/live/cam1\\.flv`));
  // The server sees the browser as a WebSocket player of the stream; the list counts it.
  const detail = (await request(base, '/api/streams/live/studio')).json;
  t.true(detail.players.some((p: { transport: string }) => p.transport === 'ws'));
  await desktop.page.waitForFunction(() => /1 player\b/.test(document.querySelector('button.stream[data-key="live/studio"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await desktop.page.waitForTimeout(600); // the playback figures refresh twice a second
  const desktopShot = await screenshot(desktop.page, 'web-page.png');
  t.true(statSync(desktopShot).size > 10_000);

  // Phone: tap the stream, it plays there too.
  const phone = await openPage(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.page.goto(`${base}/`, { waitUntil: 'load' });
  const phoneItem = phone.page.locator('button.stream[data-key="live/studio"]');
  await phoneItem.waitFor({ state: 'visible', timeout: 30_000 });
  await phoneItem.tap();
  await assertPlaying(t, phone.page);
  // Nothing is wider than the screen.
  t.is(await phone.page.evaluate(() => document.documentElement.scrollWidth), 390);
  await phone.page.evaluate(() => window.scrollTo(0, 0));
  await phone.page.waitForTimeout(600);
  await screenshot(phone.page, 'web-page-phone.png');

  // Ended through the API: the page stops playing and says so.
  t.is((await request(base, '/api/streams/live/studio', { method: 'DELETE' })).status, 200);
  await desktop.page.waitForFunction(() => /is not live/.test(document.getElementById('screen-text')?.textContent ?? ''), undefined, { timeout: 20_000, polling: 250 });
  t.true(await desktop.page.locator('#screen-message').isVisible());
  t.is(await desktop.page.locator('#stream-count').textContent(), '0');
  t.true(await desktop.page.locator('#stream-empty').isVisible());

  t.deepEqual([...desktop.errors, ...phone.errors], []);
});

test('page files are served with their content types; mpegts.js comes from the installed package', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  const page = await request(base, '/');
  t.is(page.status, 200);
  t.is(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.regex(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  t.regex(page.text, /<script src="\/vendor\/mpegts\.js"><\/script>/);
  t.is((await request(base, '/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.is((await request(base, '/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
  t.is((await request(base, '/favicon.svg')).headers.get('content-type'), 'image/svg+xml');

  const vendor = await fetch(`${base}/vendor/mpegts.js`);
  t.is(vendor.status, 200);
  t.is(vendor.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.is((await vendor.arrayBuffer()).byteLength, statSync(join(mpegtsDistDir(), 'mpegts.js')).size);

  const etag = page.headers.get('etag')!;
  const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag } });
  t.is(again.status, 304);
  t.is((await request(base, '/nothing-here')).status, 404);
  t.is((await request(base, '/vendor/../package.json')).status, 404);
  t.is((await request(base, '/vendor/mpegts.d.ts')).status, 404);
  t.is((await request(base, '/', { method: 'POST' })).status, 405);
  // Stream URLs are still the listener's own.
  t.is((await request(base, '/live/none.flv')).status, 404);
});

test('with an API token, the page asks for it and then lists the streams', async (t) => {
  const app = await live(t, httpFeatures({ token: 'page-token-123' }));
  const base = app.url('http');
  await publish(t, app, 'live/locked');
  const { page, errors } = await openPage(t, { viewport: { width: 1024, height: 700 } });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  const dialog = page.locator('#token-dialog');
  await dialog.waitFor({ state: 'visible', timeout: 30_000 });
  await page.locator('#token-input').fill('page-token-123');
  await page.locator('#token-form button[type="submit"]').click();
  await page.locator('button.stream[data-key="live/locked"]').waitFor({ state: 'visible', timeout: 30_000 });
  t.is(await page.locator('#status').getAttribute('data-state'), 'ok');
  // The refused first poll is the one console error a browser logs (the 401); nothing else.
  t.deepEqual(errors.filter((e) => !/401/.test(e)), []);
});

test('the Publish panel shows the RTMP command and OBS settings, and a signed key when the app asks for one', async (t) => {
  const app = await live(t, `${httpFeatures()}
  rtmp: { port: 0 }
  auth:
    apps:
      live: { publishSecret: page-publish-secret-123 }`);
  const { RTMP_SERVER } = await import('../core/rtmp/server.js');
  const rtmp = new URL(app.app.container.get(RTMP_SERVER).url());
  const { page, errors } = await openPage(t, { viewport: { width: 1024, height: 900 } });
  await page.goto(`${app.url('http')}/`, { waitUntil: 'load' });
  await page.locator('#rtmp-block').waitFor({ state: 'visible', timeout: 30_000 });
  t.is(await page.locator('#obs-server').textContent(), `rtmp://127.0.0.1:${rtmp.port}/live`);
  t.regex((await page.locator('#cmd-rtmp').textContent()) ?? '', new RegExp(`-f flv rtmp://127\\.0\\.0\\.1:${rtmp.port}/live/cam1$`));
  t.is(await page.locator('#obs-key').textContent(), 'cam1?expires=…&sign=…');
  t.true(await page.locator('#obs-sign').isVisible());
  await page.locator('#publish-key').fill('other/show');
  t.is(await page.locator('#obs-key').textContent(), 'show', 'an app without a publish secret takes a plain key');
  t.false(await page.locator('#obs-sign').isVisible());
  t.deepEqual(errors, []);
});
