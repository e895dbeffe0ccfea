import test from 'ava';
import { get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { once } from 'node:events';
import { connect } from 'node:net';
import { httpChunk } from '../core/live/http-chunk.js';
import type { PlayerTransport, PublishConnection } from '../core/live/types.js';
import { CLOSE } from '../core/live/close.js';
import { wsBinaryFrame } from '../core/live/ws-frame.js';
import { createLogger } from '../core/logger.js';
import { Metrics } from '../core/metrics.js';
import { serverConfigSchema } from '../core/server/config.js';
import { LiveServer } from '../core/server/listener.js';
import { matchRequest } from '../core/server/routes.js';
import { selfSignedCert } from './fixtures/tls.js';
import { delay, rawRequest, RecordingSocket, statusOf } from './helpers/live-clients.js';

function newServer(config: Record<string, unknown> = {}): LiveServer {
  const parsed = serverConfigSchema.parse({ host: '127.0.0.1', port: 0, ...config });
  return new LiveServer(parsed, createLogger({ level: process.env.WSFLV_LOG_LEVEL ?? 'silent' }), new Metrics());
}

/** A server that records what reaches each handler; `players` and `publishers` say what it serves. */
async function startServer(
  config: Record<string, unknown> = {},
  serve: { publish?: ('ws' | 'http')[]; play?: ('ws' | 'http')[] } = { publish: ['ws', 'http'], play: ['ws', 'http'] },
  setup: (server: LiveServer) => void = () => undefined,
) {
  const server = newServer(config);
  setup(server);
  const publishers: PublishConnection[] = [];
  const players: PlayerTransport[] = [];
  const received = new Map<string, Buffer[]>();
  for (const framing of serve.publish ?? []) {
    server.acceptPublishers(framing, (connection) => {
      publishers.push(connection);
      const chunks: Buffer[] = [];
      received.set(connection.id, chunks);
      connection.data$.subscribe((chunk) => chunks.push(chunk));
    });
  }
  for (const framing of serve.play ?? []) server.acceptPlayers(framing, (player) => players.push(player));
  await server.start();
  const port = server.address()!.port;
  return { server, port, publishers, players, received };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(10);
  }
}

