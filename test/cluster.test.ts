import test, { type ExecutionContext } from 'ava';
import { get } from 'node:http';
import { CLOSE } from '../core/live/close.js';
import { LIVE_REGISTRY } from '../core/live/registry.js';
import type { MediaPacket } from '../core/media/packet.js';
import { httpModule } from '../core/http/module.js';
import { liveModules, startLiveApp, type LiveApp } from './helpers/live-app.js';
import { delay, parseFlv, RecordingSocket } from './helpers/live-clients.js';
import { publishLoop, request } from './helpers/http-app.js';
import { startNats, type TestNats } from './helpers/nats.js';

/**
 * Several wsflv nodes in one test process, each its own app with its own NATS connection, tied
 * together by a real nats-server on loopback: a stream published on one node plays on the others.
 */

const PLAYER = 'maxQueueMs: 600000, maxQueueBytes: 67108864';

async function node(t: ExecutionContext, nats: TestNats, name: string, sinkOptions = ''): Promise<LiveApp> {
  const app = await startLiveApp(
    `server:
  host: 127.0.0.1
  port: 0
  api: true
  cluster: { nats: "${nats.url}", node: ${name}, lingerMs: 1000 }
pipelines:
  live:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks:
      - { type: play, ${PLAYER}${sinkOptions} }
`,
    {},
    { logs: true, modules: [...liveModules, httpModule] },
  );
  t.teardown(() => app.stop());
  t.teardown(() => t.passed || t.log(`${name}:\n${app.logs.filter((l) => /cluster|stream|feed|origin|NATS/i.test(l)).slice(-25).join('\n')}`));
  return app;
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** A nats-server for this test only. */
async function natsFor(t: ExecutionContext): Promise<TestNats> {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  return nats;
}

/** Nodes of one cluster, started in order, once the last one hears of all of them. */
async function cluster(t: ExecutionContext, nats: TestNats, names: string[]): Promise<LiveApp[]> {
  const nodes: LiveApp[] = [];
  for (const name of names) nodes.push(await node(t, nats, name));
  const last = nodes.at(-1)!;
  await eventually(async () => (await request(last.url(), '/api/cluster')).json.nodes.length === names.length, 10_000, `${names.length} nodes hearing each other`);
  return nodes;
}

/** Until `member` (`name` in the failure) knows of stream `key`, its own or another node's. */
const hearsOf = (member: LiveApp, key: string, name: string) => eventually(() => member.app.container.get(LIVE_REGISTRY).has(key), 10_000, `${name} to hear of ${key}`);

const frames = (packets: MediaPacket[]) => packets.filter((p) => (p.kind === 'audio' || p.kind === 'video') && !p.config);
const firstFrame = (data: Buffer) => frames(parseFlv(data).packets)[0];

/** The media tags of a capture as comparable strings: kind, relative timestamp and body bytes. */
function tagPrints(data: Buffer): string[] {
  const media = frames(parseFlv(data).packets);
  return media.map((p) => `${p.kind}:${p.dts}:${p.body.toString('base64')}`);
}

test('a stream published on node A plays on B over WebSocket and HTTP and on C, tag for tag as on A; a late joiner on B starts on a keyframe', async (t) => {
  const nats = await natsFor(t);
  const [a, b, c] = await cluster(t, nats, ['a', 'b', 'c']);

  const publisher = await publishLoop(`${a.url('ws')}/live/x.flv`);
  t.teardown(() => publisher.stop());
  await hearsOf(b, 'live/x', 'B');

  const local = new RecordingSocket(`${a.url('ws')}/live/x.flv`);
  const remoteWs = new RecordingSocket(`${b.url('ws')}/live/x.flv`);
  const remoteC = new RecordingSocket(`${c.url('ws')}/live/x.flv`);
  const httpChunks: Buffer[] = [];
  const reader = new Promise<void>((resolve, reject) => {
    const req = get(`${b.url('http')}/live/x.flv`, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        httpChunks.push(chunk);
        bytes += chunk.length;
        if (bytes > 600_000) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    setTimeout(() => reject(new Error('HTTP player got too little')), 20_000).unref();
  });
  await Promise.all([local.received(600_000, 20_000), remoteWs.received(600_000, 20_000), remoteC.received(600_000, 20_000), reader]);

  // Every player's capture, from its first keyframe on, is the same run of tags as the local player's.
  const reference = tagPrints(local.data);
  for (const [name, data] of [['B ws', remoteWs.data], ['B http', Buffer.concat(httpChunks)], ['C ws', remoteC.data]] as const) {
    const prints = tagPrints(data);
    t.true(prints.length > 100, `${name}: ${prints.length} tags`);
    const start = reference.indexOf(prints[0]!);
    t.true(start >= 0, `${name}: its first tag is one the local player got`);
    const overlap = Math.min(prints.length, reference.length - start) - 5;
    t.deepEqual(prints.slice(0, overlap), reference.slice(start, start + overlap), `${name}: same tags as the local player`);
    t.true(firstFrame(data)?.kind === 'video' && firstFrame(data)!.keyframe, `${name}: starts on a keyframe`);
  }

  // One feed per node, however many players: B has two players, A sends it one stream.
  const onA = (await request(a.url(), '/api/streams/live/x')).json;
  t.is(onA.players.filter((p: { transport: string }) => p.transport === 'cluster').length, 2, 'A feeds B and C once each');

  // A late joiner on B (the stream is already here) starts at once on a keyframe.
  await delay(1500);
  const late = new RecordingSocket(`${b.url('ws')}/live/x.flv`);
  await late.received(100_000, 10_000);
  t.true(firstFrame(late.data)?.keyframe === true && firstFrame(late.data)?.kind === 'video', 'late joiner starts on a keyframe');

  // The API of any node lists the stream and which node holds it.
  const listed = (await request(c.url(), '/api/streams')).json.streams.find((s: { key: string }) => s.key === 'live/x');
  t.is(listed?.node, 'a');
  for (const s of [local, remoteWs, remoteC, late]) s.ws.terminate();
});

test('a player on a node asks for a stream nobody publishes: refused with 4404 as on one node', async (t) => {
  const nats = await natsFor(t);
  const b = await node(t, nats, 'b1');
  const player = new RecordingSocket(`${b.url('ws')}/live/nothing.flv`);
  const closed = await Promise.race([player.closed, player.refusal.then((r) => ({ code: r.status, reason: r.body }))]);
  t.true(closed.code === CLOSE.streamNotFound || closed.code === 404, JSON.stringify(closed));
});

/** Media timestamps of a capture, in order. */
const mediaDts = (data: Buffer) => frames(parseFlv(data).packets).map((p) => p.dts);

test('the publisher moves from node A to node B: players on C go on, timestamps never going back', async (t) => {
  const nats = await natsFor(t);
  const [a, b, c] = await cluster(t, nats, ['ma', 'mb', 'mc']);
  const first = await publishLoop(`${a.url('ws')}/live/m.flv`);
  t.teardown(() => first.stop());
  await hearsOf(c, 'live/m', 'C');
  const player = new RecordingSocket(`${c.url('ws')}/live/m.flv`);
  await player.received(200_000, 15_000);

  first.stop();
  await delay(500);
  const second = await publishLoop(`${b.url('ws')}/live/m.flv`);
  t.teardown(() => second.stop());
  const before = player.bytes;
  await eventually(async () => ((await request(c.url(), '/api/streams')).json.streams.find((s: { key: string }) => s.key === 'live/m')?.node === 'mb'), 10_000, 'C to take live/m from B');
  await player.received(before + 300_000, 15_000);
  const closedYet = await Promise.race([player.closed.then(() => true), delay(10).then(() => false)]);
  t.false(closedYet, 'the player on C was never closed');
  const dts = mediaDts(player.data);
  const back = dts.findIndex((d, i) => i > 0 && d + 100 < dts[i - 1]!);
  t.is(back, -1, `timestamps never go back (at ${back}: ${dts[back - 1]} → ${dts[back]})`);
  player.ws.terminate();
});

test('NATS goes away for a few seconds: local players never stop, remote ones resume when it is back', async (t) => {
  const nats = await natsFor(t);
  const [a, b] = [await node(t, nats, 'na'), await node(t, nats, 'nb')];
  await eventually(async () => (await request(b.url(), '/api/cluster')).json.nodes.length === 2, 10_000, 'two nodes');
  const publisher = await publishLoop(`${a.url('ws')}/live/n.flv`);
  t.teardown(() => publisher.stop());
  await hearsOf(b, 'live/n', 'B');
  const local = new RecordingSocket(`${a.url('ws')}/live/n.flv`);
  const remote = new RecordingSocket(`${b.url('ws')}/live/n.flv`);
  await Promise.all([local.received(100_000, 15_000), remote.received(100_000, 15_000)]);

  await nats.stop();
  const localAtCut = local.bytes;
  await delay(2500);
  t.true(local.bytes > localAtCut + 50_000, `the local player kept receiving without NATS (${local.bytes - localAtCut} bytes)`);
  const remoteAtReturn = remote.bytes;
  await nats.start();
  await remote.received(remoteAtReturn + 200_000, 20_000);
  for (const s of [local, remote]) {
    const closed = await Promise.race([s.closed.then((c) => c.code), delay(10).then(() => undefined)]);
    t.is(closed, undefined, 'no player was closed');
  }
  const dts = mediaDts(remote.data);
  t.is(dts.findIndex((d, i) => i > 0 && d + 100 < dts[i - 1]!), -1, 'the remote player\'s timestamps never go back');
  local.ws.terminate();
  remote.ws.terminate();
});

test('the duplicate-publisher policy holds across nodes: a second publisher on another node is refused with 4409, naming the node', async (t) => {
  const nats = await natsFor(t);
  const a = await node(t, nats, 'da');
  const b = await node(t, nats, 'db');
  await eventually(async () => (await request(b.url(), '/api/cluster')).json.nodes.length === 2, 10_000, 'two nodes');
  const first = await publishLoop(`${a.url('ws')}/live/d.flv`);
  t.teardown(() => first.stop());
  await hearsOf(b, 'live/d', 'B');
  const second = new RecordingSocket(`${b.url('ws')}/live/d.flv`, ['publisher']);
  const refused = await Promise.race([second.closed, second.refusal.then((r) => ({ code: r.status, reason: r.body }))]);
  t.true(refused.code === CLOSE.streamBusy || refused.code === 409, JSON.stringify(refused));
  t.regex(refused.reason, /node da/);
});

test('under publisherPolicy takeover, a publisher on another node takes the stream: the first is closed with 4409, its node\'s players go on', async (t) => {
  const nats = await natsFor(t);
  const a = await node(t, nats, 'ta', ', publisherPolicy: takeover');
  const b = await node(t, nats, 'tb', ', publisherPolicy: takeover');
  await eventually(async () => (await request(b.url(), '/api/cluster')).json.nodes.length === 2, 10_000, 'two nodes');
  const first = await publishLoop(`${a.url('ws')}/live/t.flv`);
  t.teardown(() => first.stop());
  await hearsOf(b, 'live/t', 'B');
  const onA = new RecordingSocket(`${a.url('ws')}/live/t.flv`);
  await onA.received(100_000, 10_000);
  const second = await publishLoop(`${b.url('ws')}/live/t.flv`);
  t.teardown(() => second.stop());
  const closed = await first.closed;
  t.is(closed.code, CLOSE.streamBusy);
  t.regex(closed.reason, /node tb/);
  const before = onA.bytes;
  await onA.received(before + 200_000, 15_000);
  t.is((await request(a.url(), '/api/streams')).json.streams.find((s: { key: string }) => s.key === 'live/t')?.node, 'tb', 'A now takes live/t from B');
  onA.ws.terminate();
});

test('the origin node shuts down: remote players are held for the grace period and go on when the publisher comes back on another node', async (t) => {
  const nats = await natsFor(t);
  const [a, b, c] = await cluster(t, nats, ['sa', 'sb', 'sc']);
  const first = await publishLoop(`${a.url('ws')}/live/s.flv`);
  t.teardown(() => first.stop());
  await hearsOf(c, 'live/s', 'C');
  const player = new RecordingSocket(`${c.url('ws')}/live/s.flv`);
  await player.received(150_000, 15_000);

  await a.stop();
  const second = await publishLoop(`${b.url('ws')}/live/s.flv`);
  t.teardown(() => second.stop());
  const before = player.bytes;
  await player.received(before + 200_000, 15_000);
  const closed = await Promise.race([player.closed.then((x) => x.code), delay(10).then(() => undefined)]);
  t.is(closed, undefined, 'the player on C was never closed');
  player.ws.terminate();
});
