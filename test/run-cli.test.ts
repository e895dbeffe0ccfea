import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ffprobe } from './helpers/ffprobe.js';
import { tempDir } from './helpers/app.js';
import { runCli, startCli, waitForOutput } from './helpers/cli.js';
import { FIXTURES } from './helpers/packets.js';

test('run: a headless job ends by itself with exit 0 and a one-line summary', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'job.yaml');
  writeFileSync(file, `pipelines:
  job:
    source: { type: file, path: ${join(process.cwd(), FIXTURES.h264Mp3)} }
    stages: [flv-demux, timestamps]
    sinks: [{ type: file, path: ${join(dir, 'out.flv')} }]
`);
  const result = await runCli(['run', file]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /wsflv run: 1 stream ended, 0 failed, 229\.3 kB read/);
  t.false(result.stderr.includes('\u001b['), 'no progress bar when stderr is not a TTY');
});

test('run: SIGTERM drains a live-paced job, finalises its file and exits 0; the file plays', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'job.yaml');
  const output = join(dir, 'out.flv');
  writeFileSync(file, `pipelines:
  paced:
    source: { type: file, path: ${join(process.cwd(), FIXTURES.h264Aac)}, realtime: true, loop: true }
    stages: [flv-demux, timestamps]
    sinks: [{ type: file, path: ${output} }]
`);
  const { child, result } = startCli(['run', file]);
  await waitForOutput(child, /stream started/);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill('SIGTERM');
  const { code, stderr } = await result;
  t.is(code, 0, stderr);
  t.regex(stderr, /stopping: draining streams/);
  const probe = await ffprobe(output);
  t.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  t.true(Number(probe.format.duration) > 0.5, `duration ${probe.format.duration}`);
});

/** A plugin sink that never finishes, so a drain cannot complete on its own. */
function writeStuckSinkPlugin(dir: string): string {
  const file = join(dir, 'stuck-sink.mts');
  const core = join(process.cwd(), 'core');
  writeFileSync(file, `import { injectable } from 'inversify';
import { NEVER } from 'rxjs';
import { z } from 'zod';
import { componentModule } from '${core}/pipeline/module.js';

@injectable()
class StuckSink {
  readonly role = 'sink';
  readonly type = 'stuck';
  readonly description = 'never finishes';
  readonly consumes = 'media-packets';
  readonly options = z.object({}).strict();
  create() {
    return { consume: () => NEVER };
  }
}
export default componentModule(StuckSink as any);
`);
  return file;
}

function stuckJob(dir: string): string {
  const file = join(dir, 'job.yaml');
  // The plugin lives inside the project so that its bare imports (inversify, rxjs) resolve.
  mkdirSync('test-results', { recursive: true });
  const pluginDir = mkdtempSync(join(process.cwd(), 'test-results', 'plugin-'));
  writeFileSync(file, `plugins: [${writeStuckSinkPlugin(pluginDir)}]
pipelines:
  stuck:
    source: { type: file, path: ${join(process.cwd(), FIXTURES.aacOnly)}, realtime: true, loop: true }
    stages: [flv-demux]
    sinks: [stuck]
`);
  return file;
}

test('run: a drain that cannot finish is cut at --drain-timeout, exit 1', async (t) => {
  const { child, result } = startCli(['run', stuckJob(tempDir()), '--drain-timeout', '300']);
  await waitForOutput(child, /stream started/);
  child.kill('SIGTERM');
  const { code, stderr } = await result;
  t.is(code, 1);
  t.regex(stderr, /drain timed out/);
});

test('run: a second signal exits at once with code 1', async (t) => {
  const { child, result } = startCli(['run', stuckJob(tempDir()), '--drain-timeout', '60000']);
  await waitForOutput(child, /stream started/);
  child.kill('SIGINT');
  await waitForOutput(child, /stopping: draining streams/);
  const signalledAt = Date.now();
  child.kill('SIGINT');
  const { code, stderr } = await result;
  t.is(code, 1);
  t.regex(stderr, /second signal: exiting now/);
  t.true(Date.now() - signalledAt < 10_000, 'did not wait for the 60 s drain deadline');
});

test('validate: exit 1 with file:line:col diagnostics, 0 when valid', async (t) => {
  const dir = tempDir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `pipelines:
  main:
    source: { type: file, path: x.flv }
    stages: [timestamps]
    sinks: [{ type: file, path: y.flv }]
`);
  const failed = await runCli(['validate', bad]);
  t.is(failed.code, 1);
  t.regex(failed.stderr, new RegExp(`${bad.replaceAll('/', '\\/')}:4:14: stage \`timestamps\` consumes media packets but source \`file\` produces FLV bytes: add \`flv-demux\` before it`));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, `pipelines:
  main:
    source: { type: file, path: x.flv }
    stages: [flv-demux, timestamps]
    sinks: [{ type: file, path: y.flv }]
`);
  const ok = await runCli(['validate', good]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /main: file → flv-demux → timestamps → \[file\]/);
});

test('every subcommand answers --help, and an unknown one exits 2', async (t) => {
  const overview = await runCli(['--help']);
  t.is(overview.code, 0);
  const names = [...overview.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
  t.true(names.includes('run') && names.includes('validate'), overview.stdout);
  for (const name of names) {
    const help = await runCli([name, '--help']);
    t.is(help.code, 0, name);
    t.regex(help.stdout, new RegExp(`^Usage: wsflv ${name}`), name);
  }
  t.is((await runCli(['nope'])).code, 2);
});

test('run: a port already in use is a one-line error and exit 1, not a crash', async (t) => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const result = await runCli(['run', 'pipeline.yaml'], { env: { HOST: '127.0.0.1', PORT: String(port), WSFLV_LOG_LEVEL: 'warn' } });
  t.is(result.code, 1);
  t.regex(result.stderr, new RegExp(`wsflv run: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
});

test('run: a live server whose publisher failed still exits 0 on a clean SIGTERM', async (t) => {
  const { createServer } = await import('node:net');
  const { WebSocket } = await import('ws');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));

  const { child, result } = startCli(['run', 'pipeline.yaml'], { env: { HOST: '127.0.0.1', PORT: String(port) } });
  await waitForOutput(child, /"msg":"listening"/);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/live/bad.flv`, 'publisher');
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('open', () => ws.send(Buffer.from('this is not an FLV stream at all')));
  t.is(await closed, 1007, 'the bad publisher is closed as invalid payload');
  child.kill('SIGTERM');
  const { code, stderr } = await result;
  t.regex(stderr, /stream failed/);
  t.is(code, 0, stderr.slice(-2000));
});

test('validate: transcode and snapshot without ffmpeg on PATH are refused, naming the package to install', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'needs-ffmpeg.yaml');
  writeFileSync(file, `pipelines:
  job:
    source: { type: file, path: x.flv }
    stages: [flv-demux, { type: transcode, video: { codec: h264, height: 360 } }]
    sinks: [{ type: file, path: y.flv }, snapshot]
`);
  // A PATH without ffmpeg on it: the check is the same lookup the child's spawn would make.
  const failed = await runCli(['validate', file], { env: { PATH: dir } });
  t.is(failed.code, 1, failed.stderr);
  t.regex(failed.stderr, /transcode: ffmpeg is not on PATH: install Debian's ffmpeg package \(apt-get install ffmpeg\)/);
  t.regex(failed.stderr, /snapshot: ffmpeg is not on PATH/);
  const found = await runCli(['validate', file]);
  t.is(found.code, 0, found.stderr);
});
