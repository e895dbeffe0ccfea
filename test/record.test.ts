import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { from, lastValueFrom, Subject } from 'rxjs';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { createLogger, type Logger } from '../core/logger.js';
import { CLOSE } from '../core/live/close.js';
import type { MediaPacket } from '../core/media/packet.js';
import { App } from '../core/pipeline/app.js';
import { ParsedConfigFile } from '../core/pipeline/config.js';
import { LIVE_SERVER } from '../core/server/listener.js';
import { builtinModules } from '../cli/builtins.js';
import { recordingDirectory, RecordSink, startTimeName } from '../sinks/record.js';
import { tempDir } from './helpers/app.js';
import { startCli, waitForOutput } from './helpers/cli.js';
import { ffprobe } from './helpers/ffprobe.js';
import { fixture, parseFlv, RecordingSocket, sendInPieces } from './helpers/live-clients.js';
import { demuxFile, FIXTURES } from './helpers/packets.js';

// ---------------------------------------------------------------------------------------------
// Helpers

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose JSON lines are kept, with a wait for a line that matches. */
class LogCapture {
  readonly lines: LogLine[] = [];
  readonly logger: Logger;
  #waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  constructor() {
    this.logger = createLogger({
      level: 'info',
      destination: {
        write: (text: string) => {
          const line = JSON.parse(text) as LogLine;
          this.lines.push(line);
          this.#waiters = this.#waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
        },
      },
    });
  }

  errors(): LogLine[] {
    return this.lines.filter((line) => line.level >= 50);
  }

  waitFor(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line; saw: ${this.lines.map((l) => l.msg).join(' | ')}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  }
}

async function loadWithLogs(yaml: string, logs: LogCapture): Promise<App> {
  const file = join(tempDir('wsflv-record-'), 'pipeline.yaml');
  writeFileSync(file, yaml);
  return App.fromParsed(new ParsedConfigFile(file, yaml, {}), { modules: builtinModules, logger: logs.logger });
}

/** Every `.flv` under `dir`, relative to it, sorted. */
function flvFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.flv'))
    .sort();
}

const STAMP = /^\d{8}T\d{6}Z(-\d+)?\.flv$/;
const frames = (packets: MediaPacket[]) => packets.filter((p) => p.kind !== 'script' && !p.config);

/** A whole, valid FLV file: the demuxer reads it to the end without complaint. */
function readWhole(path: string): { hasAudio: boolean; hasVideo: boolean; packets: MediaPacket[] } {
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(readFileSync(path));
  demuxer.end();
  return { hasAudio: demuxer.header!.hasAudio, hasVideo: demuxer.header!.hasVideo, packets };
}

const describeStreams = async (path: string) => (await ffprobe(path)).streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort();

function context(key: string, logger: Logger) {
  return { pipeline: 'p', key, origin: { transport: 'file' }, logger, shared: new Map<symbol, unknown>(), signal: new AbortController().signal, hold: () => false };
}

const fixedClock = (wall: number) => ({ now: () => 0, wallNow: () => wall });

async function pollUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

// ---------------------------------------------------------------------------------------------
// Names