function fetchRaw(url: string, options: { method?: string; body?: Buffer } = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

// ---- URL parsing ----

test('stream URLs: /APP/STREAM.flv and /publish, /play with app and stream in the query', (t) => {
  t.like(matchRequest('/live/cam1.flv?token=abc'), { kind: 'stream', target: { app: 'live', stream: 'cam1', key: 'live/cam1', convention: 'path', query: { token: 'abc' } } });
  t.like(matchRequest('/publish?app=live&stream=cam.1'), { kind: 'stream', target: { key: 'live/cam.1', convention: 'publish' } });
  t.like(matchRequest('/play?stream=b_2&app=a-1'), { kind: 'stream', target: { key: 'a-1/b_2', convention: 'play' } });
  t.like(matchRequest('/live/x.y.flv'), { kind: 'stream', target: { stream: 'x.y' } });
  t.like(matchRequest('/api/streams'), { kind: 'other', pathname: '/api/streams' });
  t.like(matchRequest('/'), { kind: 'other', pathname: '/' });
});

test('malformed stream URLs are refused with a reason, never thrown', (t) => {
  for (const url of [
    '/li%20ve/x.flv', // space
    '/live/.flv', // empty stream name
    '/live/x%2Fy.flv', // encoded slash
    '/../x.flv',
    '/live/../x.flv',
    '/a/b/c.flv',
    '/x.flv',
    '/live/ü.flv',
    `/live/${'a'.repeat(129)}.flv`,
    '/publish?app=live', // no stream
    '/play?app=live&stream=', // empty stream
    '/play?app=live&stream=a%zz', // bad escape
    '/play?app=%E0%A4%A&stream=x', // truncated UTF-8 escape
    'live/x.flv', // not absolute
    '',
  ]) {
    const match = matchRequest(url);
    t.is(match.kind, 'invalid', url);
  }
  t.regex((matchRequest('/live/a b.flv') as { message: string }).message, /invalid stream name/);
});

test('a __proto__ query parameter is plain data', (t) => {
  const match = matchRequest('/live/x.flv?__proto__=1&a=2&a=3');
  t.is(match.kind, 'stream');
  const query = (match as { target: { query: Record<string, string> } }).target.query;
  t.is(Object.getPrototypeOf(query), Object.prototype);
  t.is(query['__proto__'], '1');
  t.is(query.a, '2');
});

// ---- both URL conventions, both directions ----

test('WebSocket publish on /APP/STREAM.flv with subprotocol publisher, and on /publish?app&stream', async (t) => {
  const { server, port, publishers, received } = await startServer();
  t.teardown(() => server.stop());
  const a = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv?x=1`, ['publisher']);
  await a.opened;
  t.is(a.ws.protocol, 'publisher');
  a.ws.send(Buffer.from('abc'));
  a.ws.send(Buffer.from('def'));
  const b = new RecordingSocket(`ws://127.0.0.1:${port}/publish?app=live&stream=b`);
  await b.opened;
  b.ws.send(Buffer.from('xyz'));
  await until(() => publishers.length === 2 && (received.get(publishers[1]!.id)?.length ?? 0) === 1 && (received.get(publishers[0]!.id)?.length ?? 0) === 2);
  t.like(publishers[0], { key: 'live/a', app: 'live', stream: 'a', transport: 'ws', query: { x: '1' } });
  t.regex(publishers[0]!.address, /^127\.0\.0\.1:\d+$/);
  t.regex(publishers[0]!.id, /^p-\d+$/);
  t.is(Buffer.concat(received.get(publishers[0]!.id)!).toString(), 'abcdef');
  t.like(publishers[1], { key: 'live/b', transport: 'ws' });
  a.ws.close();
  b.ws.close();
});

test('WebSocket play on /APP/STREAM.flv without subprotocol, and on /play?app&stream: frames arrive as sent', async (t) => {
  const { server, port, players } = await startServer();
  t.teardown(() => server.stop());
  const a = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  const b = new RecordingSocket(`ws://127.0.0.1:${port}/play?app=live&stream=b`);
  await Promise.all([a.opened, b.opened]);
  await until(() => players.length === 2);
  const [pa, pb] = [players.find((p) => p.key === 'live/a')!, players.find((p) => p.key === 'live/b')!];
  t.is(pa.framing, 'ws');
  t.is(pb.framing, 'ws');
  t.regex(pa.id, /^v-\d+$/);
  const frames = [wsBinaryFrame(Buffer.from('one')), wsBinaryFrame(Buffer.alloc(70_000, 7))];
  pa.write(frames, frames.length);
  pb.write(frames, frames.length);
  await Promise.all([a.received(70_003), b.received(70_003)]);
  t.deepEqual(a.messages.map((m) => m.length), [3, 70_000]);
  t.deepEqual(b.messages.map((m) => m.length), [3, 70_000]);
  pa.close(CLOSE.streamEnded, 'bye');
  t.deepEqual(await a.closed, { code: CLOSE.streamEnded, reason: 'bye' });
  // A code that may not be sent (1006 is reserved for "no close frame") becomes 1011, and a long
  // reason is cut to what a close frame holds, rather than throwing.
  pb.close(1006, 'é'.repeat(100));
  const closed = await b.closed;
  t.is(closed.code, CLOSE.internalError);
  t.true(Buffer.byteLength(closed.reason) <= 123);
  t.regex(closed.reason, /^é+\.\.\.$/);
});

test('HTTP-FLV play: video/x-flv, CORS, no caching, chunked body as framed by the fan-out', async (t) => {
  const { server, port, players } = await startServer();
  t.teardown(() => server.stop());
  const response = new Promise<IncomingMessage>((resolve) => httpGet(`http://127.0.0.1:${port}/live/a.flv`, resolve));
  await until(() => players.length === 1);
  const player = players[0]!;
  t.is(player.framing, 'http');
  t.is(player.transport, 'http');
  player.write([httpChunk(Buffer.from('FLV-ish ')), httpChunk(Buffer.from('bytes'))], 2);
  const res = await response;
  t.is(res.statusCode, 200);
  t.is(res.headers['content-type'], 'video/x-flv');
  t.is(res.headers['access-control-allow-origin'], '*');
  t.regex(res.headers['cache-control'] ?? '', /no-cache/);
  t.regex(res.headers['cache-control'] ?? '', /no-store/);
  t.is(res.headers['transfer-encoding'], 'chunked');
  let body = '';
  res.on('data', (d: Buffer) => (body += d));
  await delay(50);
  player.close(CLOSE.streamEnded, 'over');
  await once(res, 'end');
  t.is(body, 'FLV-ish bytes');
  t.true(res.complete);
});

test('HTTP-FLV play over /play?app&stream, and HEAD answers the headers only', async (t) => {
  const { server, port, players } = await startServer();
  t.teardown(() => server.stop());
  const response = new Promise<IncomingMessage>((resolve) => httpGet(`http://127.0.0.1:${port}/play?app=live&stream=a`, resolve));
  await until(() => players.length === 1);
  t.is(players[0]!.key, 'live/a');
  players[0]!.write([httpChunk(Buffer.from('x'))], 1);
  t.is((await response).statusCode, 200);
  players[0]!.close(CLOSE.normal, 'done');
  const head = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers['content-type'], 'video/x-flv');
  t.is(players.length, 1, 'HEAD does not create a player');
});

