import test from 'ava';
import { systemClock } from '../core/clock.js';
import { decodeScriptData, encodeScriptData } from '../core/flv/amf0.js';
import { muxTag } from '../core/flv/muxer.js';
import { LiveChannel, type ChannelSettings } from '../core/live/channel.js';
import { ChannelTag } from '../core/live/framed-tag.js';
import { GopCache, NO_GOP } from '../core/live/gop-cache.js';
import { httpChunk } from '../core/live/http-chunk.js';
import { FlushScheduler } from '../core/live/flush-scheduler.js';
import type { PlayerLimits } from '../core/live/player.js';
import { CLOSE } from '../core/live/close.js';
import { wsBinaryFrame } from '../core/live/ws-frame.js';
import { createLogger } from '../core/logger.js';
import type { MediaPacket } from '../core/media/packet.js';
import { delay, fixturePackets, MemoryTransport, socketPlayer, type PlayerClient } from './helpers/live.js';

const AV = fixturePackets('h264-aac-360p30-10s.flv');
const AUDIO_ONLY = fixturePackets('aac-only-10s.flv');
const VIDEO_ONLY = fixturePackets('h264-only-240p25-10s.flv');
const KEY = 'live/cam';
const LIMITS: PlayerLimits = { maxQueueBytes: 8 << 20, maxQueueMs: 60_000, stallTimeoutMs: 10_000, coalesceMs: 0, coalesce: 'fixed' };
const logger = createLogger({ level: 'silent' });

function makeChannel(t: import('ava').ExecutionContext) {
  const schedulers = new Map<number, FlushScheduler>();
  const channel = new LiveChannel(KEY, {
    clock: systemClock,
    logger,
    scheduler: (ms) => schedulers.get(ms) ?? schedulers.set(ms, new FlushScheduler(ms)).get(ms)!,
    ended: () => {},
  });
  t.teardown(() => channel.end(CLOSE.goingAway, 'test over'));
  return channel;
}

const settings = (overrides: Partial<ChannelSettings> = {}): ChannelSettings => ({ headerWaitMs: 1000, graceMs: 0, ...overrides });
const indexAt = (packets: MediaPacket[], dts: number) => packets.findIndex((p) => p.dts >= dts);
const lastIndex = <T>(items: T[], predicate: (item: T) => boolean) => items.map(predicate).lastIndexOf(true);
const isVideoFrame = (p: MediaPacket) => p.kind === 'video' && !p.config;

function checkStart(t: import('ava').ExecutionContext, client: PlayerClient, audio: boolean, video: boolean) {
  t.is(client.hasAudio, audio, 'FLV header audio flag');
  t.is(client.hasVideo, video, 'FLV header video flag');
  const [metadata] = client.tags;
  t.is(metadata!.packet.kind, 'script');
  const script = decodeScriptData(metadata!.packet.body);
  t.is(script.name, 'onMetaData');
  t.is(script.wrapped, undefined, 'never @setDataFrame');
  const firstVideo = client.tags.find((x) => isVideoFrame(x.packet));
  if (firstVideo) t.true(firstVideo.packet.keyframe, 'the first video frame is a keyframe');
}

for (const framing of ['ws', 'http'] as const) {
  for (const coalesceMs of [0, 20]) {
    test(`late joiner (${framing}, window ${coalesceMs} ms): header, metadata, configurations, GOP, then every live tag as published`, async (t) => {
      const channel = makeChannel(t);
      const publication = channel.publish({}, settings(), new GopCache());
      const joinAt = indexAt(AV, 4500);
      for (const p of AV.slice(0, joinAt)) publication.push(p);
      const { transport, client } = await socketPlayer(KEY, framing);
      channel.addPlayer(transport, { ...LIMITS, coalesceMs }, 0);
      for (const p of AV.slice(joinAt)) publication.push(p);
      publication.end();
      await client.closed();
      checkStart(t, client, true, true);
      const [, first, second] = client.tags;
      t.true(first!.packet.config && first!.packet.kind === 'video');
      t.true(second!.packet.config && second!.packet.kind === 'audio');
      const keyframe = lastIndex(AV.slice(0, joinAt), (p) => isVideoFrame(p) && p.keyframe);
      t.is(AV[keyframe]!.dts, 4000);
      const expected = AV.slice(keyframe).map((p) => muxTag(p));
      const got = client.tags.slice(3).map((x) => x.raw);
      t.is(got.length, expected.length);
      t.true(got.every((raw, i) => raw.equals(expected[i]!)), 'byte-identical to the published tags');
      if (framing === 'ws') t.deepEqual(client.close, { code: CLOSE.streamEnded, reason: 'the publisher ended the stream' });
      t.is(transport.closedWith?.code, CLOSE.streamEnded);
    });
  }
}

