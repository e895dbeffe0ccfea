import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { startNms } from '../bench/lib/nms.js';
import { RtmpClient } from '../core/rtmp/client.js';
import { LIVE_REGISTRY } from '../core/live/registry.js';
import { RTMP_SERVER } from '../core/rtmp/server.js';
import { tempDir } from './helpers/app.js';
import { runCli, startCli } from './helpers/cli.js';
import { ffprobe } from './helpers/ffprobe.js';
import { eventually } from './helpers/http-app.js';
import { startLiveApp } from './helpers/live-app.js';
import { fixture, flvTags, freePort, parseFlv } from './helpers/live-clients.js';

const frames = (data: Buffer) => parseFlv(data).packets.filter((p) => !p.config && p.kind !== 'script');

test('our RTMP client publishes to node-media-server and plays the stream back from it', async (t) => {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const nms = await startNms(httpPort, rtmpPort);
  t.teardown(() => nms.kill('SIGKILL'));
  const url = `rtmp://127.0.0.1:${rtmpPort}/live/relay`;
  const publisher = await RtmpClient.publish(url);
  const data = fixture();
  const tags = flvTags(data);
  // The first seconds, sent at once: enough for a GOP; nms keeps it for a late player.
  const head = tags.filter(({ packet }) => packet.dts < 3000);
  for (const { start, end } of head) publisher.sendTag(data.subarray(start, end));
  const player = await RtmpClient.play(url);
  const received = lastValueFrom(player.flv$.pipe(toArray()));
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const { start, end } of tags.slice(head.length)) publisher.sendTag(data.subarray(start, end));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  player.close();
  publisher.close();
  const got = frames(Buffer.concat(await received));
  const sent = frames(data);
  t.true(got.length > sent.length / 3, `${got.length} of ${sent.length} frames came back`);
  // nms re-times what it relays; the bodies are what must survive the round trip.
  const bodies = new Set(sent.map((p) => p.body.toString('base64')));
  t.true(got.every((p) => bodies.has(p.body.toString('base64'))), 'every frame that came back is one that was published, byte for byte');
});

test('wsflv publish and wsflv play speak RTMP to our server', async (t) => {
  const live = await startLiveApp(`server:
  host: 127.0.0.1
  port: 0
  rtmp: { port: 0 }
pipelines:
  live:
    source: rtmp-publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: rtmp-play, apps: [live], waitForPublisherMs: 10000 }]
`);
  t.teardown(() => live.stop());
  const base = live.app.container.get(RTMP_SERVER).url();
  const out = join(tempDir(), 'played.flv');
  const play = startCli(['play', `${base}/live/cli`, '-o', out, '--seconds', '4']);
  const published = await runCli(['publish', 'test/fixtures/h264-aac-642x362-2s.flv', `${base}/live/cli`]);
  t.is(published.code, 0, published.stderr);
  const played = await play.result;
  t.is(played.code, 0, played.stderr);
  const probe = await ffprobe(out);
  t.deepEqual(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264']);
  const refused = await runCli(['play', `${base}/nope/x`, '-o', join(tempDir(), 'x.flv'), '--seconds', '1']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /NetStream\.Play\.StreamNotFound|StreamNotFound/);
});

// ffmpeg 5.1 can neither write nor read these in FLV: our client is how they travel over RTMP.
const ENHANCED = [
  { file: 'test/fixtures/hevc-240p25-2s.flv', title: 'HEVC', codecs: ['video:hevc'] },
  { file: 'test/fixtures/av1-240p25-2s.flv', title: 'AV1', codecs: ['video:av1'] },
  { file: 'test/fixtures/h264-opus-360p30-5s.flv', title: 'H.264 + Opus', codecs: ['audio:opus', 'video:avc'] },
];

for (const c of ENHANCED) {
  test(`Enhanced RTMP ${c.title}: published by our RTMP client, played back over RTMP intact, tag for tag`, async (t) => {
    const live = await startLiveApp(`server: { host: 127.0.0.1, port: 0, rtmp: { port: 0 } }
pipelines:
  live:
    source: rtmp-publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: rtmp-play, waitForPublisherMs: 20000, graceMs: 0 }]
`);
    t.teardown(() => live.stop());
    const base = live.app.container.get(RTMP_SERVER).url();
    const out = join(tempDir(), 'played.flv');
    // Waiting before the publisher comes, so it gets the stream from its first tag; with no grace
    // period the stream, and the play, end when the publisher leaves.
    const play = startCli(['play', `${base}/live/enhanced`, '-o', out, '--seconds', '30']);
    const registry = live.app.container.get(LIVE_REGISTRY);
    await eventually(() => registry.players('live/enhanced').length > 0, 20_000, 'the RTMP player waiting');
    const published = await runCli(['publish', c.file, `${base}/live/enhanced`]);
    t.is(published.code, 0, published.stderr);
    const played = await play.result;
    t.regex(played.stderr, /the publisher ended the stream/);
    const media = (data: Buffer) => parseFlv(data).packets.filter((p) => p.kind !== 'script');
    const sent = media(readFileSync(c.file));
    const got = media(readFileSync(out));
    t.deepEqual([...new Set(got.map((p) => `${p.kind}:${p.codec}`))].sort(), c.codecs);
    for (const kind of ['audio', 'video'] as const) {
      const a = sent.filter((p) => p.kind === kind);
      const b = got.filter((p) => p.kind === kind);
      const missing = a.filter((p) => !b.some((q) => q.dts === p.dts)).map((p) => p.dts);
      t.is(b.length, a.length, `${kind} tags: ${a[0]?.dts}..${a.at(-1)?.dts} sent, ${b[0]?.dts}..${b.at(-1)?.dts} played; missing at ${missing.slice(0, 20).join(' ')}`);
      t.true(a.every((p, i) => b[i] !== undefined && p.body.equals(b[i]!.body) && p.dts - a[0]!.dts === b[i]!.dts - b[0]!.dts), `${kind}: same bodies at the same relative timestamps`);
    }
  });
}
