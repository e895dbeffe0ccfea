import test from 'ava';
import { Writable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { authConfigSchema, Secret } from '../core/access/config.js';
import { checkSignature, signature, signedMessage, signUrl } from '../core/access/signed-url.js';
import { CLOSE } from '../core/live/close.js';
import { App } from '../core/pipeline/app.js';
import { ConfigError, ParsedConfigFile } from '../core/pipeline/config.js';
import { LIVE_SERVER } from '../core/server/listener.js';
import { parseExpires } from '../cli/sign.js';
import { tempDir } from './helpers/app.js';
import { assertWsRefused, httpCall, PLAY_SECRET, PUBLISH_SECRET, roundTrip, startAccessApp, wsClient } from './helpers/access.js';
import { runCli } from './helpers/cli.js';
import { livePipeline, liveModules } from './helpers/live-app.js';
import { fixture } from './helpers/live-clients.js';

const now = () => Math.floor(Date.now() / 1000);

// ---- the signature itself ----

test('sign = lowercase hex HMAC-SHA256(secret, "/APP/STREAM.flv:EXPIRES") (vector checked with openssl)', (t) => {
  t.is(signedMessage('live', 'cam1', 1700000000), '/live/cam1.flv:1700000000');
  // printf '%s' '/live/cam1.flv:1700000000' | openssl dgst -sha256 -hmac '0123456789abcdefXYZ'
  t.is(signature('0123456789abcdefXYZ', 'live', 'cam1', 1700000000), '39546f57f0232ae3a5b62a32c95b0d9fb003a3afbe1f1383766055f08eb7537c');
});

test('signUrl signs the canonical path whatever the URL form, replaces an old signature and keeps other parameters', (t) => {
  const expires = 1_900_000_000;
  const sign = signature(PUBLISH_SECRET, 'live', 'cam1', expires);
  const path = new URL(signUrl('ws://127.0.0.1:8080/live/cam1.flv?token=a%20b', PUBLISH_SECRET, expires));
  t.is(path.searchParams.get('expires'), String(expires));
  t.is(path.searchParams.get('sign'), sign);
  t.is(path.searchParams.get('token'), 'a b');
  const query = new URL(signUrl('https://example.test/publish?app=live&stream=cam1&expires=5&sign=00', PUBLISH_SECRET, expires));
  t.is(query.pathname, '/publish');
  t.is(query.searchParams.getAll('expires').join(), String(expires));
  t.is(query.searchParams.getAll('sign').join(), sign);
  t.throws(() => signUrl('http://h/api/streams', PUBLISH_SECRET, expires), { message: /not a stream URL/ });
  t.throws(() => signUrl('/live/a.flv', PUBLISH_SECRET, expires), { message: /not an absolute URL/ });
  t.throws(() => signUrl('ftp://h/live/a.flv', PUBLISH_SECRET, expires), { message: /ws:\/\// });
});

test('checkSignature: ok until and including EXPIRES, then expired; every alteration is invalid', (t) => {
  const expires = 1_800_000_000;
  const sign = signature(PLAY_SECRET, 'live', 'cam1', expires);
  const check = (query: Record<string, string>, at = expires, stream = 'cam1', secret = PLAY_SECRET) => checkSignature(secret, 'live', stream, query, at);
  t.deepEqual(check({ expires: String(expires), sign }), { ok: true });
  t.deepEqual(check({ expires: String(expires), sign: sign.toUpperCase() }), { ok: true });
  t.deepEqual(check({ expires: String(expires), sign }, expires + 1), { ok: false, problem: 'expired' });
  t.deepEqual(check({}), { ok: false, problem: 'missing' });
  const invalid = { ok: false, problem: 'invalid' };
  t.deepEqual(check({ expires: String(expires) }), invalid);
  t.deepEqual(check({ sign }), invalid);
  t.deepEqual(check({ expires: String(expires + 1), sign }), invalid, 'expiry moved');
  t.deepEqual(check({ expires: `0${expires}`, sign }), invalid, 'not canonical decimal');
  t.deepEqual(check({ expires: String(expires), sign }, expires, 'cam2'), invalid, 'another stream');
  t.deepEqual(check({ expires: String(expires), sign }, expires, 'cam1', PUBLISH_SECRET), invalid, 'another secret');
  t.deepEqual(check({ expires: String(expires), sign: `${sign[0] === 'a' ? 'b' : 'a'}${sign.slice(1)}` }), invalid, 'one digit changed');
  t.deepEqual(check({ expires: String(expires), sign: sign.slice(0, 62) }), invalid, 'short');
  t.deepEqual(check({ expires: String(expires), sign: `${sign}00` }), invalid, 'long');
  t.deepEqual(check({ expires: String(expires), sign: `${sign.slice(0, 63)}g` }), invalid, 'not hex');
  // An expired URL with a wrong signature says nothing about its expiry.
  t.deepEqual(check({ expires: String(expires), sign: '0'.repeat(64) }, expires + 100), invalid);
});

test('wsflv sign --expires: durations, seconds from now, UNIX times', (t) => {
  t.is(parseExpires('90s', 1000), 1090);
  t.is(parseExpires('30m', 1000), 2800);
  t.is(parseExpires('1h', 1000), 4600);
  t.is(parseExpires('7d', 1000), 1000 + 7 * 86400);
  t.is(parseExpires('3600', 1000), 4600);
  t.is(parseExpires('1900000000', 1000), 1_900_000_000);
  t.throws(() => parseExpires('1 week', 1000));
  t.throws(() => parseExpires('-5', 1000));
});

// ---- configuration ----

test('secrets print as [secret] everywhere but reveal(); short ones are refused at load', async (t) => {
  const auth = authConfigSchema.parse({ apps: { live: { publishSecret: PUBLISH_SECRET, playSecret: null } } });
  const secret = auth.apps.live!.publishSecret!;
  t.true(secret instanceof Secret);
  t.is(secret.reveal(), PUBLISH_SECRET);
  for (const shown of [JSON.stringify(auth), inspect(auth, { depth: 9 }), `${secret}`]) t.false(shown.includes(PUBLISH_SECRET), shown);
  t.is(auth.apps.live!.playSecret, undefined, 'an unset ${VAR:-} is no secret');
  t.is(authConfigSchema.parse({ default: { playSecret: 1234567890123456 } }).default.playSecret!.reveal(), '1234567890123456');

  const yaml = livePipeline({ server: '  auth: { apps: { live: { publishSecret: short } } }' });
  const file = join(tempDir('wsflv-auth-'), 'pipeline.yaml');
  writeFileSync(file, yaml);
  const error = await t.throwsAsync(App.fromParsed(new ParsedConfigFile(file, yaml, {}), { modules: liveModules, logger: pino({ level: 'silent' }) }));
  t.true(error instanceof ConfigError);
  t.regex(error!.message + (error as ConfigError).diagnostics.map((d) => d.message).join('\n'), /at least 16 characters/);
  t.false(JSON.stringify((error as ConfigError).diagnostics).includes('short'));
});

// ---- end to end ----

const AUTH = `  auth:
    apps:
      live:
        publishSecret: \${PUBLISH_SECRET}
        playSecret: \${PLAY_SECRET}
      open: {}
    default:
      playSecret: \${PLAY_SECRET}`;
const ENV = { PUBLISH_SECRET, PLAY_SECRET };

function start() {
  return startAccessApp(AUTH, ENV);
}

for (const [publishScheme, playScheme] of [['ws', 'ws'], ['http', 'http'], ['ws', 'http']] as const) {
  test(`signed publish over ${publishScheme} and signed play over ${playScheme} are let in; media flows`, async (t) => {
    const live = await start();
    t.teardown(() => live.stop());
    const expires = now() + 600;
    await roundTrip(
      t,
      signUrl(`${live.url(publishScheme)}/live/a.flv`, PUBLISH_SECRET, expires),
      signUrl(`${live.url(playScheme)}/play?app=live&stream=a`, PLAY_SECRET, expires),
    );
  });
}

test('the /publish?app=&stream= form takes the signature made for /APP/STREAM.flv', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const expires = now() + 600;
  const sign = signature(PUBLISH_SECRET, 'live', 'q', expires);
  const playSign = signature(PLAY_SECRET, 'live', 'q', expires);
  await roundTrip(t, `${live.url('ws')}/publish?app=live&stream=q&expires=${expires}&sign=${sign}`, `${live.url('ws')}/live/q.flv?expires=${expires}&sign=${playSign}`);
});

/** Every way a URL can fail the check, with what the peer is told. */
function badUrls(base: string, app: string, stream: string, secret: string, otherSecret: string) {
  const expired = now() - 5;
  const valid = now() + 600;
  const url = `${base}/${app}/${stream}.flv`;
  return [
    { name: 'expired', url: signUrl(url, secret, expired), status: 403, code: CLOSE.forbidden, reason: 'signature expired' },
    { name: 'missing', url, status: 401, code: CLOSE.unauthorized, reason: 'signature required' },
    {
      name: 'tampered expiry',
      url: signUrl(url, secret, valid).replace(`expires=${valid}`, `expires=${valid + 3600}`),
      status: 401,
      code: CLOSE.unauthorized,
      reason: 'invalid signature',
    },
    { name: 'tampered stream', url: signUrl(`${base}/${app}/other.flv`, secret, valid).replace('/other.flv', `/${stream}.flv`), status: 401, code: CLOSE.unauthorized, reason: 'invalid signature' },
    { name: 'signed for the other direction', url: signUrl(url, otherSecret, valid), status: 401, code: CLOSE.unauthorized, reason: 'invalid signature' },
    { name: 'garbage sign', url: `${url}?expires=${valid}&sign=xyz`, status: 401, code: CLOSE.unauthorized, reason: 'invalid signature' },
  ];
}

test('WebSocket publishers and players with a bad signature are closed 4401 / 4403 before any media', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  for (const [role, secret, other] of [['publish', PUBLISH_SECRET, PLAY_SECRET], ['play', PLAY_SECRET, PUBLISH_SECRET]] as const) {
    for (const bad of badUrls(live.url('ws'), 'live', 'a', secret, other)) {
      const socket = wsClient(bad.url, role);
      await assertWsRefused(t, socket, { code: bad.code, reason: bad.reason }, `${role}: ${bad.name}`);
    }
  }
  // The default entry applies to apps not listed: playing is signed there, publishing open.
  const unsigned = wsClient(`${live.url('ws')}/other/a.flv`, 'play');
  await assertWsRefused(t, unsigned, { code: CLOSE.unauthorized, reason: 'signature required' });
  t.is(live.server.connections().length, 0);
});

test('HTTP publishers and players with a bad signature get 401 / 403 before any media', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const body = fixture().subarray(0, 200_000);
  for (const [role, secret, other] of [['publish', PUBLISH_SECRET, PLAY_SECRET], ['play', PLAY_SECRET, PUBLISH_SECRET]] as const) {
    for (const bad of badUrls(live.url('http'), 'live', 'a', secret, other)) {
      const answer = role === 'publish' ? await httpCall(bad.url, { method: 'POST', body }) : await httpCall(bad.url);
      t.is(answer.status, bad.status, `${role}: ${bad.name}`);
      t.is(answer.body, `${bad.reason}\n`, `${role}: ${bad.name}`);
      t.not(answer.headers['content-type'], 'video/x-flv');
    }
  }
  t.is((await httpCall(`${live.url('http')}/live/a.flv`, { method: 'HEAD' })).status, 401, 'HEAD answers what GET would');
  t.is(live.server.connections().length, 0);
});

