import test, { type ExecutionContext } from 'ava';
import { startNms } from '../bench/lib/nms.js';
import { LIVE_REGISTRY } from '../core/live/registry.js';
import { METRICS } from '../core/metrics.js';
import { ffprobe } from './helpers/ffprobe.js';
import { eventually, publishLoop } from './helpers/http-app.js';
import { startLiveApp, type LiveApp } from './helpers/live-app.js';
import { freePort, parseFlv, RecordingSocket } from './helpers/live-clients.js';

const PLAYER = 'waitForPublisherMs: 20000, maxQueueMs: 600000, maxQueueBytes: 67108864';
const frames = (data: Buffer) => parseFlv(data).packets.filter((p) => !p.config && p.kind !== 'script');

/**
 * The local side of a relay test: publishers on `live/*` played locally and pushed to `pushUrl`, and
 * `pullUrl` pulled home as `pulled/cam`; push and pull logs printed if the test fails.
 */
async function relayApp(t: ExecutionContext, pushUrl: string, pullUrl: string, pushRetryMaxMs = 400): Promise<LiveApp> {
  const app = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  live:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks:
      - { type: ws-play, ${PLAYER} }
      - { type: push, url: "${pushUrl}", retryMinMs: 200, retryMaxMs: ${pushRetryMaxMs} }
  back:
    source: { type: pull, url: "${pullUrl}", key: pulled/cam, retryMinMs: 200, retryMaxMs: 400 }
    stages: [flv-demux, timestamps]
    sinks: [{ type: ws-play, match: "pulled/*", ${PLAYER} }]
`, {}, { logs: true });
  t.teardown(() => app.stop());
  t.teardown(() => t.passed || t.log(app.logs.filter((line) => /push|pull/.test(line)).slice(-20).join('\n')));
  return app;
}

// node-media-server is the remote: a push that finds it down retries until it is up, ffprobe reads
// what we pushed back from it, and a pull brings it home under another key.
test.serial('push to a remote that is down at first, then up: local players never notice; ffprobe reads it from the remote; pull brings it back', async (t) => {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const live = await relayApp(t, `rtmp://127.0.0.1:${rtmpPort}/live/{stream}`, `rtmp://127.0.0.1:${rtmpPort}/live/cam`);
  const local = new RecordingSocket(`${live.url('ws')}/live/cam.flv`);
  await local.opened;
  const publisher = await publishLoop(`${live.url('ws')}/live/cam.flv`);
  t.teardown(() => publisher.stop());
  await local.received(100_000, 20_000);
  const metrics = live.app.container.get(METRICS);
  await eventually(async () => (await metrics.registry.getSingleMetric('wsflv_push_connects_total')!.get()).values.some((v) => v.labels.outcome === 'failed' && v.value >= 2), 20_000, 'failed push attempts');
  const before = local.bytes;
  const nms = await startNms(httpPort, rtmpPort);
  t.teardown(() => nms.kill('SIGKILL'));
  await eventually(async () => (await metrics.registry.getSingleMetric('wsflv_push_connects_total')!.get()).values.some((v) => v.labels.outcome === 'ok'), 20_000, 'a push connection');
  const probe = await ffprobe(`rtmp://127.0.0.1:${rtmpPort}/live/cam`, ['-read_intervals', '%+2']);
  t.deepEqual(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264'], 'the remote has what we pushed');
  const pulled = new RecordingSocket(`${live.url('ws')}/pulled/cam.flv`);
  await pulled.opened;
  await pulled.received(100_000, 20_000);
  t.true(frames(pulled.data).length > 10, 'the pulled stream plays locally');
  t.true(local.bytes > before, 'local players kept receiving all along');
  pulled.ws.close();
  local.ws.close();
});

test.serial('pull on demand: the first player starts it, the last one leaving stops it after lingerMs, the next starts it again', async (t) => {
  const origin = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  live:
    source: publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: http-play, ${PLAYER} }]
