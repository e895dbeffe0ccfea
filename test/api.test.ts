/**
 * The JSON API under /api, against a live server with a real-time publisher and real players:
 * listing, stream detail (tracks, codec details, bitrate in/out, GOP, publisher, players), ending a
 * stream, kicking a player, health, and the optional bearer token.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { CLOSE } from '../core/live/close.js';
import { eventually, httpFeatures, publishLoop, request, startHttpApp, type LoopingPublisher } from './helpers/http-app.js';
import type { LiveApp } from './helpers/live-app.js';
import { RecordingSocket } from './helpers/live-clients.js';

async function live(t: ExecutionContext, server = httpFeatures()): Promise<LiveApp> {
  const app = await startHttpApp(server);
  t.teardown(() => app.stop().then(() => undefined));
  return app;
}

async function publisher(t: ExecutionContext, app: LiveApp, key: string): Promise<LoopingPublisher> {
  const pub = await publishLoop(`${app.url('ws')}/${key}.flv`);
  t.teardown(() => pub.stop());
  return pub;
}

function wsPlayer(t: ExecutionContext, app: LiveApp, key: string): RecordingSocket {
  const player = new RecordingSocket(`${app.url('ws')}/${key}.flv`);
  t.teardown(() => player.ws.terminate());
  return player;
}

/** An HTTP-FLV player that counts what it gets; resolves once the response has started. */
async function httpPlayer(t: ExecutionContext, app: LiveApp, key: string): Promise<{ res: IncomingMessage; bytes: () => number; ended: Promise<void> }> {
  let bytes = 0;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(`${app.url('http')}/${key}.flv`, resolve);
    req.on('error', reject);
    req.end();
    t.teardown(() => req.destroy());
  });
  res.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const ended = new Promise<void>((resolve) => {
    res.on('end', resolve);
    res.on('close', resolve);
  });
  return { res, bytes: () => bytes, ended };
}