test('startTimeName is UTC ISO 8601 basic format', (t) => {
  t.is(startTimeName(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '20240102T030405Z');
});

test('recordingDirectory: APP/STREAM inside the directory, whatever the key', (t) => {
  const root = resolve('/srv/rec');
  t.is(recordingDirectory('/srv/rec', 'live/cam-1', 'p'), join(root, 'live', 'cam-1'));
  t.is(recordingDirectory('/srv/rec', 'movie', 'remux'), join(root, 'remux', 'movie'), 'a key without `/` goes under the pipeline name');
  t.is(recordingDirectory('/srv/rec', 'live/a b?c', 'p'), join(root, 'live', 'a_b_c'));
  t.is(recordingDirectory('/srv/rec', '.hidden/..x', 'p'), join(root, '_hidden', '_x'), 'no dot files or dot directories');
  t.is(recordingDirectory('/srv/rec', 'a/b/c', 'p'), join(root, 'a', 'b_c'), 'always two levels');
  t.is(recordingDirectory('/srv/rec', 'live/%2e%2e', 'p'), join(root, 'live', '_2e_2e'));
  t.is(recordingDirectory('/srv/rec', 'live\\..\\..\\x/y', 'p'), join(root, 'live_.._.._x', 'y'));
  t.is(relative(root, recordingDirectory('/srv/rec', `live/${'x'.repeat(500)}`, 'p')).length, 'live/'.length + 100, 'long names are cut');
  for (const key of ['../etc', 'live/..', '..', 'live/.', 'a/../../b', '/abs', 'live/', '../../..', 'x//y']) {
    t.throws(() => recordingDirectory('/srv/rec', key, 'p'), { message: /refusing the path part/ }, key);
  }
  t.throws(() => recordingDirectory('/srv/rec', 'key', '..'), undefined, 'the pipeline name is checked too');
});

// ---------------------------------------------------------------------------------------------
// The sink driven directly (no pipeline)

test('a key with `..` ends the recording with one logged error, creates nothing, and the sink completes', async (t) => {
  const dir = tempDir();
  const directory = join(dir, 'rec');
  const logs = new LogCapture();
  const sink = new RecordSink(fixedClock(Date.UTC(2024, 0, 1))).create({ directory, flushMs: 1000, flushBytes: 256 * 1024 }, 'p');
  const input = new Subject<MediaPacket>();
  const done = lastValueFrom(sink.consume(context('live/../../escape', logs.logger), input), { defaultValue: 'completed' });
  for (const packet of demuxFile(FIXTURES.h264Aac).slice(0, 50)) input.next(packet);
  t.false(input.observed, 'the sink stopped listening');
  t.is(await done, 'completed');
  t.deepEqual(readdirSync(dir), [], 'nothing created, inside or outside');
  t.is(logs.errors().length, 1);
  t.regex(logs.errors()[0]!.msg, /recording failed.*refusing the path part "\.\."/);
});

test('two recordings starting in the same second get distinct names; nothing is overwritten', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const sink = new RecordSink(fixedClock(Date.UTC(2024, 0, 1, 12))).create({ directory, flushMs: 1000, flushBytes: 256 * 1024 }, 'p');
  const packets = demuxFile(FIXTURES.h264Aac);
  await lastValueFrom(sink.consume(context('live/a', logs.logger), from(packets.slice(0, 100))), { defaultValue: undefined });
  await lastValueFrom(sink.consume(context('live/a', logs.logger), from(packets)), { defaultValue: undefined });
  t.deepEqual(flvFiles(directory), ['live/a/20240101T120000Z-1.flv', 'live/a/20240101T120000Z.flv']);
  t.is(frames(readWhole(join(directory, 'live/a/20240101T120000Z.flv')).packets).length, frames(packets.slice(0, 100)).length);
  t.is(frames(readWhole(join(directory, 'live/a/20240101T120000Z-1.flv')).packets).length, frames(packets).length);
  t.deepEqual(logs.errors(), []);
});

test('data reaches the disk every flushMs while the stream is still running', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const sink = new RecordSink(fixedClock(Date.UTC(2024, 0, 1))).create({ directory, flushMs: 50, flushBytes: 64 * 1024 * 1024 }, 'p');
  const input = new Subject<MediaPacket>();
  const done = lastValueFrom(sink.consume(context('live/a', logs.logger), input), { defaultValue: undefined });
  const packets = demuxFile(FIXTURES.h264Aac).slice(0, 40);
  for (const packet of packets) input.next(packet);
  const path = join(directory, 'live/a/20240101T000000Z.flv');
  await pollUntil(() => sizeOf(path) > 13, 'a timed flush');
  // Not closed yet, but what is on disk is whole tags.
  const onDisk = readWhole(path);
  t.is(onDisk.packets.length, packets.length);
  input.complete();
  await done;
  t.is(readWhole(path).packets.length, packets.length);
});

// ---------------------------------------------------------------------------------------------
// Headless pipelines

