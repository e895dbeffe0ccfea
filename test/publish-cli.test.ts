import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLOSE } from '../core/live/close.js';
import type { MediaPacket } from '../core/media/packet.js';
import { tempDir } from './helpers/app.js';
import { runCli, startCli, waitForOutput } from './helpers/cli.js';
import { livePipeline, startLiveApp, type LiveApp } from './helpers/live-app.js';
import { FIXTURE, parseFlv, RecordingSocket } from './helpers/live-clients.js';
import { selfSignedCert } from './fixtures/tls.js';

const SHORT = 'test/fixtures/h264-aac-642x362-2s.flv';
const SINK_OPTIONS = 'waitForPublisherMs: 20000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

function start(server = ''): Promise<LiveApp> {
  return startLiveApp(livePipeline({ sinks: ['ws-play', 'http-play'], sinkOptions: SINK_OPTIONS, server }));
}

const media = (packets: MediaPacket[]) => packets.filter((p) => p.kind !== 'script');

function sameMedia(t: import('ava').ExecutionContext, received: Buffer, file: string): void {
  const got = media(parseFlv(received).packets);
  const want = media(parseFlv(readFileSync(file)).packets);
  t.is(got.length, want.length);
  t.true(got.every((p, i) => p.body.equals(want[i]!.body)));
}

for (const scheme of ['ws', 'http'] as const) {
  test.serial(`publish FILE ${scheme}:// --no-realtime: exit 0, progress on stderr, players get every tag`, async (t) => {
    const live = await start();
    t.teardown(() => live.stop());
    const player = new RecordingSocket(`${live.url('ws')}/live/a.flv`);
    await player.opened;
    const result = await runCli(['publish', FIXTURE, `${live.url(scheme)}/live/a.flv`, '--no-realtime']);
    t.is(result.code, 0, result.stderr);
    t.regex(result.stderr, /wsflv publish: sent 1\.1 MB in [\d.]+ s, 10\.\d s of media/);
    t.is(result.stdout, '');
    t.is((await player.closed).code, CLOSE.streamEnded);
    sameMedia(t, player.data, FIXTURE);
  });
}

test.serial('publish - reads FLV from stdin; /publish?app&stream works too', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/stdin.flv`);
  await player.opened;
  const result = await runCli(['publish', '-', `${live.url('ws')}/publish?app=live&stream=stdin`, '--no-realtime'], { input: readFileSync(SHORT) });
  t.is(result.code, 0, result.stderr);
  await player.closed;
  sameMedia(t, player.data, SHORT);
});

test.serial('publish paces in real time by default: a 2 s file takes about 2 s and arrives spread out', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/paced.flv`);
  await player.opened;
  const arrivals: number[] = [];
  player.ws.on('message', () => arrivals.push(Date.now()));
  const result = await runCli(['publish', SHORT, `${live.url('ws')}/live/paced.flv`]);
  t.is(result.code, 0, result.stderr);
  await player.closed;
  const spread = arrivals.at(-1)! - arrivals[0]!;
  t.true(spread > 1500 && spread < 6000, `tags arrived over ${spread} ms`);
  sameMedia(t, player.data, SHORT);
});

test.serial('publish --loop starts over with timestamps continuing; SIGINT ends it with exit 130', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/loop.flv`);
  await player.opened;
  const { child, result } = startCli(['publish', SHORT, `${live.url('ws')}/live/loop.flv`, '--loop']);
  const fileTags = media(parseFlv(readFileSync(SHORT)).packets).length;
  // Past the end of the first pass: more tags than the file holds.
  while (media(safePackets(player.data)).length < fileTags + 20) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGINT');
  const { code, stderr } = await result;
  t.is(code, 130, stderr);
  t.regex(stderr, /interrupted/);
  await player.closed;
  const video = media(parseFlv(player.data).packets).filter((p) => p.kind === 'video');
  t.true(video.every((p, i) => i === 0 || p.dts >= video[i - 1]!.dts), 'video timestamps keep increasing across the loop');
  t.true(video.at(-1)!.dts > 2000);
});

function safePackets(data: Buffer): MediaPacket[] {
  try {
    return parseFlv(data).packets;
  } catch {
    return [];
  }
}

test.serial('publish over wss:// with -k', async (t) => {
  const tls = selfSignedCert();
  const live = await start(`  tls: { key: ${tls.key}, cert: ${tls.cert} }`);
  t.teardown(() => live.stop());
  const player = new RecordingSocket(`${live.url('ws')}/live/tls.flv`);
  await player.opened;
  const refused = await runCli(['publish', SHORT, `${live.url('ws')}/live/tls.flv`, '--no-realtime']);
  t.is(refused.code, 1, 'a self-signed certificate is refused without -k');
  const result = await runCli(['publish', SHORT, `${live.url('ws')}/live/tls.flv`, '--no-realtime', '-k']);
  t.is(result.code, 0, result.stderr);
  await player.closed;
  sameMedia(t, player.data, SHORT);
});

test.serial('publish reports what the server said when it refuses or cuts the stream, with exit 1', async (t) => {
  const live = await startLiveApp(
    livePipeline({ source: 'ws-publish', sinks: ['ws-play'], sinkOptions: SINK_OPTIONS }).replace('stages: [flv-demux,', 'stages: [{ type: flv-demux, maxTagSize: 2000 },'),
  );
  t.teardown(() => live.stop());
  const badName = await runCli(['publish', SHORT, `${live.url('ws')}/live/a%20b.flv`]);
  t.is(badName.code, 1);
  t.regex(badName.stderr, /server answered 400: invalid stream name/);
  const notServed = await runCli(['publish', SHORT, `${live.url('http')}/live/a.flv`]);
  t.is(notServed.code, 1);
  t.regex(notServed.stderr, /server answered 404/);
  const tooBig = await runCli(['publish', SHORT, `${live.url('ws')}/live/a.flv`, '--no-realtime']);
  t.is(tooBig.code, 1);
  t.regex(tooBig.stderr, /server closed the connection: 1009 .*exceeds the limit of 2000 bytes/);
  const nobody = await runCli(['publish', SHORT, 'ws://127.0.0.1:1/live/a.flv']);
  t.is(nobody.code, 1);
  t.regex(nobody.stderr, /ECONNREFUSED/);
});

test.serial('publish rejects bad input and bad usage', async (t) => {
  const dir = tempDir();
  const garbage = join(dir, 'garbage.flv');
  writeFileSync(garbage, 'definitely not FLV');
  const live = await start();
  t.teardown(() => live.stop());
  const invalid = await runCli(['publish', garbage, `${live.url('ws')}/live/g.flv`]);
  t.is(invalid.code, 1);
  t.regex(invalid.stderr, /input is not valid FLV: not an FLV stream/);
  const missing = await runCli(['publish', join(dir, 'nope.flv'), `${live.url('ws')}/live/g.flv`]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot read/);
  for (const args of [[SHORT, 'ftp://x/y.flv'], ['-', 'ws://127.0.0.1:1/a/b.flv', '--loop']]) {
    const result = await runCli(['publish', ...args]);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, /Usage: wsflv publish/);
  }
});

test.serial('publish shows progress while it runs', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const { child, result } = startCli(['publish', FIXTURE, `${live.url('ws')}/live/progress.flv`]);
  // Not a terminal: one line every few seconds.
  const line = await waitForOutput(child, /publishing ws:\/\/[^:]+:\d+\/live\/progress\.flv: [\d.]+ [kM]?B in [\d.]+ s, [\d.]+ s of media \([\d.]+x\)/, 15_000);
  t.truthy(line);
  child.kill('SIGINT');
  t.is((await result).code, 130);
});