test('an HTTP player refused before any media gets the status of the close code', async (t) => {
  const { server, port } = await startServer({}, {}, (s) =>
    s.acceptPlayers('http', (player) => player.close(CLOSE.streamNotFound, 'no stream is being published at live/a')),
  );
  t.teardown(() => server.stop());
  const res = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`);
  t.is(res.status, 404);
  t.is(res.body, 'no stream is being published at live/a\n');
  t.is(res.headers['access-control-allow-origin'], '*');
});

test('HEAD answers what a GET would get at once: the probe of the registration decides', async (t) => {
  let live = false;
  const { server, port, players } = await startServer({}, {}, (s) =>
    s.acceptPlayers('http', (player) => player.close(CLOSE.streamNotFound, 'no such stream'), {
      probe: (key) => (live ? undefined : { code: CLOSE.streamNotFound, reason: `no stream is being published at ${key}` }),
    }),
  );
  t.teardown(() => server.stop());
  const before = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'HEAD' });
  t.is(before.status, 404);
  t.is(before.body, '', 'a HEAD answer has no body');
  live = true;
  const after = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'HEAD' });
  t.is(after.status, 200);
  t.is(after.headers['content-type'], 'video/x-flv');
  t.is(players.length, 0);
});

test('drain(): new publishers and players are refused with 503 / 1001 while those connected go on', async (t) => {
  const { server, port, players, publishers } = await startServer();
  t.teardown(() => server.stop());
  const player = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  await player.opened;
  await until(() => players.length === 1);
  server.drain();
  const wsPublisher = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  t.deepEqual(await wsPublisher.closed, { code: CLOSE.goingAway, reason: 'server shutting down' });
  const wsPlayer = new RecordingSocket(`ws://127.0.0.1:${port}/play?app=live&stream=a`);
  t.deepEqual(await wsPlayer.closed, { code: CLOSE.goingAway, reason: 'server shutting down' });
  const post = await fetchRaw(`http://127.0.0.1:${port}/live/b.flv`, { method: 'POST', body: Buffer.from('FLV') });
  t.is(post.status, 503);
  t.is(post.body, 'server shutting down\n');
  t.is((await fetchRaw(`http://127.0.0.1:${port}/live/b.flv`)).status, 503);
  t.is(publishers.length, 0);
  t.is(players.length, 1, 'nothing new was handed over');
  // The player that was there still gets media.
  players[0]!.write([wsBinaryFrame(Buffer.from('still here'))], 1);
  await until(() => player.messages.length === 1);
  t.is(player.messages[0]!.toString(), 'still here');
});

test('HTTP publish: POST and PUT bodies reach the publisher, answered 200 when they end', async (t) => {
  const { server, port, publishers, received } = await startServer();
  t.teardown(() => server.stop());
  const post = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'POST', body: Buffer.from('hello') });
  t.is(post.status, 200);
  const put = await fetchRaw(`http://127.0.0.1:${port}/publish?app=live&stream=b`, { method: 'PUT', body: Buffer.from('world') });
  t.is(put.status, 200);
  t.like(publishers[0], { key: 'live/a', transport: 'http' });
  t.like(publishers[1], { key: 'live/b', transport: 'http' });
  t.is(Buffer.concat(received.get(publishers[0]!.id)!).toString(), 'hello');
  t.is(Buffer.concat(received.get(publishers[1]!.id)!).toString(), 'world');
});

// ---- refusals ----