`);
  t.teardown(() => origin.stop());
  const publisher = await publishLoop(`${origin.url('ws')}/live/cam.flv`);
  t.teardown(() => publisher.stop());
  const edge = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  edge:
    source: { type: pull, mode: on-demand, lingerMs: 300, url: "${origin.url('http')}/live/cam.flv", key: edge/cam, retryMinMs: 200, retryMaxMs: 400 }
    stages: [flv-demux, timestamps]
    sinks: [{ type: ws-play, ${PLAYER} }]
`, {}, { logs: true });
  t.teardown(() => edge.stop());
  t.teardown(() => t.passed || t.log(edge.logs.slice(-20).join('\n')));
  const registry = origin.app.container.get(LIVE_REGISTRY);
  const pulls = () => registry.players('live/cam').length;
  // Nobody watches on the edge: nothing is pulled.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.is(pulls(), 0, 'no pull before a player');
  for (const round of [1, 2]) {
    const player = new RecordingSocket(`${edge.url('ws')}/edge/cam.flv`);
    await player.opened;
    await player.received(100_000, 20_000);
    t.true(frames(player.data).length > 10, `round ${round}: the edge player plays`);
    t.is(pulls(), 1, `round ${round}: one pull from the origin`);
    player.ws.close();
    await eventually(() => pulls() === 0, 10_000, `round ${round}: the pull stopping after the linger`);
  }
});

test.serial('a remote that refuses a push is retried while local players go on; a pulled stream stays one stream across the remote cutting it', async (t) => {
  // The remote: publishing needs a signature we do not have; its stream ends the moment its publisher leaves.
  const remote = await startLiveApp(`server:
  host: 127.0.0.1
  port: 0
  auth: { apps: { signed: { publishSecret: remote-secret-0123456789, playSecret: null } } }
pipelines:
  live:
    source: publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: http-play, graceMs: 0, ${PLAYER} }]
`);
  t.teardown(() => remote.stop());
  const local = await relayApp(t, `${remote.url('ws')}/signed/{stream}.flv`, `${remote.url('http')}/live/cam.flv`, 800);
  const player = new RecordingSocket(`${local.url('ws')}/live/mine.flv`);
  await player.opened;
  const mine = await publishLoop(`${local.url('ws')}/live/mine.flv`);
  t.teardown(() => mine.stop());
  // Refused once open (closed 4401): each retry waits longer, up to retryMaxMs, rather than every retryMinMs.
  const waits = () => local.logs.filter((line) => line.includes('signature required; retrying')).map((line) => JSON.parse(line).retryInMs as number);
  await eventually(() => waits().length >= 4, 20_000, 'refused pushes retried');
  t.true(Math.max(...waits()) > 600, `waits grow: ${waits().join(', ')} ms`);
  t.true(Math.max(...waits()) <= 800 * 1.2, `bounded by retryMaxMs: ${waits().join(', ')} ms`);
  await player.received(100_000, 20_000);
  t.is(player.ws.readyState, 1, 'the local player is untouched by the refusals');

  // The remote's stream comes, goes (cut: no grace there), and comes back.
  const pulled = new RecordingSocket(`${local.url('ws')}/pulled/cam.flv`);
  await pulled.opened;
  let source = await publishLoop(`${remote.url('ws')}/live/cam.flv`);
  await pulled.received(100_000, 20_000);
  source.stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const during = pulled.bytes;
  source = await publishLoop(`${remote.url('ws')}/live/cam.flv`);
  t.teardown(() => source.stop());
  await pulled.received(during + 100_000, 20_000);
  t.is(pulled.ws.readyState, 1, 'the pulled stream\'s player stayed on through the cut');
  const video = frames(pulled.data).filter((p) => p.kind === 'video');
  t.true(video.every((p, i) => i === 0 || p.dts >= video[i - 1]!.dts), 'timestamps go on across the cut');
  pulled.ws.close();
  player.ws.close();
});
