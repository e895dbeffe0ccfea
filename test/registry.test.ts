import test from 'ava';
import { Container } from 'inversify';
import 'reflect-metadata';
import { firstValueFrom, from, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { CLOCK, systemClock } from '../core/clock.js';
import { muxTag } from '../core/flv/muxer.js';
import { GopCache } from '../core/live/gop-cache.js';
import { liveModule } from '../core/live/module.js';
import { LIVE_REGISTRY, LiveRegistry } from '../core/live/registry.js';
import { PublisherRevokedError, StreamBusyError } from '../core/live/close.js';
import { CLOSE } from '../core/live/close.js';
import { createLogger, LOGGER } from '../core/logger.js';
import type { MediaPacket } from '../core/media/packet.js';
import { Metrics, METRICS } from '../core/metrics.js';
import { LIFECYCLE } from '../core/pipeline/app.js';
import type { StreamContext } from '../core/pipeline/component.js';
import { feedChannel, liveSinkOptions, playOptions } from '../sinks/live.js';
import { StreamError } from '../core/pipeline/stream-error.js';
import { delay, fixturePackets, MemoryTransport, socketPlayer, type PlayerClient } from './helpers/live.js';

const AV = fixturePackets('h264-aac-360p30-10s.flv');
const KEY = 'live/cam';
const logger = createLogger({ level: 'silent' });
const isVideoFrame = (p: MediaPacket) => p.kind === 'video' && !p.config;

function makeRegistry(t: import('ava').ExecutionContext) {
  const metrics = new Metrics();
  const registry = new LiveRegistry(logger, systemClock, metrics);
  void registry.start();
  t.teardown(() => registry.stop());
  return { registry, metrics };
}

function ctxFor(key: string, shared = new Map<symbol, unknown>()): StreamContext {
  return { pipeline: 'live', key, origin: { transport: 'ws', address: '127.0.0.1:1' }, logger, shared, signal: new AbortController().signal, hold: () => false };
}

function monotonic(client: PlayerClient): boolean {
  const last: Record<string, number> = {};
  return client.tags.every(({ packet }) => {
    if (packet.kind === 'script') return true;
    const ok = packet.dts >= (last[packet.kind] ?? -Infinity);
    last[packet.kind] = packet.dts;
    return ok;
  });
}

test('liveModule binds one registry, also as a lifecycle service', (t) => {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(LOGGER).toConstantValue(logger);
  container.bind(METRICS).toConstantValue(new Metrics());
  container.bind(CLOCK).toConstantValue(systemClock);
  container.load(liveModule);
  const registry = container.get(LIVE_REGISTRY);
  t.true(registry instanceof LiveRegistry);
  t.is(container.get(LIVE_REGISTRY), registry);
  t.deepEqual(container.getAll(LIFECYCLE), [registry]);
});

test('a player before the publisher waits its configured time, then gets CLOSE.streamNotFound', async (t) => {
  const { registry } = makeRegistry(t);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  const started = Date.now();
  registry.play(transport, { waitForPublisherMs: 300 });
  t.false(registry.has(KEY));
  await client.closed();
  t.true(Date.now() - started >= 290, `closed after ${Date.now() - started} ms`);
  t.is(client.close?.code, CLOSE.streamNotFound);
  t.regex(client.close!.reason, /no stream is being published at live\/cam \(waited 300 ms\)/);
  t.is(registry.get(KEY), undefined, 'the empty channel is forgotten');
});

test('with no wait a player is refused at once', (t) => {
  const { registry } = makeRegistry(t);
  const transport = new MemoryTransport(KEY);
  const player = registry.play(transport, { waitForPublisherMs: 0 });
  t.is(player.state, 'closed');
  t.is(transport.closedWith?.code, CLOSE.streamNotFound);
  t.is(transport.writes.length, 0);
  t.is(registry.get(KEY), undefined);
});

test('a waiting player starts when the publisher arrives in time', async (t) => {
  const { registry } = makeRegistry(t);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  const started = Date.now();
  registry.play(transport, { waitForPublisherMs: 1000 });
  await delay(50);
  const publication = registry.publish(KEY, { gop: new GopCache() });
  for (const p of AV.slice(0, 100)) publication.push(p);
  await client.until((c) => c.tags.length >= 100);
  await delay(1200 - (Date.now() - started));
  t.false(client.ended, 'not closed at the deadline');
  t.true(client.hasAudio && client.hasVideo);
  t.true(client.tags.find((x) => isVideoFrame(x.packet))!.packet.keyframe);
});

test('has(key): live and grace, not before or after', async (t) => {
  const { registry } = makeRegistry(t);
  t.false(registry.has(KEY));
  const publication = registry.publish(KEY, { graceMs: 100 });
  t.true(registry.has(KEY));
  publication.end();
  t.true(registry.has(KEY));
  t.is(registry.list()[0]?.state, 'grace');
  await delay(200);
  t.false(registry.has(KEY));
  t.deepEqual(registry.list(), []);
});

test('the publisher returns within the grace period: same connection, monotonic timestamps, new sequence headers', async (t) => {
  const { registry } = makeRegistry(t);
  const first = registry.publish(KEY, { graceMs: 2000, gop: new GopCache() });
  const half = AV.slice(0, AV.findIndex((p) => p.dts >= 5000));
  for (const p of half) first.push(p);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  // The sessions are pushed in no time: media-time bound wide enough to hold one whole.
  registry.play(transport, { maxQueueMs: 60_000 });
  await client.until((c) => c.tags.length > 10);
  first.end();
  await delay(150);
  t.false(client.ended, 'the player stays through the grace period');
  const received = client.tags.length;
  const lastDts = Math.max(...client.tags.map((x) => x.packet.dts));

  // The publisher comes back and starts again from 0.
  const second = registry.publish(KEY, { graceMs: 0, gop: new GopCache() });
  for (const p of AV) second.push(p);
  second.end();
  await client.closed();
  t.is(client.close?.code, CLOSE.streamEnded);
  const resumed = client.tags.slice(received);
  t.is(resumed.length, AV.length, 'every tag of the new session');
  t.true(resumed[0]!.packet.dts > lastDts, `timeline continues: ${resumed[0]!.packet.dts} after ${lastDts}`);
  t.true(monotonic(client), 'timestamps never go back');
  const offset = resumed[0]!.packet.dts - AV[0]!.dts;
  t.true(resumed.every((x, i) => x.packet.dts === AV[i]!.dts + offset), 'shifted by one constant offset');
  t.true(resumed.filter((x) => x.packet.config).length === 2, 'new sequence headers sent');
  t.true(resumed.find((x) => isVideoFrame(x.packet))!.packet.keyframe);
  t.true(resumed[1]!.raw.subarray(11, -4).equals(AV[1]!.body), 'tag bodies untouched');
});

test('the publisher does not return: players get CLOSE.streamEnded when the grace period ends', async (t) => {
  const { registry } = makeRegistry(t);
  const publication = registry.publish(KEY, { graceMs: 200 });
  for (const p of AV.slice(0, 50)) publication.push(p);
  const { transport, client } = await socketPlayer(KEY, 'http');
  const ws = await socketPlayer(KEY, 'ws');
  registry.play(transport);
  registry.play(ws.transport);
  const left = Date.now();
  publication.end();
  await Promise.all([client.closed(), ws.client.closed()]);
  t.true(Date.now() - left >= 190);
  t.deepEqual(ws.client.close, { code: CLOSE.streamEnded, reason: 'the publisher left and did not return within 200 ms' });
  t.is(transport.closedWith?.code, CLOSE.streamEnded);
  t.true(client.ended, 'HTTP players get the last chunk');
  t.false(registry.has(KEY));
});

test("a second publisher is rejected under 'reject'", (t) => {
  const { registry } = makeRegistry(t);
  const first = registry.publish(KEY);
  const error = t.throws(() => registry.publish(KEY, { policy: 'reject' }), { instanceOf: StreamBusyError });
  t.is(error?.closeCode, CLOSE.streamBusy);
  t.is(error?.code, 'WSFLV_ERR_STREAM_BUSY');
  t.true(first.active);
});

test("a second publisher takes the stream over under 'takeover'; players carry on", async (t) => {
  const { registry } = makeRegistry(t);
  const first = registry.publish(KEY, { gop: new GopCache() });
  const revoked: [number, string][] = [];
  first.onRevoked((code, reason) => revoked.push([code, reason]));
  for (const p of AV.slice(0, 200)) first.push(p);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  registry.play(transport);
  const second = registry.publish(KEY, { policy: 'takeover', gop: new GopCache(), graceMs: 0 });
  t.deepEqual(revoked, [[CLOSE.streamBusy, 'another publisher took over the stream']]);
  t.false(first.active);
  for (const p of AV.slice(200, 210)) first.push(p);
  first.end();
  t.true(registry.has(KEY), "the old publisher's pushes and end are ignored");
  for (const p of AV) second.push(p);
  second.end();
  await client.closed();
  t.true(monotonic(client));
  t.is(client.tags.filter((x) => x.packet.config).length, 4, 'configurations of both publishers');
});

test('list() and players() report the streams', async (t) => {
  const { registry } = makeRegistry(t);
  const publication = registry.publish(KEY, { gop: new GopCache(), info: { id: 'pub-1', origin: { transport: 'ws', address: '10.0.0.1:5' } } });
  for (const p of AV.slice(0, 100)) publication.push(p);
  const a = new MemoryTransport(KEY);
  const b = new MemoryTransport(KEY, 'http');
  registry.play(a);
  registry.play(b);
  const [stats] = registry.list();
  t.is(stats!.key, KEY);
  t.is(stats!.state, 'live');
  t.is(stats!.publisher?.id, 'pub-1');
  t.deepEqual(stats!.tracks, { audio: true, video: true });
  t.is(stats!.players, 2);
  t.is(stats!.tagsIn, 100);
  t.is(stats!.bytesIn, AV.slice(0, 100).reduce((n, p) => n + muxTag(p).length, 0));
  t.true(stats!.bytesOut > 0);
  t.true(stats!.gop.frames > 0);
  const players = registry.players(KEY);
  t.deepEqual(players.map((p) => p.transport).sort(), ['http', 'ws']);
  t.true(players.every((p) => p.state === 'live' && p.tagsSent > 0 && p.framesDropped === 0));
});

test('stop() closes every player with CLOSE.goingAway and revokes publishers', async (t) => {
  const { registry } = makeRegistry(t);
  const publication = registry.publish(KEY);
  const revoked: number[] = [];
  publication.onRevoked((code) => revoked.push(code));
  for (const p of AV.slice(0, 30)) publication.push(p);
  const live = new MemoryTransport(KEY);
  const waiting = new MemoryTransport('live/other');
  registry.play(live);
  registry.play(waiting, { waitForPublisherMs: 10_000 });
  await registry.stop();
  t.is(live.closedWith?.code, CLOSE.goingAway);
  t.is(waiting.closedWith?.code, CLOSE.goingAway);
  t.deepEqual(revoked, [CLOSE.goingAway]);
  t.deepEqual(registry.list(), []);
});

test('players that never read cannot grow server memory; readers are unaffected', async (t) => {
  const { registry, metrics } = makeRegistry(t);
  const bound = 128 * 1024;
  const limits = { maxQueueBytes: bound, maxQueueMs: 4000, stallTimeoutMs: 400, coalesceMs: 20 };
  const publication = registry.publish(KEY, { gop: new GopCache() });
  for (const p of AV.slice(0, 4)) publication.push(p);
  const stalled = await Promise.all(Array.from({ length: 12 }, () => socketPlayer(KEY, 'ws', false)));
  for (const { transport } of stalled) registry.play(transport, limits);
  const reader = await socketPlayer(KEY, 'ws');
  registry.play(reader.transport, { maxQueueBytes: 64 << 20, maxQueueMs: 600_000, stallTimeoutMs: 600_000, coalesceMs: 20 });
  let peakQueued = 0;
  let sent = 4;
  for (let loop = 0; loop < 100 && stalled.some(({ transport }) => !transport.closedWith); loop++) {
    for (const p of AV.slice(4)) {
      publication.push({ ...p, dts: p.dts + loop * 10_100 });
      sent++;
    }
    await delay(25);
    const queued = registry.players(KEY).filter((p) => p.id !== reader.transport.id).reduce((n, p) => n + p.queuedBytes, 0);
    peakQueued = Math.max(peakQueued, queued);
  }
  const biggest = Math.max(...AV.map((p) => muxTag(p).length)) + 10;
  t.true(stalled.every(({ transport }) => transport.closedWith?.code === CLOSE.slowConsumer), 'every stalled player closed');
  t.true(peakQueued <= stalled.length * (bound + 2 * biggest), `peak queued for stalled players: ${peakQueued} bytes`);
  await reader.client.until((c) => c.tags.length >= sent, 10_000);
  t.is(reader.client.tags.length, sent);
  t.true(monotonic(reader.client));
  const dropped = await metrics.registry.getSingleMetric('wsflv_live_frames_dropped_total')!.get();
  t.true(dropped.values[0]!.value > 0);
  const closed = await metrics.registry.getSingleMetric('wsflv_live_players_closed_total')!.get();
  t.is(closed.values.find((v) => v.labels.code === String(CLOSE.slowConsumer))?.value, stalled.length);
  for (const { client } of stalled) client.socket.destroy();
  t.log(`${sent} tags published, peak ${peakQueued} bytes queued for ${stalled.length} stalled players`);
});

test('feedChannel: one feed per stream session, however many play sinks call it', async (t) => {
  const { registry } = makeRegistry(t);
  const options = liveSinkOptions.parse({ graceMs: 0 });
  const ctx = ctxFor(KEY);
  let subscriptions = 0;
  const source = new Subject<MediaPacket>();
  const data$ = new Observable<MediaPacket>((subscriber) => {
    subscriptions++;
    return source.subscribe(subscriber);
  });
  const a = lastValueFrom(feedChannel(registry, ctx, data$, options).pipe(toArray()));
  const b = lastValueFrom(feedChannel(registry, { ...ctx, logger }, data$, options).pipe(toArray()));
  t.is(subscriptions, 1);
  t.true(registry.has(KEY));
  for (const p of AV.slice(0, 200)) source.next(p);
  t.is(registry.list()[0]!.tagsIn, 200, 'each packet once');
  t.true(registry.list()[0]!.gop.frames > 0, 'a GOP is kept by default');
  source.complete();
  t.deepEqual(await a, []);
  t.deepEqual(await b, []);
  t.false(registry.has(KEY), 'graceMs 0: the stream ended with its feed');
});

test('feedChannel: a busy key errors with closeCode 4409; a takeover errors the old feed', async (t) => {
  const { registry } = makeRegistry(t);
  const first = new Subject<MediaPacket>();
  const firstFeed = firstValueFrom(feedChannel(registry, ctxFor(KEY), first, liveSinkOptions.parse({})), { defaultValue: 'done' });
  const busy = await t.throwsAsync(lastValueFrom(feedChannel(registry, ctxFor(KEY), from(AV), liveSinkOptions.parse({}))), { instanceOf: StreamBusyError });
  t.is(busy?.closeCode, CLOSE.streamBusy);
  const takeover = liveSinkOptions.parse({ publisherPolicy: 'takeover' });
  const second = feedChannel(registry, ctxFor(KEY), from(AV.slice(0, 10)), takeover).subscribe();
  const revoked = await t.throwsAsync(firstFeed, { instanceOf: PublisherRevokedError });
  t.is(revoked?.closeCode, CLOSE.streamBusy);
  second.unsubscribe();
});

test('liveSinkOptions: defaults, strictness, extension, player options', (t) => {
  const defaults = liveSinkOptions.parse({});
  t.deepEqual(defaults, {
    maxQueueBytes: 4 * 1024 * 1024,
    maxQueueMs: 8000,
    stallTimeoutMs: 10_000,
    coalesceMs: 40,
    coalesce: 'adaptive',
    waitForPublisherMs: 0,
    graceMs: 5000,
    headerWaitMs: 500,
    publisherPolicy: 'reject',
    gop: { maxFrames: 1200, maxBytes: 8 * 1024 * 1024, maxMs: 10_000 },
  });
  t.false(liveSinkOptions.safeParse({ maxQueueByte: 1 }).success);
  t.false(liveSinkOptions.safeParse({ publisherPolicy: 'steal' }).success);
  const extended = liveSinkOptions.extend({ path: (liveSinkOptions.shape.publisherPolicy as never) });
  t.false(extended.safeParse({ nope: 1 }).success, 'extensions stay strict');
  t.deepEqual(playOptions(defaults), { maxQueueBytes: 4 * 1024 * 1024, maxQueueMs: 8000, stallTimeoutMs: 10_000, coalesceMs: 40, coalesce: 'adaptive', waitForPublisherMs: 0 });
});

test('feedChannel: the gop option sizes the late joiner\'s cache; gop: false keeps none', async (t) => {
  const { registry } = makeRegistry(t);
  const withGop = feedChannel(registry, ctxFor(KEY), from(AV.slice(0, 200)), liveSinkOptions.parse({ graceMs: 60_000, gop: { maxFrames: 99 } })).subscribe();
  t.true(registry.list()[0]!.gop.frames > 0);
  t.true(registry.list()[0]!.gop.frames <= 99);
  withGop.unsubscribe();
  const other = 'live/nogop';
  const without = feedChannel(registry, ctxFor(other), from(AV.slice(0, 200)), liveSinkOptions.parse({ graceMs: 60_000, gop: false })).subscribe();
  t.is(registry.list().find((s) => s.key === other)!.gop.frames, 0);
  without.unsubscribe();
});

test('feedChannel: a StreamError closes the players at once with its code; a plain end keeps them for the grace period', async (t) => {
  const { registry } = makeRegistry(t);
  const options = liveSinkOptions.parse({ graceMs: 60_000, waitForPublisherMs: 0 });
  const run = (key: string, error?: Error) => {
    const source = new Subject<MediaPacket>();
    const player = new MemoryTransport(key);
    const feed = lastValueFrom(feedChannel(registry, ctxFor(key), source, options), { defaultValue: undefined }).catch((e: unknown) => e);
    registry.play(player, playOptions(options));
    for (const p of AV.slice(0, 50)) source.next(p);
    if (error) source.error(error);
    else source.complete();
    return { player, feed };
  };
  const ended = run('live/on-purpose', new StreamError({ code: 'TEST_ERR_NO_AUDIO', reason: 'this stream needs audio', close: { ws: 4415 } }));
  t.deepEqual(ended.player.closedWith, { code: 4415, reason: 'this stream needs audio' });
  t.false(registry.has('live/on-purpose'));
  const left = run('live/left');
  t.is(left.player.closedWith, undefined, 'held for the grace period');
  t.true(registry.has('live/left'));
  const failed = run('live/failed', new Error('disk on fire'));
  t.is(failed.player.closedWith, undefined, 'a plain failure is treated like a publisher leaving');
  await ended.feed;
});

test('feedChannel: a StreamError from elsewhere in the chain reaches the players through ctx.signal', async (t) => {
  const { registry } = makeRegistry(t);
  const controller = new AbortController();
  const ctx = { ...ctxFor('live/signal'), signal: controller.signal };
  const player = new MemoryTransport('live/signal');
  const subscription = feedChannel(registry, ctx, new Subject<MediaPacket>(), liveSinkOptions.parse({ graceMs: 60_000 })).subscribe({ error: () => {} });
  registry.play(player, { waitForPublisherMs: 0 });
  controller.abort(new StreamError({ code: 'TEST_ERR', reason: 'ended by a stage', close: { ws: 4000 } }));
  subscription.unsubscribe();
  t.deepEqual(player.closedWith, { code: 4000, reason: 'ended by a stage' });
});