test('GET /api/streams and /api/streams/APP/STREAM: tracks, codecs, bitrate in/out, GOP, publisher, players', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  await publisher(t, app, 'live/cam1');
  const ws = wsPlayer(t, app, 'live/cam1');
  await ws.received(100_000, 20_000);
  const http = await httpPlayer(t, app, 'live/cam1');
  t.is(http.res.statusCode, 200);

  // Bitrates need a few samples of the moving window.
  const summary = await eventually(async () => {
    const { status, json } = await request(base, '/api/streams');
    t.is(status, 200);
    const s = json.streams.find((x: { key: string }) => x.key === 'live/cam1');
    return s && s.bitrate.in > 0 && s.bitrate.out > 0 && s.playerCount === 2 ? s : undefined;
  }, 30_000, 'stream listed with bitrates and two players');

  t.like(summary, {
    key: 'live/cam1',
    app: 'live',
    stream: 'cam1',
    state: 'live',
    playerCount: 2,
    waitingCount: 0,
    video: { kind: 'video', codec: 'avc', profile: 'Main', width: 640, height: 360, frameRate: 30 },
    audio: { kind: 'audio', codec: 'aac', profile: 'LC', sampleRate: 44100, channels: 1 },
    play: { ws: `${app.url('ws')}/live/cam1.flv`, http: `${base}/live/cam1.flv` },
  });
  t.regex(summary.video.codecString, /^avc1\.4d/);
  t.is(summary.audio.codecString, 'mp4a.40.2');
  t.is(summary.publisher.transport, 'ws');
  t.regex(summary.publisher.address, /^127\.0\.0\.1:\d+$/);
  t.regex(summary.publisher.id, /^p-\d+$/);
  t.false(Number.isNaN(Date.parse(summary.publisher.startedAt)));
  t.true(summary.uptimeMs > 0);
  // The fixture is about 0.9 Mb/s; two players take about twice that (loose bounds: the machine is busy).
  t.true(summary.bitrate.in > 50_000 && summary.bitrate.in < 5_000_000, `bitrate in ${summary.bitrate.in}`);
  t.true(summary.bitrate.out > 50_000, `bitrate out ${summary.bitrate.out}`);

  const { status, json: detail } = await request(base, '/api/streams/live/cam1');
  t.is(status, 200);
  t.is(detail.key, 'live/cam1');
  t.is(detail.video.width, 640);
  t.true(detail.tagsIn > 0 && detail.bytesIn > 0 && detail.tagsOut > 0 && detail.bytesOut > 0);
  t.is(detail.framesDropped, 0);
  t.true(detail.gop.keyframeIntervalMs > 0, `keyframe interval ${detail.gop.keyframeIntervalMs}`);
  t.true(detail.gop.frames > 0);
  t.is(typeof detail.metadata.width, 'number');
  t.is(detail.players.length, 2);
  const transports = detail.players.map((p: { transport: string }) => p.transport).sort();
  t.deepEqual(transports, ['http', 'ws']);
  for (const player of detail.players) {
    t.regex(player.id, /^v-\d+$/);
    t.regex(player.address, /^127\.0\.0\.1:\d+$/);
    t.is(player.state, 'live');
    t.true(player.bytesSent > 0);
    t.is(player.framesDropped, 0);
    t.is(typeof player.queuedBytes, 'number');
    t.false(Number.isNaN(Date.parse(player.connectedAt)));
  }
  const one = await request(base, `/api/players/${detail.players[0].id}`);
  t.is(one.status, 200);
  t.is(one.json.id, detail.players[0].id);

  t.is((await request(base, '/api/streams/live/nothing')).status, 404);
  t.is((await request(base, '/api/streams/live/bad%20name')).status, 400);
  t.is((await request(base, '/api/streams/live/cam1/extra')).status, 404);
  const post = await request(base, '/api/streams', { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
  t.regex(post.headers.get('content-type') ?? '', /^application\/json/);
});

test('DELETE /api/streams/APP/STREAM ends the stream: publisher and players closed with 4410 and the reason', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  const pub = await publisher(t, app, 'live/ending');
  const ws = wsPlayer(t, app, 'live/ending');
  await ws.received(50_000, 20_000);
  const http = await httpPlayer(t, app, 'live/ending');

  const res = await request(base, '/api/streams/live/ending?reason=maintenance%20window', { method: 'DELETE' });
  t.is(res.status, 200);
  t.like(res.json, { ended: 'live/ending', code: CLOSE.streamEnded, reason: 'maintenance window', publisher: true });
  t.is(res.json.players, 2);

  t.deepEqual(await ws.closed, { code: CLOSE.streamEnded, reason: 'maintenance window' });
  t.deepEqual(await pub.closed, { code: CLOSE.streamEnded, reason: 'maintenance window' });
  await http.ended;
  t.true(http.bytes() > 0);
  await eventually(async () => !(await request(base, '/api/streams')).json.streams.some((s: { key: string }) => s.key === 'live/ending'), 10_000, 'stream gone from the list');
  t.is((await request(base, '/api/streams/live/ending', { method: 'DELETE' })).status, 404);
});

test('DELETE /api/players/ID kicks that player only', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  await publisher(t, app, 'live/kick');
  const a = wsPlayer(t, app, 'live/kick');
  const b = wsPlayer(t, app, 'live/kick');
  await Promise.all([a.received(50_000, 20_000), b.received(50_000, 20_000)]);

  const detail = (await request(base, '/api/streams/live/kick')).json;
  t.is(detail.players.length, 2);
  // Which id is whose: the ws client's local port is the server's peer port.
  const port = (a.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  const victim = detail.players.find((p: { address: string }) => p.address.endsWith(`:${port}`));
  t.truthy(victim, 'player a found by its address');

  const res = await request(base, `/api/players/${victim.id}`, { method: 'DELETE' });
  t.is(res.status, 200);
  t.like(res.json, { kicked: victim.id, key: 'live/kick', code: CLOSE.policyViolation });
  t.deepEqual(await a.closed, { code: CLOSE.policyViolation, reason: 'disconnected by an operator' });

  const before = b.bytes;
  await b.received(before + 20_000, 20_000);
  const after = (await request(base, '/api/streams/live/kick')).json;
  t.deepEqual(after.players.map((p: { id: string }) => p.id).includes(victim.id), false);
  t.is(after.players.length, 1);
  t.is((await request(base, `/api/players/${victim.id}`, { method: 'DELETE' })).status, 404);
  t.is((await request(base, '/api/players/v-999999', { method: 'DELETE' })).status, 404);
});