test('every player of a framing is handed the same Buffer objects; each tag is framed once per framing', (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings(), new GopCache());
  const players = [new MemoryTransport(KEY, 'ws'), new MemoryTransport(KEY, 'ws'), new MemoryTransport(KEY, 'http'), new MemoryTransport(KEY, 'http')];
  for (const p of AV.slice(0, 100)) publication.push(p);
  for (const transport of players) channel.addPlayer(transport, LIMITS, 0);
  for (const p of AV.slice(100, 300)) publication.push(p);
  const [ws1, ws2, http1, http2] = players.map((x) => x.frames);
  t.true(ws1!.length > 200);
  t.is(ws1!.length, ws2!.length);
  t.is(http1!.length, ws1!.length);
  ws1!.forEach((buffer, i) => {
    t.is(buffer, ws2![i]);
    t.is(http1![i], http2![i]);
  });
  // The framing really is per transport: same FLV inside, framed differently.
  const flv = muxTag(AV[150]!);
  const at = ws1!.findIndex((b) => b.equals(wsBinaryFrame(flv)));
  t.true(at > 0);
  t.true(http1![at]!.equals(httpChunk(flv)));
});

test('@setDataFrame metadata reaches players as a plain onMetaData', async (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings(), new GopCache());
  const metadata = AV[0]!.script!.values[0] as Record<string, unknown>;
  const body = encodeScriptData('@setDataFrame', ['onMetaData', metadata]);
  publication.push({ ...AV[0]!, body, script: decodeScriptData(body) });
  for (const p of AV.slice(1, 50)) publication.push(p);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  channel.addPlayer(transport, LIMITS, 0);
  await client.until((c) => c.tags.length > 3);
  checkStart(t, client, true, true);
  t.deepEqual(decodeScriptData(client.tags[0]!.packet.body).values[0], metadata);
  channel.end(CLOSE.goingAway, 'test over');
});

test('the header waits for an announced track, then is written with the tracks that came', async (t) => {
  const channel = makeChannel(t);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  const started = Date.now();
  const publication = channel.publish({}, settings({ headerWaitMs: 200 }), new GopCache());
  const player = channel.addPlayer(transport, LIMITS, 0);
  // Metadata announces audio and video; only video is published.
  for (const p of AV.slice(0, 60).filter((x) => x.kind !== 'audio')) publication.push(p);
  t.is(player.state, 'waiting');
  await client.until((c) => c.tags.length > 0, 3000);
  t.true(Date.now() - started >= 190, 'not before the bound');
  checkStart(t, client, false, true);
  t.is(channel.stats.tracks?.audio, false);
  channel.end(CLOSE.goingAway, 'test over');
});

test('a player waiting for the tracks starts as soon as every announced track is seen', (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings({ headerWaitMs: 60_000 }), new GopCache());
  const transport = new MemoryTransport(KEY);
  const player = channel.addPlayer(transport, LIMITS, 0);
  publication.push(AV[0]!);
  publication.push(AV[1]!);
  t.is(player.state, 'waiting', 'video configuration only');
  publication.push(AV[2]!);
  t.is(player.state, 'live');
  t.is(transport.frames[0]![2 + 4], 0x05, 'audio and video flags (after the 2-byte WebSocket header)');
  for (const p of AV.slice(3, 40)) publication.push(p);
  // Header, metadata, both configurations, then the keyframe at 0 and what follows, each once.
  t.is(transport.frames.length, 1 + 40);
  channel.end(CLOSE.goingAway, 'test over');
});

test('video-only and audio-only streams get matching header flags', async (t) => {
  for (const [packets, audio, video] of [[VIDEO_ONLY, false, true], [AUDIO_ONLY, true, false]] as const) {
    const channel = makeChannel(t);
    const publication = channel.publish({}, settings({ headerWaitMs: 60_000 }), new GopCache());
    for (const p of packets.slice(0, 100)) publication.push(p);
    const { transport, client } = await socketPlayer(KEY, 'ws');
    channel.addPlayer(transport, LIMITS, 0);
    for (const p of packets.slice(100, 110)) publication.push(p);
    await client.until((c) => c.tags.length >= 3);
    checkStart(t, client, audio, video);
    channel.end(CLOSE.goingAway, 'test over');
  }
});

test('audio-only: a joiner starts at once on the next audio frame and no GOP is kept', async (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings(), new GopCache());
  for (const p of AUDIO_ONLY.slice(0, 300)) publication.push(p);
  t.is(channel.stats.gop.frames, 0);
  t.is(channel.stats.gop.bytes, 0);
  const { transport, client } = await socketPlayer(KEY, 'ws');
  const player = channel.addPlayer(transport, LIMITS, 0);
  t.is(player.state, 'live', 'no wait for the header');
  publication.push(AUDIO_ONLY[300]!);
  await client.until((c) => c.tags.length >= 3);
  t.deepEqual(client.tags.map((x) => [x.packet.kind, x.packet.config]), [['script', false], ['audio', true], ['audio', false]]);
  t.true(client.tags[2]!.raw.equals(muxTag(AUDIO_ONLY[300]!)));
  t.is(channel.stats.gop.frames, 0);
  channel.end(CLOSE.goingAway, 'test over');
});

