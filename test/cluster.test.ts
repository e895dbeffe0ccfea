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

async function node(t: ExecutionContext, nats: TestNats, name: string, extra = ''): Promise<LiveApp> {
  const app = await startLiveApp(
    `server:
  host: 127.0.0.1
  port: 0
  api: true
  cluster: { nats: "${nats.url}", node: ${name}, lingerMs: 1000 }
${extra}
pipelines:
  live:
    source: ws-publish
    stages: [flv-demux, timestamps]
    sinks:
      - { type: play, ${PLAYER} }
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

const frames = (packets: MediaPacket[]) => packets.filter((p) => (p.kind === 'audio' || p.kind === 'video') && !p.config);
const firstFrame = (data: Buffer) => frames(parseFlv(data).packets)[0];

/** The media tags of a capture as comparable strings: kind, relative timestamp and body bytes. */
function tagPrints(data: Buffer): string[] {
  const media = frames(parseFlv(data).packets);
  return media.map((p) => `${p.kind}:${p.dts}:${p.body.toString('base64')}`);
}

test('a stream published on node A plays on B over WebSocket and HTTP and on C, tag for tag as on A; a late joiner on B starts on a keyframe', async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const [a, b, c] = [await node(t, nats, 'a'), await node(t, nats, 'b'), await node(t, nats, 'c')];
  await eventually(async () => (await request(b.url(), '/api/cluster')).json.nodes.length === 3, 10_000, 'three nodes hearing each other');

  const publisher = await publishLoop(`${a.url('ws')}/live/x.flv`);
  t.teardown(() => publisher.stop());
  await eventually(() => b.app.container.get(LIVE_REGISTRY).has('live/x'), 10_000, 'B to hear of live/x');

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
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const b = await node(t, nats, 'b1');
  const player = new RecordingSocket(`${b.url('ws')}/live/nothing.flv`);
  const closed = await Promise.race([player.closed, player.refusal.then((r) => ({ code: r.status, reason: r.body }))]);
  t.true(closed.code === CLOSE.streamNotFound || closed.code === 404, JSON.stringify(closed));
});