test('GET /api/health answers with counts', async (t) => {
  const app = await live(t);
  const base = app.url('http');
  await publisher(t, app, 'live/health');
  const player = wsPlayer(t, app, 'live/health');
  await player.received(10_000, 20_000);
  const { status, json, headers } = await request(base, '/api/health');
  t.is(status, 200);
  t.regex(headers.get('content-type') ?? '', /^application\/json/);
  t.like(json, { status: 'ok', streams: 1, publishers: 1, players: 1 });
  t.is(typeof json.version, 'string');
  t.true(json.uptimeMs >= 0);
  // The player's adaptive window (default maximum 40 ms), what it chose under this load, and the load it followed.
  const [window] = json.writeWindows;
  t.like(window, { mode: 'adaptive', maxMs: 40 });
  t.true(window.windowMs >= 0 && window.windowMs <= 40);
  t.true(typeof json.writeLoad === 'number' && json.writeLoad >= 0);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.regex(metrics, /^wsflv_live_write_window_ms\{mode="adaptive",max="40"\} \d+$/m);
  t.regex(metrics, /^wsflv_live_write_load \d+(\.\d+)?(e-\d+)?$/m);
});

test('bearer token: 401 with WWW-Authenticate when missing or wrong, 200 with it; health stays open', async (t) => {
  const token = 'correct horse battery staple';
  const app = await live(t, httpFeatures({ token }));
  const base = app.url('http');
  await publisher(t, app, 'live/secret');

  const missing = await request(base, '/api/streams');
  t.is(missing.status, 401);
  t.is(missing.headers.get('www-authenticate'), 'Bearer realm="wsflv"');
  t.is(missing.json.error.status, 401);

  const wrong = await request(base, '/api/streams', { token: 'correct horse battery stapler' });
  t.is(wrong.status, 401);
  t.is(wrong.headers.get('www-authenticate'), 'Bearer realm="wsflv", error="invalid_token"');
  t.is((await request(base, '/api/streams', { token: 'x' })).status, 401);

  const right = await request(base, '/api/streams', { token });
  t.is(right.status, 200);
  t.true(Array.isArray(right.json.streams));

  t.is((await request(base, '/api/streams/live/secret', { method: 'DELETE' })).status, 401);
  t.is((await request(base, '/api/players/v-1', { method: 'DELETE', token: 'nope' })).status, 401);
  t.is((await request(base, '/api/health')).status, 200);
  // The page and metrics are not behind the token.
  t.is((await request(base, '/')).status, 200);
  t.is((await request(base, '/metrics')).status, 200);
});

test('server.api off: nothing under /api', async (t) => {
  const app = await live(t, httpFeatures({ api: false, web: false }));
  const res = await request(app.url('http'), '/api/streams');
  t.is(res.status, 404);
  t.is((await request(app.url('http'), '/api/health')).status, 404);
});

test('GET /api/pipelines: each component by id and type, each pipeline\'s streams now', async (t) => {
  const app = await live(t);
  await publisher(t, app, 'live/listed');
  const pipelines = await eventually(async () => {
    const { json } = await request(app.url('http'), '/api/pipelines');
    const list = (json as { pipelines: { name: string; streams: string[] }[] }).pipelines;
    return list[0]?.streams.includes('live/listed') ? list : undefined;
  });
  t.deepEqual(pipelines, [
    {
      name: 'live',
      source: { id: 'live.source', type: 'publish' },
      stages: [
        { id: 'live.stages[0]', type: 'flv-demux' },
        { id: 'live.stages[1]', type: 'timestamps' },
      ],
      sinks: [
        { id: 'live.sinks[0]', type: 'ws-play', stages: [] },
        { id: 'live.sinks[1]', type: 'http-play', stages: [] },
      ],
      streams: ['live/listed'],
    },
  ]);
});
