/**
 * The browser harness on its own, before it is pointed at the product: a minimal WebSocket server in
 * this file sends an FLV fixture paced in real time (header first, one tag per message) to whoever
 * connects, and headless Chromium plays it with mpegts.js.
 */
import anyTest, { type TestFn } from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { BrowserHarness, describePlayback } from './helpers/browser.js';
import { pacedFlvTags } from './helpers/paced-flv.js';

const test = anyTest as TestFn<{ browser: BrowserHarness }>;
const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

/** A WebSocket server on 127.0.0.1 that streams `file` to each client from its start, in real time. */
async function serveFlvOverWebSocket(file: string): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const aborts = new Set<AbortController>();
  wss.on('connection', (socket: WebSocket) => {
    const abort = new AbortController();
    aborts.add(abort);
    socket.on('close', () => abort.abort());
    socket.on('error', () => abort.abort());
    void (async () => {
      for await (const { header, tag } of pacedFlvTags(file, { signal: abort.signal })) {
        if (socket.readyState !== socket.OPEN) break;
        if (header) socket.send(header);
        socket.send(tag);
      }
      if (socket.readyState === socket.OPEN) socket.close(1000, 'end of file');
    })().finally(() => aborts.delete(abort));
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/live/test.flv`,
    close: async () => {
      for (const a of aborts) a.abort();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

interface Case {
  fixture: string;
  title: string;
  width: number;
  height: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

const CASES: Case[] = [
  { fixture: 'h264-aac-360p30-10s.flv', title: 'H.264 640x360 + AAC', width: 640, height: 360, hasAudio: true, hasVideo: true },
  { fixture: 'aac-only-10s.flv', title: 'AAC only', width: 0, height: 0, hasAudio: true, hasVideo: false },
  { fixture: 'h264-only-240p25-10s.flv', title: 'H.264 320x240 only', width: 320, height: 240, hasAudio: false, hasVideo: true },
];

// One browser for the file; the cases run concurrently, each in its own browser context.
test.before(async (t) => {
  t.context.browser = await BrowserHarness.launch();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

for (const c of CASES) {
  test(`Chromium plays a real-time WebSocket-FLV stream with mpegts.js: ${c.title}`, async (t) => {
    const server = await serveFlvOverWebSocket(join(FIXTURES, c.fixture));
    t.teardown(() => server.close());

    const before = Date.now();
    const result = await t.context.browser.playInBrowser(server.url, { seconds: 4, isLive: true, screenshot: `browser-harness-${c.fixture}` });
    const summary = describePlayback(result);
    t.log(summary);

    t.deepEqual(result.errors, [], summary);
    t.is(result.videoWidth, c.width, summary);
    t.is(result.videoHeight, c.height, summary);
    const advanced = result.currentTimeEnd - result.currentTimeStart;
    t.true(advanced >= 2, summary);
    // Real-time source, streamed from its start on connect: playback cannot get ahead of the wall clock.
    const streamedSeconds = (Date.now() - before) / 1000;
    t.true(result.currentTimeEnd <= streamedSeconds + 0.5, `currentTime ${result.currentTimeEnd} beyond ${streamedSeconds.toFixed(2)} s streamed: ${summary}`);
    t.like(result.mediaInfo, { hasAudio: c.hasAudio, hasVideo: c.hasVideo }, summary);
  });
}

test('the harness reports a stream that never starts, and closes cleanly', async (t) => {
  // A server that accepts and then says nothing: startup must time out with an error, not hang.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  t.teardown(() => {
    for (const client of wss.clients) client.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  const { port } = wss.address() as AddressInfo;
  const result = await t.context.browser.playInBrowser(`ws://127.0.0.1:${port}/live/silent.flv`, { seconds: 1, isLive: true, startupTimeoutMs: 1500 });
  t.is(result.startupMs, -1);
  t.true(result.errors.some((e) => e.includes('did not start')), result.errors.join(' | '));
});
