import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import test from 'ava';
import { CLOSE } from '../core/live/close.js';
import { RTMP_SERVER } from '../core/rtmp/server.js';
import { ffprobe } from './helpers/ffprobe.js';
import { startLiveApp, type LiveApp } from './helpers/live-app.js';
import { FIXTURE, fixture, parseFlv, RecordingSocket } from './helpers/live-clients.js';

const run = promisify(execFile);
const PLAYER = 'waitForPublisherMs: 15000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';
const frames = (data: Buffer) => parseFlv(data).packets.filter((p) => !p.config && p.kind !== 'script');

async function start(extraServer = ''): Promise<LiveApp & { rtmp: string }> {
  const live = await startLiveApp(`server:
  host: 127.0.0.1
  port: 0
  rtmp: { port: 0 }
${extraServer}
pipelines:
  live:
    source: publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: play, ${PLAYER} }]
`);
  return { ...live, rtmp: live.app.container.get(RTMP_SERVER).url() };
}

test('ffmpeg publishes over RTMP: a WebSocket player gets every frame, the same bodies as the file', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/cam.flv`);
  await player.opened;
  await run('ffmpeg', ['-v', 'error', '-i', FIXTURE, '-c', 'copy', '-f', 'flv', `${live.rtmp}/live/cam`], { timeout: 60_000 });
  t.is((await player.closed).code, CLOSE.streamEnded);
  const sent = frames(fixture());
  const got = frames(player.data);
  t.is(got.length, sent.length);
  t.true(got.every((p, i) => p.kind === sent[i]!.kind && p.body.equals(sent[i]!.body)), 'same frames, same bytes');
});

test('RTMP players: ffprobe reads a stream published over WebSocket, from a keyframe with both tracks', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const publisher = new RecordingSocket(`${live.url('ws')}/live/x.flv`, ['publisher']);
  await publisher.opened;
  // Paced roughly like a live source so the player joins mid-stream.
  const data = fixture();
  const pieces = Math.ceil(data.length / 16384);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= pieces) return;
    publisher.ws.send(data.subarray(sent * 16384, (sent + 1) * 16384));
    sent++;
  }, 30);
  t.teardown(() => clearInterval(timer));
  const probe = await ffprobe(`${live.rtmp}/live/x`, ['-read_intervals', '%+2']);
  const kinds = probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort();
  t.deepEqual(kinds, ['audio:aac', 'video:h264']);
  t.is(probe.streams.find((s) => s.codec_type === 'video')!.width, 640);
  clearInterval(timer);
  publisher.ws.close();
});

test('a refused RTMP publisher hears why; a malformed peer is cut while another stream goes on', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/ok.flv`);
  await player.opened;
  // Publishes until the end of the test, however slow the machine: the last check needs it still live.
  const good = spawn('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', FIXTURE, '-c', 'copy', '-f', 'flv', `${live.rtmp}/live/ok`], { stdio: 'ignore' });
  t.teardown(() => good.kill('SIGKILL'));
  await player.received(50_000, 15_000);
  // Same key again: busy.
  const busy = await run('ffmpeg', ['-v', 'error', '-re', '-i', FIXTURE, '-t', '2', '-c', 'copy', '-f', 'flv', `${live.rtmp}/live/ok`], { timeout: 30_000 }).catch((e: { stderr: string }) => e);
  t.log((busy as { stderr: string }).stderr);
  t.regex((busy as { stderr: string }).stderr ?? '', /already being published/);
  // Garbage after a valid handshake start: this connection only is cut.
  const { port } = new URL(live.rtmp);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536), Buffer.from([0xc5, 1, 2, 3])])));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
  const before = player.bytes;
  await player.received(before + 20_000, 15_000);
  t.pass();
});

test('signed URLs apply to RTMP: an unsigned publisher is refused as Unauthorized, a signed one gets in, a signed player plays', async (t) => {
  const { signUrl } = await import('../core/access/signed-url.js');
  const live = await start(`  auth:
    apps:
      live: { publishSecret: pub-secret-0123456789, playSecret: play-secret-0123456789 }`);
  t.teardown(() => live.stop());
  const unsigned = await run('ffmpeg', ['-v', 'error', '-re', '-i', FIXTURE, '-t', '1', '-c', 'copy', '-f', 'flv', `${live.rtmp}/live/s`], { timeout: 30_000 }).catch((e: { stderr: string }) => e);
  t.regex((unsigned as { stderr: string }).stderr ?? '', /signature required/);
  const expires = Math.floor(Date.now() / 1000) + 600;
  const signedPublish = signUrl(`${live.rtmp}/live/s`, 'pub-secret-0123456789', expires);
  const publisher = spawn('ffmpeg', ['-v', 'error', '-re', '-i', FIXTURE, '-c', 'copy', '-f', 'flv', signedPublish], { stdio: 'ignore' });
  t.teardown(() => publisher.kill('SIGKILL'));
  const signedPlay = signUrl(`${live.rtmp}/live/s`, 'play-secret-0123456789', expires);
  const probe = await ffprobe(signedPlay, ['-read_intervals', '%+1']);
  t.is(probe.streams.length, 2);
  const refused = await ffprobe(`${live.rtmp}/live/s`).catch((e: Error) => e);
  t.true(refused instanceof Error, 'an unsigned player is refused');
});