test('bad app or stream names get 400 over HTTP and for a WebSocket handshake', async (t) => {
  const { server, port, publishers, players } = await startServer();
  t.teardown(() => server.stop());
  for (const path of ['/li%20ve/a.flv', '/live/a%3F.flv', '/a/b/c.flv', '/play?app=live', '/play?app=live&stream=%zz']) {
    const res = await fetchRaw(`http://127.0.0.1:${port}${path}`);
    t.is(res.status, 400, path);
    t.truthy(res.body.trim(), path);
  }
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/li%20ve/a.flv`, ['publisher']);
  const refusal = await ws.refusal;
  t.is(refusal.status, 400);
  t.regex(refusal.body, /invalid app name/);
  const query = new RecordingSocket(`ws://127.0.0.1:${port}/publish?app=live&stream=a/b`);
  t.is((await query.refusal).status, 400);
  t.is(publishers.length + players.length, 0);
});

test('a transport no component asked for is not served: 404 for HTTP and for the handshake', async (t) => {
  const { server, port } = await startServer({}, { play: ['ws'] });
  t.teardown(() => server.stop());
  t.is((await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`)).status, 404);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'POST', body: Buffer.from('x') })).status, 404);
  const publisher = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  t.is((await publisher.refusal).status, 404);
  const player = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  await player.opened;
  player.ws.close();
});

test('the listener does not listen at all when nothing was registered', async (t) => {
  const server = newServer();
  await server.start();
  t.is(server.address(), undefined);
  await server.stop();
});

test('wrong methods get 405 with Allow; OPTIONS gets a CORS preflight answer', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  const del = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'DELETE' });
  t.is(del.status, 405);
  t.regex(String(del.headers.allow), /GET/);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/publish?app=a&stream=b`)).status, 405);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/play?app=a&stream=b`, { method: 'POST', body: Buffer.from('x') })).status, 405);
  const options = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`, { method: 'OPTIONS' });
  t.is(options.status, 204);
  t.is(options.headers['access-control-allow-origin'], '*');
  t.regex(String(options.headers['access-control-allow-methods']), /POST/);
});

test('upgrades elsewhere than a stream URL, or to another protocol, are refused', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/somewhere`);
  t.is((await ws.refusal).status, 404);
  const answer = await rawRequest(port, 'GET /live/a.flv HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
  t.is(statusOf(answer), 400);
});

test('a publisher sending a text message is closed with 1003', async (t) => {
  const { server, port, publishers } = await startServer();
  t.teardown(() => server.stop());
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await ws.opened;
  ws.ws.send('hello');
  const closed = await ws.closed;
  t.is(closed.code, CLOSE.unsupportedData);
  t.regex(closed.reason, /text/);
  await until(() => server.connections().length === 0);
  t.is(publishers.length, 1);
});

test('a WebSocket message over limits.messageBytes closes the peer with 1009', async (t) => {
  const { server, port } = await startServer({ limits: { messageBytes: 4096 } });
  t.teardown(() => server.stop());
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await ws.opened;
  ws.ws.send(Buffer.alloc(4096));
  ws.ws.send(Buffer.alloc(4097));
  t.is((await ws.closed).code, CLOSE.messageTooBig);
  await until(() => server.connections().length === 0);
});

test('too many connections: WebSocket peers are closed with 1013 and a reason, HTTP gets 503', async (t) => {
  const { server, port, players } = await startServer({ limits: { connections: 2 } });
  t.teardown(() => server.stop());
  const a = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  const b = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await Promise.all([a.opened, b.opened]);
  const c = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  t.deepEqual(await c.closed, { code: CLOSE.tryAgainLater, reason: 'too many connections' });
  const res = await fetchRaw(`http://127.0.0.1:${port}/live/a.flv`);
  t.is(res.status, 503);
  t.is(res.body, 'too many connections\n');
  t.is(players.length, 1);
  // A slot frees up when a connection goes.
  a.ws.close();
  await until(() => server.connections().length === 1);
  const d = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  await d.opened;
  d.ws.close();
  b.ws.close();
});

test('too many streams: the next publisher is closed with 1013 (HTTP 503); players are not counted', async (t) => {
  const { server, port } = await startServer({ limits: { streams: 1 } });
  t.teardown(() => server.stop());
  const a = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await a.opened;
  const b = new RecordingSocket(`ws://127.0.0.1:${port}/live/b.flv`, ['publisher']);
  t.deepEqual(await b.closed, { code: CLOSE.tryAgainLater, reason: 'too many streams' });
  const post = await fetchRaw(`http://127.0.0.1:${port}/live/c.flv`, { method: 'POST', body: Buffer.from('x') });
  t.is(post.status, 503);
  t.is(post.body, 'too many streams\n');
  const player = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  await player.opened;
  player.ws.close();
  a.ws.close();
});