test('headless: file → flv-demux → timestamps → record writes APP/STREAM/<start>.flv with the same streams and frames', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const app = await loadWithLogs(
    `pipelines:
  job:
    source: { type: file, path: ${FIXTURES.h264Aac}, key: live/cam }
    stages: [flv-demux, timestamps]
    sinks: [{ type: record, directory: ${directory} }]
`,
    logs,
  );
  await app.start();
  await app.runtime.done;
  t.true(await app.stop());
  const files = flvFiles(directory);
  t.is(files.length, 1);
  t.regex(files[0]!, /^live\/cam\//);
  t.regex(files[0]!.slice('live/cam/'.length), STAMP);
  const path = join(directory, files[0]!);
  t.deepEqual(await describeStreams(path), await describeStreams(FIXTURES.h264Aac));
  const recorded = readWhole(path);
  t.true(recorded.hasAudio && recorded.hasVideo);
  const want = frames(demuxFile(FIXTURES.h264Aac));
  const got = frames(recorded.packets);
  t.is(got.length, want.length);
  t.true(got.every((p, i) => p.kind === want[i]!.kind && p.body.equals(want[i]!.body)), 'same frames in the same order');
  t.deepEqual(logs.errors(), []);
});

test('headless: splitSeconds 2 on the 10 s fixture gives files that each start with metadata, sequence headers and a keyframe near 0', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const app = await loadWithLogs(
    `pipelines:
  job:
    source: { type: file, path: ${FIXTURES.h264Aac}, key: live/split }
    stages: [flv-demux, timestamps]
    sinks: [{ type: record, directory: ${directory}, splitSeconds: 2 }]
`,
    logs,
  );
  await app.start();
  await app.runtime.done;
  t.true(await app.stop());
  const files = flvFiles(directory);
  t.true(files.length >= 4 && files.length <= 6, `${files.length} files`);
  let total = 0;
  for (const file of files) {
    const path = join(directory, file);
    const { packets, hasAudio, hasVideo } = readWhole(path);
    t.true(hasAudio && hasVideo, file);
    const firstFrame = packets.findIndex((p) => p.kind !== 'script' && !p.config);
    const head = packets.slice(0, firstFrame);
    t.is(head[0]?.script?.name, 'onMetaData', `${file} starts with onMetaData`);
    t.false('duration' in (head[0]!.script!.values[0] as object), 'the source duration is not claimed');
    t.true(head.some((p) => p.kind === 'video' && p.config) && head.some((p) => p.kind === 'audio' && p.config), `${file} has both sequence headers before the first frame`);
    const firstVideo = packets.find((p) => p.kind === 'video' && !p.config)!;
    t.true(firstVideo.keyframe, `${file} video starts with a keyframe`);
    t.true(firstVideo.dts < 100, `${file} starts near 0 (${firstVideo.dts})`);
    const media = frames(packets);
    t.true(media.every((p) => p.dts < 2500), `${file} holds about 2 s (last ${media.at(-1)!.dts})`);
    t.deepEqual(await describeStreams(path), ['audio:aac', 'video:h264'], file);
    total += media.length;
  }
  t.is(total, frames(demuxFile(FIXTURES.h264Aac)).length, 'every frame recorded once');
  t.deepEqual(logs.errors(), []);
});

test('headless: an audio-only stream splits at audio frames', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const app = await loadWithLogs(
    `pipelines:
  job:
    source: { type: file, path: ${FIXTURES.aacOnly}, key: radio/one }
    stages: [flv-demux, timestamps]
    sinks: [{ type: record, directory: ${directory}, splitSeconds: 3 }]
`,
    logs,
  );
  await app.start();
  await app.runtime.done;
  t.true(await app.stop());
  const files = flvFiles(directory);
  t.true(files.length >= 3 && files.length <= 4, `${files.length} files`);
  for (const file of files) {
    const { packets, hasAudio, hasVideo } = readWhole(join(directory, file));
    t.true(hasAudio && !hasVideo, `${file}: header flags say audio only`);
    t.true(packets.findIndex((p) => p.kind === 'audio' && p.config) < packets.findIndex((p) => p.kind === 'audio' && !p.config), `${file}: config first`);
    t.deepEqual(await describeStreams(join(directory, file)), ['audio:aac']);
  }
});

