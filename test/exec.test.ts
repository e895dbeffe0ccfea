import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { LIVE_SERVER } from '../core/server/listener.js';
import { runningChildren } from '../core/process/child.js';
import { loadApp, tempDir } from './helpers/app.js';
import { probeWhenLive } from './helpers/ffprobe.js';
import { eventually } from './helpers/http-app.js';
import { FIXTURE } from './helpers/live-clients.js';

test.serial('examples/camera.yaml: an exec source running ffmpeg on a test pattern serves live/pattern; stopping leaves no child', async (t) => {
  const yaml = readFileSync('examples/camera.yaml', 'utf8');
  const app = await loadApp(yaml, { env: { HOST: '127.0.0.1', PORT: '0' } });
  await app.start();
  try {
    const base = app.container.get(LIVE_SERVER).url('http');
    const probe = await probeWhenLive(`${base}/live/pattern.flv`, 30_000);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    t.is(video?.codec_name, 'h264');
    t.is(video?.width, 640);
    t.is(video?.height, 360);
    t.is(audio?.codec_name, 'aac');
    t.true(runningChildren() >= 1);
  } finally {
    await app.stop(3000);
  }
  t.is(runningChildren(), 0);
});

function execPipeline(command: string, extra = ''): string {
  return `server: { host: 127.0.0.1, port: 0 }
pipelines:
  cam:
    source: { type: exec, key: live/cam, command: ${JSON.stringify(command)}, retryMinMs: 100, retryMaxMs: 200${extra} }
    stages: [flv-demux, timestamps]
    sinks: [{ type: play, transports: [http] }]
`;
}

test.serial('a command that exits at once is restarted with backoff, and that the server keeps serving', async (t) => {
  const counter = `${process.env.TMPDIR ?? '/tmp'}/wsflv-exec-runs-${process.pid}`;
  const app = await loadApp(execPipeline(`echo run >> ${counter}; echo 'no such input' >&2; exit 3`));
  await app.start();
  try {
    await eventually(() => {
      try {
        return readFileSync(counter, 'utf8').split('\n').filter(Boolean).length >= 3;
      } catch {
        return false;
      }
    }, 20_000, 'three runs');
    // The server still answers: the key has no stream between runs, so a player is told 404.
    const answer = await fetch(`${app.container.get(LIVE_SERVER).url('http')}/live/other.flv`);
    t.is(answer.status, 404);
  } finally {
    await app.stop(3000);
  }
  t.is(runningChildren(), 0);
});

test.serial('a command that never writes is killed after firstByteTimeoutMs; with restart: never it is not run again', async (t) => {
  const app = await loadApp(execPipeline('sleep 30', ', firstByteTimeoutMs: 300, restart: never'));
  await app.start();
  try {
    await eventually(() => runningChildren() === 1, 5000, 'the command runs');
    await eventually(() => runningChildren() === 0, 5000, 'the silent command is killed');
    t.pass();
  } finally {
    await app.stop(3000);
  }
  t.is(runningChildren(), 0);
});

test.serial('garbage on stdout ends that run with a logged reason; the command is stopped', async (t) => {
  const app = await loadApp(execPipeline('head -c 100000 /dev/urandom; sleep 30', ', restart: never'));
  await app.start();
  try {
    await eventually(() => runningChildren() === 0, 10_000, 'the garbage writer is stopped');
    // Its `sleep 30` went with it: the whole process group is stopped, not only the shell.
    t.false(execFileSync('ps', ['-eo', 'args']).toString().split('\n').some((line) => line.trim() === 'sleep 30'));
  } finally {
    await app.stop(3000);
  }
});

test.serial('an exec source in a headless run: cat of an FLV file through flv-demux to a file sink, whole', async (t) => {
  const out = `${tempDir()}/out.flv`;
  const app = await loadApp(`pipelines:
  job:
    source: { type: exec, key: files/in, restart: never, command: [cat, ${FIXTURE}] }
    stages: [flv-demux]
    sinks: [{ type: file, path: ${out} }]
`);
  await app.start();
  await app.runtime.done;
  t.deepEqual(readFileSync(out), readFileSync(FIXTURE));
});

test('exec refuses at load a program that is not on PATH', async (t) => {
  const error = await t.throwsAsync(loadApp(execPipeline('x').replace('command: "x"', 'command: [no-such-program-wsflv]')));
  t.regex(error!.message, /no-such-program-wsflv is not on PATH/);
});