test('slow request headers get 408 after timeouts.headersMs', async (t) => {
  const { server, port } = await startServer({ timeouts: { headersMs: 300 } });
  t.teardown(() => server.stop());
  const started = Date.now();
  const answer = await rawRequest(port, 'GET /live/a.flv HTTP/1.1\r\nHost: x\r\n', { keepOpenMs: 5000 });
  t.is(statusOf(answer), 408);
  t.true(Date.now() - started < 3000);
  // The same for a handshake that never completes.
  const upgrade = await rawRequest(port, 'GET /live/a.flv HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n', { keepOpenMs: 5000 });
  t.is(statusOf(upgrade), 408);
});

test('garbage and oversized request heads get 400 and 431; the server keeps serving', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  t.is(statusOf(await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n')), 400);
  t.is(statusOf(await rawRequest(port, Buffer.from([0, 1, 2, 3, 0xff, 13, 10, 13, 10]))), 400);
  t.is(statusOf(await rawRequest(port, `GET /live/a.flv HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)), 431);
  t.is(statusOf(await rawRequest(port, 'GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')), 404);
});

test('a peer that disappears mid-request or mid-handshake costs nothing', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  for (const bytes of ['GET /live/a.flv HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 'POST /live/a.flv HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab']) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(bytes);
    await delay(50);
    socket.resetAndDestroy();
  }
  await until(() => server.connections().length === 0);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/nothing`)).status, 404);
});

test('a handler that throws costs its connection only (closed 1011)', async (t) => {
  const { server, port } = await startServer({}, {}, (s) =>
    s.acceptPlayers('ws', () => {
      throw new Error('boom');
    }),
  );
  t.teardown(() => server.stop());
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  t.deepEqual(await ws.closed, { code: CLOSE.internalError, reason: 'internal error' });
  const again = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  t.is((await again.closed).code, CLOSE.internalError);
});

test('keep-alive: a WebSocket peer that stops answering pings is cut; a live one stays', async (t) => {
  // Long enough that a live peer on a loaded test machine always answers within one interval.
  const { server, port, players } = await startServer({ keepalive: { intervalMs: 500 } });
  t.teardown(() => server.stop());
  const dead = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, [], { autoPong: false });
  const alive = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  await Promise.all([dead.opened, alive.opened]);
  const closed = await dead.closed;
  t.is(closed.code, 1006, 'cut without a close frame');
  await delay(1500);
  t.is(alive.ws.readyState, alive.ws.OPEN);
  await until(() => server.connections().length === 1);
  t.is(players.length, 2);
  alive.ws.close();
});

