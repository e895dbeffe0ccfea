/**
 * The browser harness on its own, before it is pointed at the product: a minimal WebSocket server in
 * this file sends an FLV fixture paced in real time (header first, one tag per message) to whoever
 * connects, and headless Chromium plays it with mpegts.js.
 */
import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { describePlayback, openBrowser } from './helpers/browser.js';
import { pacedFlvTags } from './helpers/paced-flv.js';

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

test('Chromium plays a real-time WebSocket-FLV stream (H.264 640x360 + AAC) with mpegts.js', async (t) => {
  const server = await serveFlvOverWebSocket(join(FIXTURES, 'h264-aac-360p30-10s.flv'));
  t.teardown(() => server.close());
  const browser = await openBrowser(t);

  const result = await browser.playInBrowser(server.url, { seconds: 4, isLive: true, screenshot: 'browser-harness-360p' });
  t.log(describePlayback(result));

  t.deepEqual(result.errors, [], describePlayback(result));
  t.is(result.videoWidth, 640);
  t.is(result.videoHeight, 360);
  t.true(result.currentTimeEnd - result.currentTimeStart >= 2, describePlayback(result));
  // Real-time source: playback cannot run far ahead of the wall clock.
  t.true(result.currentTimeEnd - result.currentTimeStart <= 4 + 1.5, describePlayback(result));
  t.deepEqual(result.mediaInfo && { hasAudio: result.mediaInfo.hasAudio, hasVideo: result.mediaInfo.hasVideo }, { hasAudio: true, hasVideo: true });
});