test('an app listed without secrets is open both ways', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  await roundTrip(t, `${live.url('ws')}/open/a.flv`, `${live.url('http')}/open/a.flv`);
});

test('wsflv sign prints URLs the server takes: wsflv publish with one, a player with another', async (t) => {
  const live = await start();
  t.teardown(() => live.stop());
  const play = await runCli(['sign', `${live.url('ws')}/live/cli.flv`, '--expires', '10m'], { env: { WSFLV_SIGN_SECRET: PLAY_SECRET } });
  t.is(play.code, 0, play.stderr);
  t.regex(play.stdout, /^ws:\/\/127\.0\.0\.1:\d+\/live\/cli\.flv\?expires=\d+&sign=[0-9a-f]{64}\n$/);
  t.regex(play.stderr, /valid until/);
  const player = wsClient(play.stdout.trim(), 'play');
  await player.opened;
  const publish = await runCli(['sign', `${live.url('http')}/live/cli.flv`, '--secret', PUBLISH_SECRET, '--expires', '600']);
  t.is(publish.code, 0, publish.stderr);
  const sent = await runCli(['publish', 'test/fixtures/h264-aac-642x362-2s.flv', publish.stdout.trim(), '--no-realtime']);
  t.is(sent.code, 0, sent.stderr);
  t.is((await player.closed).code, CLOSE.streamEnded);
  t.true(player.bytes > 10_000);
  const refused = await runCli(['publish', 'test/fixtures/h264-aac-642x362-2s.flv', `${live.url('ws')}/live/cli.flv`, '--no-realtime']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /4401|signature required/);
  t.is((await runCli(['sign', `${live.url('ws')}/live/cli.flv`, '--secret', 'too-short'])).code, 2);
});

