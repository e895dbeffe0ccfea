import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CLOSE } from '../core/live/close.js';
import { tempDir } from './helpers/app.js';
import { httpPlay } from './helpers/access.js';
import { eventually } from './helpers/http-app.js';
import { startLiveApp } from './helpers/live-app.js';
import { fixture, parseFlv, RecordingSocket, sendInPieces } from './helpers/live-clients.js';

// Pipelines that feed pipelines, routing and sinks that fail alone, over real sockets.

const PLAYER = 'waitForPublisherMs: 10000, maxQueueMs: 600000, maxQueueBytes: 67108864, graceMs: 0';
const frames = (data: Buffer) => parseFlv(data).packets.filter((p) => !p.config && p.kind !== 'script');

async function publish(url: string, key: string, data = fixture()): Promise<RecordingSocket> {
  const publisher = new RecordingSocket(`${url}/${key}.flv`, ['publisher']);
  await publisher.opened;
  sendInPieces(publisher.ws, data, () => 32 * 1024);
  return publisher;
}

test('ingest serves players; a second pipeline reads live/* from the registry, drops audio and republishes it; a third records it', async (t) => {
  const dir = tempDir();
  const live = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  ingest:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: ws-play, ${PLAYER} }]
  silent:
    source: { type: live, match: ["live/*", "!live/*_silent"] }
    stages: [{ type: filter, drop: [audio] }]
    sinks: [{ type: republish, key: "{app}/{stream}_silent", graceMs: 0 }]
  archive:
    source: { type: live, match: "live/*_silent" }
    sinks: [{ type: record, directory: ${dir} }]
`);
  t.teardown(() => live.stop());
  const url = live.url('ws');
  const original = new RecordingSocket(`${url}/live/cam.flv`);
  const silent = new RecordingSocket(`${url}/live/cam_silent.flv`);
  await Promise.all([original.opened, silent.opened]);
  const data = fixture();
  const publisher = await publish(url, 'live/cam', data);
  publisher.ws.close(CLOSE.normal, 'done');
  await Promise.all([original.closed, silent.closed]);
  const sent = frames(data);
  t.is(frames(original.data).length, sent.length, 'the ingest player got every frame');
  const rendition = parseFlv(silent.data);
  t.true(rendition.hasVideo);
  t.false(rendition.hasAudio, 'the FLV header says video only');
  t.is(frames(silent.data).length, sent.filter((p) => p.kind === 'video').length, 'every video frame, no audio');
  const recorded = await eventually(() => {
    const folder = join(dir, 'live', 'cam_silent');
    return existsSync(folder) && readdirSync(folder).length > 0 ? readdirSync(folder) : undefined;
  });
  t.is(recorded.length, 1, 'the archive pipeline recorded the rendition');
  t.false(existsSync(join(dir, 'live', 'cam_silent_silent')), 'the rendition was not read back by the pipeline that made it');
});

test('a file sink that cannot write fails alone: the publisher is not cut, players get everything', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  const live = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  live:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks:
      - { type: ws-play, ${PLAYER} }
      - { type: http-play, ${PLAYER} }
      - { type: file, path: "${join(dir, 'not-a-dir', '{stream}.flv')}" }
`);
  t.teardown(() => live.stop());
  const ws = new RecordingSocket(`${live.url('ws')}/live/x.flv`);
  await ws.opened;
  // Its headers come with the stream: not awaited before the publisher starts.
  const http = httpPlay(`${live.url('http')}/live/x.flv`);
  const data = fixture();
  const publisher = await publish(live.url('ws'), 'live/x', data);
  publisher.ws.close(CLOSE.normal, 'done');
  t.is((await publisher.closed).code, CLOSE.normal, 'not 1011: the failing sink did not end the stream');
  t.is((await ws.closed).code, CLOSE.streamEnded);
  t.is(frames(ws.data).length, frames(data).length);
  t.is(frames(await (await http).body).length, frames(data).length);
});

test('match routes players too: a play sink limited to vip/* does not take players of other keys', async (t) => {
  const live = await startLiveApp(`server: { host: 127.0.0.1, port: 0 }
pipelines:
  vip:
    source: { type: ws-publish, apps: [vip] }
    stages: [flv-demux, timestamps]
    sinks: [{ type: ws-play, match: "vip/*", ${PLAYER} }]
  rest:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks: [{ type: ws-play, match: ["**", "!vip/*"], waitForPublisherMs: 0 }]
`);
  t.teardown(() => live.stop());
  const url = live.url('ws');
  const vip = new RecordingSocket(`${url}/vip/a.flv`);
  await vip.opened;
  const absent = new RecordingSocket(`${url}/live/none.flv`);
  t.is((await absent.closed).code, CLOSE.streamNotFound, 'the second pipeline took it, with its own option (no wait)');
  const publisher = await publish(url, 'vip/a');
  publisher.ws.close(CLOSE.normal, 'done');
  t.is((await vip.closed).code, CLOSE.streamEnded);
  t.true(frames(vip.data).length > 0);
});
