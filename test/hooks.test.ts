import test from 'ava';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { HookBody } from '../core/access/hooks.js';
import { CLOSE } from '../core/live/close.js';
import { assertWsRefused, HookServer, httpCall, httpPlay, roundTrip, startAccessApp, until, wsClient } from './helpers/access.js';
import { delay, fixture } from './helpers/live-clients.js';

async function setup(t: import('ava').ExecutionContext, extra = '') {
  const hooks = await HookServer.start();
  t.teardown(() => hooks.stop());
  const live = await startAccessApp(hooks.config(extra));
  t.teardown(() => live.stop());
  return { hooks, live };
}

const ADDRESS = /^127\.0\.0\.1:\d+$/;

for (const [publishScheme, playScheme] of [['ws', 'ws'], ['http', 'http']] as const) {
  test(`on_publish / on_play 2xx over ${publishScheme}: let in, with the documented body; on_unpublish / on_stop follow`, async (t) => {
    const { hooks, live } = await setup(t);
    hooks.reply = () => 204;
    await roundTrip(t, `${live.url(publishScheme)}/live/a.flv?token=pub&x=1`, `${live.url(playScheme)}/play?app=live&stream=a&token=view`);
    await hooks.until(() => hooks.of('on_unpublish').length === 1 && hooks.of('on_stop').length === 1);
    const [publish] = hooks.of('on_publish');
    const [play] = hooks.of('on_play');
    t.deepEqual(Object.keys(publish!).sort(), ['action', 'address', 'app', 'clientId', 'query', 'stream', 'transport']);
    t.like(publish, { action: 'on_publish', app: 'live', stream: 'a', transport: publishScheme, query: { token: 'pub', x: '1' } });
    t.regex(publish!.clientId, /^p-\d+$/);
    t.regex(publish!.address, ADDRESS);
    t.like(play, { action: 'on_play', app: 'live', stream: 'a', transport: playScheme, query: { app: 'live', stream: 'a', token: 'view' } });
    t.regex(play!.clientId, /^v-\d+$/);
    // The notices name the same connections.
    t.deepEqual(hooks.of('on_unpublish')[0], { ...publish!, action: 'on_unpublish' });
    t.deepEqual(hooks.of('on_stop')[0], { ...play!, action: 'on_stop' });
    t.is(hooks.calls.length, 4);
  });
}

