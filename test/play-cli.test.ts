import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { CLOSE } from '../core/live/close.js';
import { tempDir } from './helpers/app.js';
import { runCli, startCli } from './helpers/cli.js';
import { livePipeline, startLiveApp, type LiveApp } from './helpers/live-app.js';
import { FIXTURE, fixture, parseFlv, RecordingSocket, sendInPieces } from './helpers/live-clients.js';

const run = promisify(execFile);
const SINK_OPTIONS = 'waitForPublisherMs: 20000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

function start(): Promise<LiveApp> {
  return startLiveApp(livePipeline({ sinks: ['ws-play', 'http-play'], sinkOptions: SINK_OPTIONS }));
}

async function probe(file: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout).streams as { codec_name: string; width?: number; height?: number }[]).map((s) => `${s.codec_name}${s.width ? ` ${s.width}x${s.height}` : ''}`);
}

for (const scheme of ['ws', 'http'] as const) {
  test.serial(`play ${scheme}:// --seconds records a well-formed FLV that ffprobe reads`, async (t) => {
    const live = await start();
    t.teardown(() => live.stop());
    const url = `${live.url(scheme)}/live/rec.flv`;
    const publisher = startCli(['publish', FIXTURE, `${live.url('ws')}/live/rec.flv`]);
    t.teardown(() => publisher.child.kill('SIGKILL'));
    const out = join(tempDir(), 'rec.flv');
    const result = await runCli(['play', url, '-o', out, '--seconds', '2.5']);
    t.is(result.code, 0, result.stderr);
    t.regex(result.stderr, /wsflv play: recorded [\d.]+ [kM]?B in [\d.]+ s to .*rec\.flv/);
    const recording = readFileSync(out);
    const { hasAudio, hasVideo, packets } = parseFlv(recording);
    t.true(hasAudio && hasVideo);
    t.true(packets.some((p) => p.kind === 'video' && p.keyframe && !p.config));
    // Cut on a tag boundary: the demuxer accepts the end of the file.
    t.notThrows(() => {
      const demuxer = new FlvDemuxer();
      demuxer.push(recording);
      demuxer.end();
    });
    t.deepEqual((await probe(out)).sort(), ['aac', 'h264 640x360']);
    publisher.child.kill('SIGINT');
    await publisher.result;
  });
}

test.serial('play ends with exit 0 when the server ends the stream, and says how it ended', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const out = join(tempDir(), 'whole.flv');
  const player = startCli(['play', `${live.url('ws')}/live/whole.flv`, '-o', out]);
  // Give the player time to connect, then publish the whole file at once.
  await waitForPlayers(live, 1);
  const publisher = new RecordingSocket(`${live.url('ws')}/live/whole.flv`, ['publisher']);
  await publisher.opened;
  const data = fixture();
  sendInPieces(publisher.ws, data, () => 64 * 1024);
  publisher.ws.close();
  const result = await player.result;
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, new RegExp(`server closed the connection: ${CLOSE.streamEnded}`));
  const got = parseFlv(readFileSync(out)).packets.filter((p) => p.kind !== 'script');
  const want = parseFlv(data).packets.filter((p) => p.kind !== 'script');
  t.is(got.length, want.length);
});

test.serial('play of a stream nobody publishes fails with exit 1 and the reason (ws 4404, http 404)', async (t) => {
  const live = await startLiveApp(livePipeline({ sinks: ['ws-play', 'http-play'] }));
  t.teardown(() => live.stop());
  const out = join(tempDir(), 'none.flv');
  const ws = await runCli(['play', `${live.url('ws')}/live/none.flv`, '-o', out]);
  t.is(ws.code, 1);
  t.regex(ws.stderr, /server closed the connection: 4404 no stream is being published at live\/none/);
  const http = await runCli(['play', `${live.url('http')}/live/none.flv`, '-o', out]);
  t.is(http.code, 1);
  t.regex(http.stderr, /server answered 404: no stream is being published at live\/none/);
});

test.serial('play usage errors exit 2', async (t) => {
  const result = await runCli(['play', 'ws://127.0.0.1:1/a/b.flv']);
  t.is(result.code, 2);
  t.regex(result.stderr, /-o FILE is required/);
});

async function waitForPlayers(live: LiveApp, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (live.server.connections().filter((c) => c.role === 'player').length < count) {
    if (Date.now() > deadline) throw new Error('the player never connected');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.serial('play to an output it cannot create is a one-line error and exit 1, not a crash', async (t) => {
  const result = await runCli(['play', 'ws://127.0.0.1:1/live/x.flv', '-o', join(tempDir(), 'missing-dir', 'x.flv')]);
  t.is(result.code, 1);
  t.regex(result.stderr, /wsflv play: cannot write .*missing-dir\/x\.flv: ENOENT/);
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
});

test.serial('play keeps what a server sends together with its handshake answer', async (t) => {
  // A server that sends its first media in the same instant as the 101 answer (as ours does for a
  // player joining a live stream): those messages must not be lost before play listens.
  const { WebSocketServer } = await import('ws');
  const { muxFlvHeader, muxTag } = await import('../core/flv/muxer.js');
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(() => server.close());
  const header = muxFlvHeader({ audio: true, video: false });
  const tag = muxTag({ kind: 'audio', dts: 0, body: Buffer.from([0xaf, 0x00, 0x12, 0x10]) });
  server.on('connection', (ws, req) => {
    req.socket.cork();
    ws.send(header);
    ws.send(tag);
    req.socket.uncork();
    setTimeout(() => ws.close(1000, 'done'), 200);
  });
  const out = join(tempDir(), 'early.flv');
  const result = await runCli(['play', `ws://127.0.0.1:${(server.address() as { port: number }).port}/live/x.flv`, '-o', out]);
  t.is(result.code, 0, result.stderr);
  t.true(readFileSync(out).equals(Buffer.concat([header, tag])));
});