test('TLS: https and wss on the same port, both directions', async (t) => {
  const tls = selfSignedCert();
  const { server, port, players, publishers } = await startServer({ tls });
  t.teardown(() => server.stop());
  t.regex(server.url('ws'), /^wss:\/\/127\.0\.0\.1:\d+$/);
  const publisher = new RecordingSocket(`wss://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await publisher.opened;
  const player = new RecordingSocket(`wss://127.0.0.1:${port}/play?app=live&stream=a`);
  await player.opened;
  await until(() => players.length === 1 && publishers.length === 1);
  t.is(publishers[0]!.transport, 'wss');
  t.is(players[0]!.transport, 'wss');
  players[0]!.write([wsBinaryFrame(Buffer.from('secure'))], 1);
  await player.received(6);
  t.is(player.data.toString(), 'secure');
  const response = new Promise<IncomingMessage>((resolve, reject) =>
    httpsGet(`https://127.0.0.1:${port}/live/a.flv`, { rejectUnauthorized: false }, resolve).on('error', reject),
  );
  await until(() => players.length === 2);
  t.is(players[1]!.transport, 'https');
  players[1]!.write([httpChunk(Buffer.from('tls body'))], 1);
  const res = await response;
  t.is(res.headers['content-type'], 'video/x-flv');
  players[1]!.close(CLOSE.normal, 'done');
  let body = '';
  for await (const chunk of res) body += chunk;
  t.is(body, 'tls body');
  // Plain HTTP on the TLS port is not answered as a stream.
  await t.throwsAsync(fetchRaw(`http://127.0.0.1:${port}/live/a.flv`));
  publisher.ws.close();
  player.ws.close();
});

test('TLS: a peer that connects and never starts the handshake is cut after timeouts.headersMs; others are served', async (t) => {
  const { server, port } = await startServer({ tls: selfSignedCert(), timeouts: { headersMs: 1000 } });
  t.teardown(() => server.stop());
  const status = () =>
    new Promise<number>((resolve, reject) =>
      httpsGet(`https://127.0.0.1:${port}/nothing`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
  const silent = connect(port, '127.0.0.1');
  silent.on('error', () => undefined);
  await once(silent, 'connect');
  const cut = new Promise<boolean>((resolve) => {
    silent.once('close', () => resolve(true));
    // Far below Node's own 120 s TLS handshake timeout, far above 1 s on a loaded machine.
    setTimeout(() => resolve(false), 20_000).unref();
  });
  t.is(await status(), 404, 'served while the silent peer holds its socket');
  t.true(await cut, 'the silent peer was disconnected');
  t.is(silent.bytesRead, 0, 'without an answer: there was no request to answer');
  t.is(await status(), 404, 'still served afterwards');
});

test('unreadable TLS files fail start() with a clear error', async (t) => {
  const server = newServer({ tls: { key: '/nonexistent/key.pem', cert: '/nonexistent/cert.pem' } });
  server.route('GET', '/', (_req, res) => res.end());
  const error = await t.throwsAsync(server.start());
  t.is((error as { code?: string }).code, 'WSFLV_ERR_SERVER_START');
  t.regex(error!.message, /TLS/);
});

test('a port in use fails start() with a clear error', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  const second = newServer({ port });
  second.route('GET', '/', (_req, res) => res.end());
  const error = await t.throwsAsync(second.start());
  t.regex(error!.message, /cannot listen on 127\.0\.0\.1:\d+/);
});

test('route(): longest prefix wins, methods are checked, a failing handler answers 500, stream URLs stay live', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.stop());
  server.route('GET', '/', (_req, res) => res.end('root'));
  server.route('GET', '/api', (_req, res, url) => res.end(`api ${url.pathname} ${url.query.q ?? ''}`));
  server.route('POST', '/api/fail', () => {
    throw new Error('handler bug');
  });
  const off = server.route('GET', '/api/async-fail', async () => {
    throw new Error('async handler bug');
  });
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/streams?q=1`)).body, 'api /api/streams 1');
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api`)).body, 'api /api ');
  t.is((await fetchRaw(`http://127.0.0.1:${port}/apix`)).body, 'root');
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/fail`, { method: 'POST' })).status, 500);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/fail`, { method: 'DELETE' })).status, 405);
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/async-fail`)).status, 500);
  off();
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/async-fail`)).body, 'api /api/async-fail ');
  // A stream URL under a mounted prefix is still a stream URL.
  t.is((await fetchRaw(`http://127.0.0.1:${port}/api/x.flv`, { method: 'DELETE' })).status, 405);
});

test('stop(): WebSocket peers get 1001, HTTP players see the end of the body, the port is released', async (t) => {
  const { server, port, players } = await startServer();
  const ws = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`);
  const publisher = new RecordingSocket(`ws://127.0.0.1:${port}/live/a.flv`, ['publisher']);
  await Promise.all([ws.opened, publisher.opened]);
  const response = new Promise<IncomingMessage>((resolve) => httpGet(`http://127.0.0.1:${port}/live/a.flv`, resolve));
  await until(() => players.length === 2);
  players.find((p) => p.framing === 'http')!.write([httpChunk(Buffer.from('x'))], 1);
  const res = await response;
  res.resume();
  const ended = once(res, 'end');
  await server.stop();
  t.deepEqual(await ws.closed, { code: CLOSE.goingAway, reason: 'server shutting down' });
  t.deepEqual(await publisher.closed, { code: CLOSE.goingAway, reason: 'server shutting down' });
  await ended;
  t.true(res.complete);
  await t.throwsAsync(fetchRaw(`http://127.0.0.1:${port}/nothing`));
});

test('stop() cuts a peer that never answers the close handshake, within timeouts.closeMs', async (t) => {
  const { server, port } = await startServer({ timeouts: { closeMs: 300 } });
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  // A raw handshake, then silence: the close frame is never answered.
  socket.write('GET /live/a.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  await once(socket, 'data');
  const started = Date.now();
  await server.stop();
  t.true(Date.now() - started < 2000);
  await once(socket, 'close');
});