// Disk full: a 200 KiB tmpfs (needs root and mount; skipped otherwise).
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('wsflv-mount-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

(canMount ? test : test.skip)('disk full: the recording ends with one logged error, its file ends on a whole tag, the other sinks and the stream go on', async (t) => {
  const full = tempDir('wsflv-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', full]);
  t.teardown(() => {
    execFileSync('umount', [full]);
    rmSync(full, { recursive: true, force: true });
  });
  const other = join(tempDir(), 'copy.flv');
  const logs = new LogCapture();
  const app = await loadWithLogs(
    `pipelines:
  job:
    source: { type: file, path: ${FIXTURES.h264Aac}, key: live/full }
    stages: [flv-demux, timestamps]
    sinks:
      - { type: record, directory: ${full}, flushBytes: 16384 }
      - { type: file, path: ${other} }
`,
    logs,
  );
  await app.start();
  await app.runtime.done;
  t.true(await app.stop());
  t.is(app.runtime.summary.failed, 0, 'the stream did not fail');
  const errors = logs.errors();
  t.is(errors.length, 1);
  t.regex(errors[0]!.msg, /recording failed/);
  t.is(errors[0]!.code, 'ENOSPC');
  const [file] = flvFiles(full);
  const kept = readWhole(join(full, file!));
  t.true(frames(kept.packets).length > 10, 'what fitted is kept');
  t.deepEqual(await describeStreams(join(full, file!)), ['audio:aac', 'video:h264']);
  t.is(frames(readWhole(other).packets).length, frames(demuxFile(FIXTURES.h264Aac)).length, 'the file sink got everything');
});

// ---------------------------------------------------------------------------------------------
// Live

const PLAYER_OPTIONS = 'waitForPublisherMs: 10000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0';

async function startLive(recordOptions: string, logs: LogCapture) {
  const yaml = `server:
  host: 127.0.0.1
  port: 0
pipelines:
  live:
    source: { type: ws-publish }
    stages: [flv-demux, timestamps]
    sinks:
      - { type: ws-play, ${PLAYER_OPTIONS} }
      - { type: record, ${recordOptions} }
`;
  const app = await loadWithLogs(yaml, logs);
  await app.start();
  const server = app.container.get(LIVE_SERVER);
  return { app, url: server.url('ws'), stop: () => app.stop(10_000) };
}

function assertSameMedia(t: ExecutionContext, got: MediaPacket[], sent: MediaPacket[]): void {
  const a = frames(got);
  const b = frames(sent);
  t.is(a.length, b.length);
  t.true(a.every((p, i) => p.kind === b[i]!.kind && p.body.equals(b[i]!.body)), 'same frames in the same order');
}

test('live: a ws publisher is recorded to live/STREAM/<start>.flv, complete once it unpublishes', async (t) => {
  const directory = tempDir();
  const logs = new LogCapture();
  const live = await startLive(`directory: ${directory}`, logs);
  t.teardown(() => live.stop());
  const data = fixture();
  const publisher = new RecordingSocket(`${live.url}/live/rec.flv`, ['publisher']);
  await publisher.opened;
  sendInPieces(publisher.ws, data, () => 32 * 1024);
  publisher.ws.close(CLOSE.normal, 'done');
  t.is((await publisher.closed).code, CLOSE.normal);
  await logs.waitFor((line) => line.msg === 'recording finished' && line.stream === 'live/rec');
  const files = flvFiles(directory);
  t.is(files.length, 1);
  t.regex(files[0]!, /^live\/rec\/\d{8}T\d{6}Z\.flv$/);
  const path = join(directory, files[0]!);
  assertSameMedia(t, readWhole(path).packets, parseFlv(data).packets);
  t.deepEqual(await describeStreams(path), ['audio:aac', 'video:h264']);
  t.deepEqual(logs.errors(), []);
});

