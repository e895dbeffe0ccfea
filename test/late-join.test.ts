import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { LIVE_REGISTRY } from '../core/live/registry.js';
import { CLOSE } from '../core/live/close.js';
import type { MediaPacket } from '../core/media/packet.js';
import { livePipeline, startLiveApp } from './helpers/live-app.js';
import { delay, FIXTURE, fixture, parseFlv, RecordingSocket } from './helpers/live-clients.js';

/**
 * The live server end to end with real clients only: ffmpeg publishes the fixture over HTTP in real
 * time, ffprobe reads the HTTP-FLV URL, and a WebSocket player that joins late gets a stream it can
 * start decoding at once, then every tag the publisher sent from its join point on.
 */

const run = promisify(execFile);

/** Players wait for the publisher, keep everything (no skip-ahead on a loaded machine), end at once. */
const SINK_OPTIONS = 'waitForPublisherMs: 10000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

const isFrame = (p: MediaPacket) => (p.kind === 'audio' || p.kind === 'video') && !p.config;
const isKeyframe = (p: MediaPacket) => p.kind === 'video' && p.keyframe && !p.config;

/** The onMetaData script tag as it travels: the AMF0 string `onMetaData` first, no `@setDataFrame` before it. */
const ON_METADATA = Buffer.concat([Buffer.from([0x02, 0x00, 10]), Buffer.from('onMetaData')]);

test('ffmpeg publishes by HTTP POST; ffprobe sees h264 640x360 + aac 44100; a late WebSocket player gets a decodable start, then every tag byte-identical', async (t) => {
  const live = await startLiveApp(livePipeline({ source: 'http-publish', sinks: ['http-play', 'ws-play'], sinkOptions: SINK_OPTIONS }));
  t.teardown(() => live.stop());
  const registry = live.app.container.get(LIVE_REGISTRY);
  const url = `${live.url('http')}/live/x.flv`;

  const ffmpeg = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-i', FIXTURE, '-c', 'copy', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let ffmpegErrors = '';
  ffmpeg.stderr.on('data', (d) => (ffmpegErrors += d));
  const ffmpegDone = new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
  t.teardown(() => ffmpeg.kill('SIGKILL'));

  // Join late: at least 1.5 s into the stream, and past its second keyframe (the cached GOP is not the first).
  await until(() => registry.has('live/x'), 30_000, 'the publisher');
  const published = Date.now();
  await until(() => Date.now() - published >= 1500 && registry.get('live/x')?.stats.keyframeIntervalMs !== undefined, 30_000, 'a second keyframe');
  const player = new RecordingSocket(`${live.url('ws')}/live/x.flv`);
  const probe = run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', url], { timeout: 30_000 });
  await player.opened;

  const { stdout } = await probe;
  const streams = JSON.parse(stdout).streams as { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string }[];
  t.like(
    streams.find((s) => s.codec_type === 'video'),
    { codec_name: 'h264', width: 640, height: 360 },
  );
  t.like(
    streams.find((s) => s.codec_type === 'audio'),
    { codec_name: 'aac', sample_rate: '44100' },
  );

  t.is(await ffmpegDone, 0, ffmpegErrors);
  const closed = await player.closed;
  t.is(closed.code, CLOSE.streamEnded, closed.reason);

  const got = parseFlv(player.data);
  t.true(got.hasAudio, 'FLV header: audio flag');
  t.true(got.hasVideo, 'FLV header: video flag');
  const [metadata, configA, configB, first, ...rest] = got.packets;
  t.is(metadata?.kind, 'script');
  t.true(metadata!.body.subarray(0, ON_METADATA.length).equals(ON_METADATA), 'plain onMetaData, not wrapped in @setDataFrame');
  t.is(metadata!.script?.name, 'onMetaData');
  t.like(metadata!.script?.values[0], { width: 640, height: 360 });
  t.deepEqual([configA, configB].map((p) => `${p?.kind} ${p?.config}`).sort(), ['audio true', 'video true'], 'both sequence headers next');
  t.true(first !== undefined && isKeyframe(first), 'then a video keyframe');
  t.false(rest.some((p) => p.kind === 'script'), 'one onMetaData only');

  // The fixture's tags (ffmpeg -c copy sends its bodies unchanged), from the keyframe the player started at.
  const sent = parseFlv(fixture()).packets.filter((p) => p.kind !== 'script');
  const want = sent.filter((p) => p.config);
  for (const config of [configA!, configB!]) {
    t.true(want.some((w) => w.kind === config.kind && w.body.equals(config.body)), `${config.kind} sequence header as sent`);
  }
  const join = sent.findIndex((p) => isKeyframe(p) && p.body.equals(first!.body));
  t.true(join >= 0, 'the first keyframe is one the publisher sent');
  t.true(sent[join]!.dts >= 1000, `a late join, not the stream's start (joined at the keyframe of ${sent[join]!.dts} ms)`);

  const received = [first!, ...rest];
  const expected = sent.slice(join);
  t.is(received.length, expected.length, 'every tag from the join point to the end');
  const mismatch = expected.findIndex((w, i) => {
    const g = received[i];
    return !g || g.kind !== w.kind || !g.body.equals(w.body) || g.dts - first!.dts !== w.dts - sent[join]!.dts;
  });
  t.is(mismatch, -1, `tag ${mismatch} after the join point differs in kind, body or relative dts`);

  // Monotonic per track, and the tracks interleaved: never more than a second apart.
  const last: Partial<Record<'audio' | 'video', number>> = {};
  const lastFrame: Partial<Record<'audio' | 'video', number>> = {};
  let spread = 0;
  const backwards: string[] = [];
  for (const [i, p] of got.packets.entries()) {
    if (p.kind === 'script') continue;
    if (p.dts < (last[p.kind] ?? -Infinity)) backwards.push(`${p.kind} tag ${i}: ${p.dts} after ${last[p.kind]}`);
    last[p.kind] = p.dts;
    if (!isFrame(p)) continue;
    lastFrame[p.kind] = p.dts;
    if (lastFrame.audio !== undefined && lastFrame.video !== undefined) spread = Math.max(spread, Math.abs(lastFrame.audio - lastFrame.video));
  }
  t.deepEqual(backwards, [], 'dts never goes back within a track');
  t.true(lastFrame.audio !== undefined && lastFrame.video !== undefined);
  t.true(spread < 1000, `audio and video drift ${spread} ms apart`);
});
