import test from 'ava';
import { LimitsGate } from '../core/access/limits-gate.js';
import { CLOSE } from '../core/live/close.js';
import type { LiveApp } from './helpers/live-app.js';
import { assertWsRefused, HookServer, httpCall, httpPlay, startAccessApp, until, wsClient } from './helpers/access.js';
import type { RecordingSocket } from './helpers/live-clients.js';

/** Two peers on one machine: 127.0.0.2 is loopback too (Linux routes all of 127/8 to lo). */
const A = '127.0.0.1';
const B = '127.0.0.2';

function count(live: LiveApp, role: 'publisher' | 'player', ip?: string): number {
  return live.server.connections().filter((c) => c.role === role && (!ip || c.address.startsWith(`${ip}:`))).length;
}

async function open(socket: RecordingSocket, all: RecordingSocket[]): Promise<RecordingSocket> {
  all.push(socket);
  await socket.opened;
  return socket;
}

function closeAll(sockets: RecordingSocket[]): void {
  for (const socket of sockets) socket.ws.terminate();
}

test('publishersPerIp: the next publisher from that address gets close 1013 / HTTP 429; another address may publish', async (t) => {
  const live = await startAccessApp('  limits: { publishersPerIp: 1 }');
  t.teardown(() => live.stop());
  const sockets: RecordingSocket[] = [];
  t.teardown(() => closeAll(sockets));
  const first = await open(wsClient(`${live.url('ws')}/live/a.flv`, 'publish', A), sockets);
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/b.flv`, 'publish', A), { code: CLOSE.tryAgainLater, reason: 'too many publishers from this address' });
  const post = await httpCall(`${live.url('http')}/live/c.flv`, { method: 'POST', body: Buffer.from('FLV'), localAddress: A });
  t.is(post.status, 429);
  t.is(post.body, 'too many publishers from this address\n');
  await open(wsClient(`${live.url('ws')}/live/d.flv`, 'publish', B), sockets);
  t.is(count(live, 'publisher', A), 1);
  t.is(count(live, 'publisher', B), 1);
  // Players are not publishers.
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'play', A), sockets);
  // The slot comes back when the publisher leaves.
  first.ws.close();
  await until(() => count(live, 'publisher', A) === 0);
  await open(wsClient(`${live.url('ws')}/live/e.flv`, 'publish', A), sockets);
});

test('playersPerIp: the next player from that address gets close 1013 / HTTP 429; another address may play', async (t) => {
  const live = await startAccessApp('  limits: { playersPerIp: 2 }');
  t.teardown(() => live.stop());
  const sockets: RecordingSocket[] = [];
  t.teardown(() => closeAll(sockets));
  const first = await open(wsClient(`${live.url('ws')}/live/a.flv`, 'play', A), sockets);
  await open(wsClient(`${live.url('ws')}/live/b.flv`, 'play', A), sockets);
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'play', A), { code: CLOSE.tryAgainLater, reason: 'too many players from this address' });
  const get = await httpCall(`${live.url('http')}/live/a.flv`, { localAddress: A });
  t.is(get.status, 429);
  t.is(get.body, 'too many players from this address\n');
  t.is((await httpCall(`${live.url('http')}/live/a.flv`, { method: 'HEAD', localAddress: A })).status, 429, 'HEAD answers what GET would');
  // Another address: one player over each transport.
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'play', B), sockets);
  httpPlay(`${live.url('http')}/live/a.flv`, B).catch(() => undefined);
  await until(() => count(live, 'player', B) === 2);
  t.is(count(live, 'player', A), 2);
  // Publishers are not players.
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'publish', A), sockets);
  first.ws.close();
  await until(() => count(live, 'player', A) === 1);
  await open(wsClient(`${live.url('ws')}/live/c.flv`, 'play', A), sockets);
});

test('players: the total across addresses, close 1013 / HTTP 503; streams is the total of publishers', async (t) => {
  const live = await startAccessApp('  limits: { players: 2, streams: 1 }');
  t.teardown(() => live.stop());
  const sockets: RecordingSocket[] = [];
  t.teardown(() => closeAll(sockets));
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'play', A), sockets);
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'play', B), sockets);
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'play', B), { code: CLOSE.tryAgainLater, reason: 'too many players' });
  const get = await httpCall(`${live.url('http')}/live/a.flv`, { localAddress: A });
  t.is(get.status, 503);
  t.is(get.body, 'too many players\n');
  await open(wsClient(`${live.url('ws')}/live/a.flv`, 'publish', A), sockets);
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/b.flv`, 'publish', B), { code: CLOSE.tryAgainLater, reason: 'too many streams' });
  t.is(count(live, 'player'), 2);
  t.is(count(live, 'publisher'), 1);
});

test('a slot is held while the hooks decide: two publishers racing for the last one cannot both get it', async (t) => {
  const hooks = await HookServer.start();
  t.teardown(() => hooks.stop());
  let allow!: () => void;
  const decided = new Promise<number>((resolve) => (allow = () => resolve(200)));
  hooks.reply = (body) => (body.action === 'on_publish' ? decided : 200);
  const live = await startAccessApp(`  limits: { publishersPerIp: 1 }\n${hooks.config('timeoutMs: 20000')}`);
  t.teardown(() => live.stop());
  const sockets: RecordingSocket[] = [];
  t.teardown(() => closeAll(sockets));
  const first = wsClient(`${live.url('ws')}/live/a.flv`, 'publish', A);
  sockets.push(first);
  await hooks.until(() => hooks.of('on_publish').length === 1);
  // The second is refused by the limit at once, without a hook call, while the first still waits.
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/b.flv`, 'publish', A), { code: CLOSE.tryAgainLater, reason: 'too many publishers from this address' });
  t.is(hooks.of('on_publish').length, 1);
  allow();
  await first.opened;
  t.is(count(live, 'publisher', A), 1);
  // The slot comes back when it leaves.
  first.ws.close();
  await until(() => count(live, 'publisher', A) === 0);
  const gate = live.app.container.get(LimitsGate);
  await until(() => gate.held('publish', A) === 0);
});

test('a peer that leaves while the hook decides gives its slot back', async (t) => {
  const hooks = await HookServer.start();
  t.teardown(() => hooks.stop());
  hooks.reply = (body) => (body.action === 'on_play' ? 'hang' : 200);
  const live = await startAccessApp(`  limits: { playersPerIp: 1 }\n${hooks.config('timeoutMs: 1500\n    onTimeout: allow')}`);
  t.teardown(() => live.stop());
  const gate = live.app.container.get(LimitsGate);
  const gone = wsClient(`${live.url('ws')}/live/a.flv`, 'play', A);
  await hooks.until(() => hooks.of('on_play').length === 1);
  t.is(gate.held('play', A), 1);
  gone.ws.terminate();
  // Released once the hook has had its time and the listener finds the socket gone.
  await until(() => gate.held('play', A) === 0);
  const next = wsClient(`${live.url('ws')}/live/a.flv`, 'play', A);
  await next.opened;
  t.is(gate.held('play', A), 1);
  next.ws.terminate();
  await until(() => gate.held('play', A) === 0);
});