test('secrets never reach the logs, even at trace level', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const yaml = livePipeline({ source: 'publish', sinks: ['ws-play'], sinkOptions: 'waitForPublisherMs: 30000, graceMs: 0', server: AUTH });
  const file = join(tempDir('wsflv-auth-'), 'pipeline.yaml');
  writeFileSync(file, yaml);
  const app = await App.fromParsed(new ParsedConfigFile(file, yaml, ENV), { modules: liveModules, logger: pino({ level: 'trace' }, destination) });
  await app.start();
  t.teardown(() => app.stop(3000));
  const server = app.container.get(LIVE_SERVER);
  const base = server.url('ws');
  await assertWsRefused(t, wsClient(`${base}/live/a.flv`, 'publish'), { code: CLOSE.unauthorized, reason: 'signature required' });
  const expired = wsClient(signUrl(`${base}/live/a.flv`, PLAY_SECRET, now() - 1), 'play');
  await expired.closed;
  const player = wsClient(signUrl(`${base}/live/a.flv`, PLAY_SECRET, now() + 60), 'play');
  await player.opened;
  player.ws.close();
  await player.closed;
  app.logger.info({ config: server.config }, 'config dump');
  const log = lines.join('');
  t.regex(log, /signed URLs required/);
  t.regex(log, /config dump/);
  t.false(log.includes(PUBLISH_SECRET));
  t.false(log.includes(PLAY_SECRET));
});