test('live: an unwritable directory ends the recording with a logged error; players of the stream keep receiving', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file.txt'), 'not a directory');
  const logs = new LogCapture();
  const live = await startLive(`directory: ${join(dir, 'file.txt', 'sub')}`, logs);
  t.teardown(() => live.stop());
  const data = fixture();
  const half = parseFlv(data).packets.find((p) => p.offset! > data.length / 2)!.offset!;
  const player = new RecordingSocket(`${live.url}/live/x.flv`);
  await player.opened;
  const publisher = new RecordingSocket(`${live.url}/live/x.flv`, ['publisher']);
  await publisher.opened;
  sendInPieces(publisher.ws, data.subarray(0, half), () => 32 * 1024);
  const failure = await logs.waitFor((line) => line.level >= 50);
  t.regex(failure.msg, /recording failed/);
  t.is(failure.code, 'ENOTDIR');
  const before = player.bytes;
  sendInPieces(publisher.ws, data.subarray(half), () => 32 * 1024);
  publisher.ws.close(CLOSE.normal, 'done');
  t.is((await publisher.closed).code, CLOSE.normal, 'the publisher was not cut off');
  t.is((await player.closed).code, CLOSE.streamEnded);
  t.true(player.bytes > before, 'the player got data after the recording failed');
  assertSameMedia(t, parseFlv(player.data).packets, parseFlv(data).packets);
  t.is(logs.errors().length, 1, 'one error, not one per packet');
  t.false(logs.lines.some((line) => /stream failed/.test(line.msg)));
});

// ---------------------------------------------------------------------------------------------
// `wsflv run` as a child process

function pacedJob(dir: string, recordOptions: string): string {
  const file = join(dir, 'job.yaml');
  writeFileSync(file, `pipelines:
  paced:
    source: { type: file, path: ${join(process.cwd(), FIXTURES.h264Aac)}, key: live/paced, realtime: true, loop: true }
    stages: [flv-demux, timestamps]
    sinks: [{ type: record, directory: ${join(dir, 'rec')}, ${recordOptions} }]
`);
  return file;
}

async function recordingPath(child: import('node:child_process').ChildProcess, dir: string): Promise<string> {
  const line = await waitForOutput(child, /"path":"[^"]+","msg":"recording file opened"/, 60_000);
  const path = /"path":"([^"]+)"/.exec(line)![1]!;
  if (!path.startsWith(join(dir, 'rec', 'live', 'paced') + '/')) throw new Error(`recording at ${path}`);
  return path;
}

test('run: SIGTERM drains the job and the recording is a complete file', async (t) => {
  const dir = tempDir();
  const { child, result } = startCli(['run', pacedJob(dir, 'flushMs: 200')]);
  t.teardown(() => child.kill('SIGKILL'));
  const path = await recordingPath(child, dir);
  await pollUntil(() => sizeOf(path) > 150_000, 'some of the recording on disk', 60_000);
  child.kill('SIGTERM');
  const { code, stderr } = await result;
  t.is(code, 0, stderr);
  t.regex(stderr, /recording file closed/);
  const recorded = readWhole(path);
  t.true(recorded.hasAudio && recorded.hasVideo);
  t.true(frames(recorded.packets).length > 50);
  t.deepEqual(await describeStreams(path), ['audio:aac', 'video:h264']);
});

test('run: after kill -9 the recording reads up to its last whole tag', async (t) => {
  const dir = tempDir();
  const flushBytes = 16384;
  const { child, result } = startCli(['run', pacedJob(dir, `flushMs: 200, flushBytes: ${flushBytes}`)]);
  t.teardown(() => child.kill('SIGKILL'));
  const path = await recordingPath(child, dir);
  await pollUntil(() => sizeOf(path) > 150_000, 'some of the recording on disk', 60_000);
  child.kill('SIGKILL');
  t.is((await result).signal, 'SIGKILL');
  const data = readFileSync(path);
  const demuxer = new FlvDemuxer();
  const packets = demuxer.push(data);
  const last = packets.at(-1)!;
  const wholeEnd = last.offset! + 11 + last.body.length + 4;
  t.true(data.length - wholeEnd < flushBytes, `tail of ${data.length - wholeEnd} bytes`);
  t.true(frames(packets).length > 50);
  t.true(packets.some((p) => p.kind === 'video' && p.config) && packets.some((p) => p.kind === 'audio' && p.config));
  t.deepEqual(await describeStreams(path), ['audio:aac', 'video:h264']);
});