test('a non-2xx hook answer refuses: WebSocket close 4403, HTTP 403, before any media; no unpublish/stop notice', async (t) => {
  const { hooks, live } = await setup(t);
  hooks.reply = (body) => (body.action === 'on_publish' || body.action === 'on_play' ? (body.stream === 'redirect' ? 302 : 403) : 200);
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'publish'), { code: CLOSE.forbidden, reason: 'denied by on_publish hook' });
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'play'), { code: CLOSE.forbidden, reason: 'denied by on_play hook' });
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/redirect.flv`, 'play'), { code: CLOSE.forbidden, reason: 'denied by on_play hook' });
  const post = await httpCall(`${live.url('http')}/live/a.flv`, { method: 'POST', body: fixture().subarray(0, 100_000) });
  t.is(post.status, 403);
  t.is(post.body, 'denied by on_publish hook\n');
  const get = await httpCall(`${live.url('http')}/live/a.flv`);
  t.is(get.status, 403);
  t.is(get.body, 'denied by on_play hook\n');
  t.is(hooks.of('on_publish').length, 2);
  t.is(hooks.of('on_play').length, 3);
  t.is(live.server.connections().length, 0);
  // A notice would have been sent at once: give it time to arrive, then check there was none.
  await delay(500);
  t.is(hooks.of('on_unpublish').length + hooks.of('on_stop').length, 0);
});

test('the decision comes first: a WebSocket handshake is not answered, an HTTP response not started, until the hook says yes', async (t) => {
  const { hooks, live } = await setup(t);
  let allow!: () => void;
  const decided = new Promise<number>((resolve) => (allow = () => resolve(200)));
  hooks.reply = (body) => (body.action === 'on_publish' || body.action === 'on_play' ? decided : 200);
  const publisher = wsClient(`${live.url('ws')}/live/a.flv`, 'publish');
  let opened = false;
  publisher.ws.once('open', () => (opened = true));
  const player = httpPlay(`${live.url('http')}/live/a.flv`);
  player.then((p) => p.res.destroy(), () => undefined);
  await hooks.until(() => hooks.of('on_publish').length === 1 && hooks.of('on_play').length === 1);
  await delay(300);
  t.false(opened);
  t.is(live.server.connections().length, 0, 'neither was handed to the pipeline');
  allow();
  await publisher.opened;
  await until(() => live.server.connections().some((c) => c.role === 'player'));
  t.is(live.server.connections().filter((c) => c.role === 'publisher').length, 1);
  publisher.ws.terminate();
});

for (const [onTimeout, allowed] of [['allow', true], ['deny', false]] as const) {
  test(`a hook that does not answer within timeoutMs, onTimeout: ${onTimeout}`, async (t) => {
    const { hooks, live } = await setup(t, `timeoutMs: 300\n    onTimeout: ${onTimeout}`);
    hooks.reply = (body) => (body.action === 'on_publish' || body.action === 'on_play' ? 'hang' : 200);
    if (allowed) {
      await roundTrip(t, `${live.url('ws')}/live/a.flv`, `${live.url('ws')}/live/a.flv`);
      await roundTrip(t, `${live.url('http')}/live/b.flv`, `${live.url('http')}/live/b.flv`);
      await hooks.until(() => hooks.of('on_unpublish').length === 2 && hooks.of('on_stop').length === 2);
      t.pass();
      return;
    }
    await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'publish'), { code: CLOSE.tryAgainLater, reason: 'on_publish hook timed out' });
    await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'play'), { code: CLOSE.tryAgainLater, reason: 'on_play hook timed out' });
    const post = await httpCall(`${live.url('http')}/live/a.flv`, { method: 'POST', body: fixture().subarray(0, 100_000) });
    t.is(post.status, 503);
    t.is(post.body, 'on_publish hook timed out\n');
    const get = await httpCall(`${live.url('http')}/live/a.flv`);
    t.is(get.status, 503);
    t.is(get.body, 'on_play hook timed out\n');
    t.is(live.server.connections().length, 0);
  });
}

test('an unreachable hook refuses (503 / close 1013); a failing notice hook is only logged', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const hooks = await HookServer.start();
  t.teardown(() => hooks.stop());
  const live = await startAccessApp(`  hooks:
    on_publish: http://127.0.0.1:${port}/nothing
    on_play: ${hooks.url('on_play')}
    on_stop: http://127.0.0.1:${port}/nothing`);
  t.teardown(() => live.stop());
  await assertWsRefused(t, wsClient(`${live.url('ws')}/live/a.flv`, 'publish'), { code: CLOSE.tryAgainLater, reason: 'on_publish hook unavailable' });
  t.is((await httpCall(`${live.url('http')}/live/a.flv`, { method: 'POST', body: Buffer.from('FLV') })).status, 503);
  const player = wsClient(`${live.url('ws')}/live/a.flv`, 'play');
  await player.opened;
  player.ws.close();
  await player.closed;
  await until(() => live.server.connections().length === 0);
  const again = wsClient(`${live.url('ws')}/live/a.flv`, 'play');
  await again.opened;
  again.ws.close();
});

test('HEAD asks no hook; only the hooks configured are called', async (t) => {
  const hooks = await HookServer.start();
  t.teardown(() => hooks.stop());
  const live = await startAccessApp(`  hooks:\n    on_stop: ${hooks.url('on_stop')}`);
  t.teardown(() => live.stop());
  t.is((await httpCall(`${live.url('http')}/live/a.flv`, { method: 'HEAD' })).status, 200, 'players may wait for the publisher here');
  await roundTrip(t, `${live.url('ws')}/live/a.flv`, `${live.url('ws')}/live/a.flv`);
  await hooks.until(() => hooks.calls.length === 1);
  t.like(hooks.calls[0], { action: 'on_stop', app: 'live', stream: 'a', transport: 'ws' } satisfies Partial<HookBody>);
});
