import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { concatMap, delay, from, lastValueFrom, of } from 'rxjs';
import { throughFfmpeg, TranscodeError } from '../core/ffmpeg/through-ffmpeg.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { createLogger } from '../core/logger.js';
import { runningChildPids, runningChildren } from '../core/process/child.js';
import { loadApp, tempDir } from './helpers/app.js';
import { describePlayback, playInBrowser } from './helpers/browser.js';
import { ffprobe, ffprobePackets, probeWhenLive } from './helpers/ffprobe.js';
import { eventually, publishLoop } from './helpers/http-app.js';
import { METRICS } from '../core/metrics.js';
import { startLiveApp, type LiveApp } from './helpers/live-app.js';
import { FIXTURE } from './helpers/live-clients.js';

const OPUS_FIXTURE = 'test/fixtures/h264-opus-360p30-5s.flv';

function make720p(dir: string): string {
  const file = join(dir, 'in-720p.flv');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '3', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'aac', '-f', 'flv', file]);
  return file;
}

function fakeFfmpeg(dir: string, script: string): string {
  const file = join(dir, 'fake-ffmpeg');
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

test.serial('examples/transcode-file.yaml: a 720p file becomes 360p, every frame kept, timestamps the input\'s', async (t) => {
  const dir = tempDir();
  const input = make720p(dir);
  const output = join(dir, 'out.flv');
  const app = await loadApp(readFileSync('examples/transcode-file.yaml', 'utf8'), { env: { INPUT: input, OUTPUT: output } });
  await app.start();
  await app.runtime.done;
  t.deepEqual(app.runtime.summary.failed, 0);
  await app.stop();
  const probe = await ffprobe(output);
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  t.is(video.codec_name, 'h264');
  t.is(video.height, 360);
  t.is(video.width, 640);
  t.is(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const before = (await ffprobePackets(input)).filter((p) => p.codec_type === 'video');
  const after = (await ffprobePackets(output)).filter((p) => p.codec_type === 'video');
  t.is(after.length, before.length);
  t.true(Math.abs(after[0]!.pts - before[0]!.pts) <= 40, `first video pts ${after[0]!.pts} vs ${before[0]!.pts}`);
  t.true(Math.abs(after.at(-1)!.pts - before.at(-1)!.pts) <= 40);
  t.is(runningChildren(), 0);
});

test.serial('a file job is paced by ffmpeg, not dropped: a queue far smaller than the file still keeps every frame', async (t) => {
  const dir = tempDir();
  const input = make720p(dir);
  const output = join(dir, 'out.flv');
  // The file is read far faster than ffmpeg encodes; a live stream would skip to keyframes past 64 KB.
  const app = await loadApp(`pipelines:
  job:
    source: { type: file, path: ${input} }
    stages: [flv-demux, { type: transcode, maxQueueBytes: 65536, video: { codec: h264, height: 180, preset: ultrafast } }]
    sinks: [{ type: file, path: ${output} }]
`);
  await app.start();
  await app.runtime.done;
  await app.stop();
  const dropped = (await app.container.get(METRICS).registry.getSingleMetric('wsflv_transcode_frames_dropped_total')!.get()).values;
  t.deepEqual(dropped.filter((v) => v.value > 0), []);
  const before = (await ffprobePackets(input)).filter((p) => p.codec_type === 'video');
  const after = (await ffprobePackets(output)).filter((p) => p.codec_type === 'video');
  t.is(after.length, before.length);
});

test.serial('H.264 + Opus (Enhanced RTMP, fed to ffmpeg as Matroska) becomes H.264 + AAC; the video is copied', async (t) => {
  const output = join(tempDir(), 'out.flv');
  const app = await loadApp(`pipelines:
  j:
    source: { type: file, path: ${OPUS_FIXTURE} }
    stages: [flv-demux, { type: transcode, audio: { codec: aac } }]
    sinks: [{ type: file, path: ${output} }]
`);
  await app.start();
  await app.runtime.done;
  await app.stop();
  const probe = await ffprobe(output);
  t.is(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  t.is(video.codec_name, 'h264');
  t.is(video.width, 640);
  const packets = await ffprobePackets(output);
  t.is(packets.filter((p) => p.codec_type === 'video').length, 150);
  t.true(packets.filter((p) => p.codec_type === 'audio').length >= 230);
});

test.serial('examples/ladder.yaml: 480p and 240p renditions of a live stream, played over HTTP-FLV; no ffmpeg left after the drain', async (t) => {
  const live = await startLiveApp(readFileSync('examples/ladder.yaml', 'utf8'), { HOST: '127.0.0.1', PORT: '0', RTMP_PORT: '0' });
  let stopped = false;
  try {
    const publisher = await publishLoop(`${live.url('ws')}/live/cam.flv`);
    t.teardown(() => publisher.stop());
    for (const [suffix, height] of [['_480p', 480], ['_240p', 240]] as const) {
      const probe = await probeWhenLive(`${live.url('http')}/live/cam${suffix}.flv`);
      const video = probe.streams.find((s) => s.codec_type === 'video')!;
      t.is(video.codec_name, 'h264', suffix);
      t.is(video.height, height, suffix);
      t.is(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', suffix);
    }
    // The original is still served as it is.
    const original = await probeWhenLive(`${live.url('http')}/live/cam.flv`);
    t.is(original.streams.find((s) => s.codec_type === 'video')?.height, 360);
    t.is(runningChildPids().filter((c) => c.command === 'ffmpeg').length, 2);
    publisher.stop();
    await live.stop();
    stopped = true;
    t.is(runningChildren(), 0);
  } finally {
    if (!stopped) await live.stop();
  }
});

async function opusApp(extra = ''): Promise<LiveApp> {
  return startLiveApp(readFileSync('examples/opus-to-aac.yaml', 'utf8') + extra, { HOST: '127.0.0.1', PORT: '0', RTMP_PORT: '0' });
}

test.serial('examples/opus-to-aac.yaml: an H.264 + Opus publisher reaches players of its key as H.264 + AAC, for ffprobe and for mpegts.js in Chromium', async (t) => {
  const live = await opusApp();
  try {
    const publisher = await publishLoop(`${live.url('ws')}/live/browser.flv`, OPUS_FIXTURE);
    t.teardown(() => publisher.stop());
    const probe = await probeWhenLive(`${live.url('http')}/live/browser.flv`);
    t.is(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    t.is(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    // mpegts.js cannot play Opus in FLV at all: playing with sound is what the transcode buys.
    const result = await playInBrowser(t, `${live.url('ws')}/live/browser.flv`, { seconds: 4, isLive: true, untilAdvanced: 2, screenshot: 'opus-to-aac' });
    const summary = describePlayback(result);
    t.deepEqual(result.errors, [], summary);
    t.like(result.mediaInfo, { hasAudio: true, hasVideo: true }, summary);
    t.regex(String(result.mediaInfo?.audioCodec), /^mp4a/, summary);
    t.is(result.videoWidth, 640, summary);
    t.true(result.currentTimeEnd - result.currentTimeStart >= 1.5, summary);
  } finally {
    await live.stop();
  }
});

test.serial('ffmpeg killed mid-stream fails that stream with its reason; another stream goes on; no child is left', async (t) => {
  const live = await opusApp();
  try {
    const a = await publishLoop(`${live.url('ws')}/live/a.flv`);
    const b = await publishLoop(`${live.url('ws')}/live/b.flv`);
    t.teardown(() => { a.stop(); b.stop(); });
    await probeWhenLive(`${live.url('http')}/live/a.flv`);
    await probeWhenLive(`${live.url('http')}/live/b.flv`);
    const children = runningChildPids().filter((c) => c.command === 'ffmpeg');
    t.is(children.length, 2);
    process.kill(children[0]!.pid, 'SIGKILL');
    const closed = await Promise.race([a.closed.then((c) => ({ who: 'a', ...c })), b.closed.then((c) => ({ who: 'b', ...c }))]);
    t.is(closed.code, 1011, 'a broken transcode is an internal failure of that stream');
    t.regex(closed.reason, /ffmpeg|internal/);
    const other = closed.who === 'a' ? 'b' : 'a';
    const probe = await probeWhenLive(`${live.url('http')}/live/${other}.flv`);
    t.is(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    await eventually(() => runningChildPids().filter((c) => c.command === 'ffmpeg').length === 1, 10_000, 'only the other stream\'s ffmpeg runs');
  } finally {
    await live.stop();
  }
  t.is(runningChildren(), 0);
});

/** Run the fixture through throughFfmpeg with a stand-in ffmpeg; the error it ends with. */
async function failingTranscode(script: string, stallTimeoutMs = 15_000): Promise<TranscodeError> {
  const ffmpeg = fakeFfmpeg(tempDir(), script);
  const packets = new FlvDemuxer().push(readFileSync(FIXTURE));
  // Paced a little, so the input is still coming when the stand-in misbehaves.
  const out$ = from(packets).pipe(
    concatMap((packet) => of(packet).pipe(delay(2))),
    throughFfmpeg({ ffmpeg, args: () => [], logger: createLogger({ level: 'silent' }), maxQueueBytes: 8 << 20, stallTimeoutMs }),
  );
  try {
    await lastValueFrom(out$, { defaultValue: undefined });
  } catch (error) {
    return error as TranscodeError;
  }
  throw new Error('the transcode did not fail');
}

test.serial('throughFfmpeg: an ffmpeg that writes garbage fails the stream (WSFLV_ERR_TRANSCODE_OUTPUT); no child is left', async (t) => {
  const error = await failingTranscode('head -c 50000 /dev/urandom; cat > /dev/null');
  t.true(error instanceof TranscodeError);
  t.is(error.code, 'WSFLV_ERR_TRANSCODE_OUTPUT');
  t.regex(error.message, /not FLV/);
  await eventually(() => runningChildren() === 0, 5000, 'no child left');
  t.pass();
});

test.serial('throughFfmpeg: an ffmpeg that exits at once fails the stream quoting its stderr (WSFLV_ERR_TRANSCODE_EXITED)', async (t) => {
  const error = await failingTranscode('echo "Unknown encoder libfoo" >&2; exit 1');
  t.is(error.code, 'WSFLV_ERR_TRANSCODE_EXITED');
  t.regex(error.message, /exited with code 1( mid-stream)?: Unknown encoder libfoo/);
});

test.serial('throughFfmpeg: an ffmpeg that never writes fails the stream after stallTimeoutMs (WSFLV_ERR_TRANSCODE_STALLED)', async (t) => {
  const error = await failingTranscode('cat > /dev/null', 500);
  t.is(error.code, 'WSFLV_ERR_TRANSCODE_STALLED');
  t.regex(error.message, /wrote nothing for 500 ms/);
  await eventually(() => runningChildren() === 0, 5000, 'no child left');
  t.pass();
});

test.serial('an ffmpeg that cannot keep up: frames are dropped to the next keyframe and counted, then the stream plays', async (t) => {
  const dir = tempDir();
  // Reads nothing for a while, then everything: the queue fills, frames are dropped, then it drains.
  const ffmpeg = fakeFfmpeg(dir, `sleep 2; exec ffmpeg "$@"`);
  const live = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  live:
    source: publish
    stages: [flv-demux, { type: transcode, ffmpeg: ${ffmpeg}, maxQueueBytes: 65536, stallTimeoutMs: 20000 }, timestamps]
    sinks: [{ type: play, transports: [http] }]
`);
  try {
    const publisher = await publishLoop(`${live.url('ws')}/live/slow.flv`);
    t.teardown(() => publisher.stop());
    const dropped = await eventually(async () => {
      const text = await live.app.container.get(METRICS).scrape();
      const match = /wsflv_transcode_frames_dropped_total\{pipeline="live"\} (\d+)/.exec(text);
      return match && Number(match[1]) > 0 ? Number(match[1]) : undefined;
    }, 15_000, 'dropped frames counted');
    t.true(dropped > 0);
    const probe = await probeWhenLive(`${live.url('http')}/live/slow.flv`);
    t.is(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  } finally {
    await live.stop();
  }
});

test('transcode without ffmpeg on PATH is refused at load, naming the package to install', async (t) => {
  const error = await t.throwsAsync(loadApp(`pipelines:
  j:
    source: { type: file, path: ${FIXTURE} }
    stages: [flv-demux, { type: transcode, ffmpeg: no-such-ffmpeg-wsflv }]
    sinks: [{ type: file, path: /tmp/x.flv }]
`));
  t.regex(error!.message, /no-such-ffmpeg-wsflv is not on PATH: install Debian's ffmpeg package \(apt-get install ffmpeg\)/);
});

test('transcode refuses audio: opus, which the FLV output cannot carry', async (t) => {
  const error = await t.throwsAsync(loadApp(`pipelines:
  j:
    source: { type: file, path: ${FIXTURE} }
    stages: [flv-demux, { type: transcode, audio: { codec: opus } }]
    sinks: [{ type: file, path: /tmp/x.flv }]
`));
  t.regex(error!.message, /opus cannot be written/);
});