test('without a GOP a joiner gets metadata and configurations, then starts at the next keyframe', async (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings(), new GopCache(NO_GOP));
  const joinAt = indexAt(AV, 4500);
  for (const p of AV.slice(0, joinAt)) publication.push(p);
  const { transport, client } = await socketPlayer(KEY, 'http');
  channel.addPlayer(transport, LIMITS, 0);
  for (const p of AV.slice(joinAt, indexAt(AV, 6000))) publication.push(p);
  await client.until((c) => c.tags.some((x) => x.packet.dts >= 5500));
  checkStart(t, client, true, true);
  t.true(client.tags[1]!.packet.config && client.tags[2]!.packet.config);
  t.is(client.tags[3]!.packet.dts, 5000, 'nothing before the keyframe at 5000 ms');
  t.true(client.tags[3]!.packet.keyframe && client.tags[3]!.packet.kind === 'video');
  const from = AV.findIndex((p) => p.dts === 5000 && isVideoFrame(p));
  const got = client.tags.slice(3);
  t.true(got.every((x, i) => x.raw.equals(muxTag(AV[from + i]!))));
  channel.end(CLOSE.goingAway, 'test over');
});

test('a new sequence header mid-stream reaches players in order and replaces the cached one', async (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings(), new GopCache());
  const early = await socketPlayer(KEY, 'ws');
  channel.addPlayer(early.transport, LIMITS, 0);
  const switchAt = indexAt(AV, 3000);
  const before = AV.slice(0, switchAt);
  // The encoder restarts at 320x240: new avcC, then its own GOP, timestamps carrying on.
  const after = VIDEO_ONLY.slice(1, 120).map((p) => ({ ...p, dts: p.dts + 3000, pts: p.pts + 3000 }));
  const sent = [...before, ...after];
  for (const p of sent) publication.push(p);
  await early.client.until((c) => c.tags.length === sent.length);
  t.true(early.client.tags.every((x, i) => x.raw.equals(muxTag(sent[i]!))), 'in order, byte-identical');
  const newConfig = muxTag(after[0]!);

  const late = await socketPlayer(KEY, 'ws');
  channel.addPlayer(late.transport, LIMITS, 0);
  await late.client.until((c) => c.tags.some((x) => isVideoFrame(x.packet)));
  const configs = late.client.tags.filter((x) => x.packet.kind === 'video' && x.packet.config);
  t.is(configs.length, 1);
  t.true(configs[0]!.raw.equals(newConfig), 'the new configuration, not the old one');
  const firstFrame = late.client.tags.find((x) => isVideoFrame(x.packet))!;
  t.true(firstFrame.packet.keyframe);
  t.true(firstFrame.packet.dts >= 3000);
  channel.end(CLOSE.goingAway, 'test over');
});

test('tags are muxed once: a ChannelTag per packet, shared by the cache and every player', (t) => {
  const channel = makeChannel(t);
  const cache = new GopCache();
  const publication = channel.publish({}, settings(), cache);
  for (const p of AV.slice(0, 30)) publication.push(p);
  const transport = new MemoryTransport(KEY);
  channel.addPlayer(transport, LIMITS, 0);
  const snapshot = cache.snapshot().tags;
  t.true(snapshot.every((x) => x instanceof ChannelTag));
  t.deepEqual(transport.frames.slice(1), snapshot.map((x) => (x as ChannelTag).framed('ws')));
  transport.frames.slice(1).forEach((frame, i) => t.is(frame, (snapshot[i] as ChannelTag).framed('ws')));
  channel.end(CLOSE.goingAway, 'test over');
});

test('ending the channel closes waiting and live players with the code and reason', async (t) => {
  const channel = makeChannel(t);
  const publication = channel.publish({}, settings({ headerWaitMs: 60_000 }), new GopCache());
  const live = new MemoryTransport(KEY);
  for (const p of AV.slice(0, 30)) publication.push(p);
  channel.addPlayer(live, LIMITS, 0);
  const revoked: number[] = [];
  publication.onRevoked((code) => revoked.push(code));
  channel.end(CLOSE.goingAway, 'the server is shutting down');
  t.deepEqual(live.closedWith, { code: CLOSE.goingAway, reason: 'the server is shutting down' });
  t.deepEqual(revoked, [CLOSE.goingAway]);
  t.is(channel.state, 'ended');
  await delay(0);
});
