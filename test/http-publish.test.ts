import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { request, get, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { CLOSE } from '../core/live/close.js';
import { livePipeline, startLiveApp, type LiveApp } from './helpers/live-app.js';
import { delay, FIXTURE, fixture, parseFlv, RecordingSocket } from './helpers/live-clients.js';

const run = promisify(execFile);

const SINK_OPTIONS = 'waitForPublisherMs: 10000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0, headerWaitMs: 5000';

function start(options: Parameters<typeof livePipeline>[0] = {}): Promise<LiveApp> {
  return startLiveApp(livePipeline({ source: 'http-publish', sinks: ['http-play', 'ws-play'], sinkOptions: SINK_OPTIONS, ...options }));
}

/** POST `pieces` as a chunked body, one write each, and return the answer. */
function post(url: string, pieces: Buffer[], options: { gapMs?: number; method?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: { 'Content-Type': 'video/x-flv', 'Transfer-Encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    (async () => {
      for (const piece of pieces) {
        if (req.destroyed) return;
        req.write(piece);
        if (options.gapMs) await delay(options.gapMs);
      }
      req.end();
    })();
  });
}

function play(url: string): Promise<{ res: IncomingMessage; body: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const body = new Promise<Buffer>((done) => res.on('end', () => done(Buffer.concat(chunks))));
      resolve({ res, body });
    }).on('error', reject);
  });
}

function pieces(data: Buffer, size: (i: number) => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = size(i);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('ffmpeg publishes over HTTP (chunked POST); ffprobe plays HTTP-FLV and sees h264 640x360 + aac', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const url = `${live.url('http')}/live/x.flv`;
  const ffmpeg = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-i', FIXTURE, '-c', 'copy', '-f', 'flv', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let ffmpegErrors = '';
  ffmpeg.stderr.on('data', (d) => (ffmpegErrors += d));
  const ffmpegDone = new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
  t.teardown(() => ffmpeg.kill('SIGKILL'));
  await delay(1500);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', url], { timeout: 20_000 });
  const streams = JSON.parse(stdout).streams as { codec_type: string; codec_name: string; width?: number; height?: number }[];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  t.like(video, { codec_name: 'h264', width: 640, height: 360 });
  t.like(audio, { codec_name: 'aac' });
  t.is(await ffmpegDone, 0, ffmpegErrors);
});

test('an HTTP publisher in any chunking reaches HTTP-FLV players whole; the publisher gets 200 at the end', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const player = play(`${live.url('http')}/live/a.flv`);
  await delay(100);
  let seed = 3;
  const answer = await post(`${live.url('http')}/live/a.flv`, pieces(data, () => 1 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 5000)));
  t.is(answer.status, 200);
  const { res, body } = await player;
  t.is(res.headers['content-type'], 'video/x-flv');
  const got = parseFlv(await body);
  const want = parseFlv(data);
  const media = (p: typeof got.packets) => p.filter((x) => x.kind !== 'script');
  t.is(media(got.packets).length, media(want.packets).length);
  t.true(media(got.packets).every((p, i) => p.body.equals(media(want.packets)[i]!.body)));
});

test('invalid FLV in an HTTP body: 400 with the problem named, other streams unaffected', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const data = fixture();
  const good = post(`${live.url('http')}/live/good.flv`, pieces(data, () => 50_000), { gapMs: 20 });
  const bad = await post(`${live.url('http')}/live/bad.flv`, [Buffer.from('GARBAGE GARBAGE GARBAGE'), Buffer.alloc(100_000)], { gapMs: 50 });
  t.is(bad.status, 400);
  t.regex(bad.body, /not an FLV stream/);
  t.is((await good).status, 200);
});

test('a tag over the limit in an HTTP body: 413', async (t) => {
  const live = await startLiveApp(
    livePipeline({ source: 'http-publish', sinks: ['http-play'], sinkOptions: SINK_OPTIONS }).replace('stages: [flv-demux,', 'stages: [{ type: flv-demux, maxTagSize: 2000 },'),
  );
  t.teardown(() => live.stop());
  const answer = await post(`${live.url('http')}/live/big.flv`, pieces(fixture(), () => 10_000), { gapMs: 5 });
  t.is(answer.status, 413);
  t.regex(answer.body, /exceeds the limit of 2000 bytes/);
});

test('a silent HTTP publisher gets 408 after idleTimeoutMs', async (t) => {
  const live = await start({ sourceOptions: 'idleTimeoutMs: 300' });
  t.teardown(() => live.stop());
  const req = request(`${live.url('http')}/live/quiet.flv`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } });
  const answer = new Promise<{ status: number; body: string }>((resolve) =>
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }),
  );
  req.on('error', () => undefined);
  req.write(fixture().subarray(0, 13));
  const { status, body } = await answer;
  t.is(status, 408);
  t.regex(body, /no data for 0\.3 s/);
  req.destroy();
});

test('a player of a stream nobody publishes is refused at once (waitForPublisherMs 0): HTTP 404, WebSocket close 4404', async (t) => {
  const live = await startLiveApp(livePipeline({ source: 'http-publish', sinks: ['http-play', 'ws-play'] }));
  t.teardown(() => live.stop());
  const { res, body } = await play(`${live.url('http')}/live/none.flv`);
  t.is(res.statusCode, 404);
  t.regex((await body).toString(), /no stream is being published at live\/none/);
  const ws = new RecordingSocket(`${live.url('ws')}/live/none.flv`);
  const closed = await ws.closed;
  t.is(closed.code, CLOSE.streamNotFound);
  t.is(closed.code, 4404, 'the documented code');
  t.regex(closed.reason, /no stream is being published at live\/none/);
  t.is(ws.bytes, 0, 'no media');
});
