import test from 'ava';
import { muxTag } from '../core/flv/muxer.js';
import { declaredTracks, GopCache, NO_GOP } from '../core/live/gop-cache.js';
import type { LiveTag } from '../core/live/types.js';
import type { MediaPacket } from '../core/media/packet.js';
import { fixturePackets } from './helpers/live.js';

const AV = fixturePackets('h264-aac-360p30-10s.flv');
const AUDIO_ONLY = fixturePackets('aac-only-10s.flv');
const VIDEO_240P = fixturePackets('h264-only-240p25-10s.flv');

function tag(packet: MediaPacket): LiveTag {
  return { kind: packet.kind, dts: packet.dts, keyframe: packet.keyframe, config: packet.config, flv: muxTag(packet) };
}

function feed(cache: GopCache, packets: MediaPacket[]): LiveTag[] {
  return packets.map((packet) => {
    const t = tag(packet);
    const metadata = packet.script?.name === 'onMetaData' ? (packet.script.values[0] as Record<string, unknown>) : undefined;
    cache.push(t, metadata);
    return t;
  });
}

test('declaredTracks reads hasAudio/hasVideo, else which codec ids are listed', (t) => {
  t.deepEqual(declaredTracks({ hasAudio: true, hasVideo: false }), { audio: true, video: false });
  t.deepEqual(declaredTracks({ videocodecid: 7, width: 640 }), { audio: false, video: true });
  t.deepEqual(declaredTracks({ audiocodecid: 10, videocodecid: 7 }), { audio: true, video: true });
  t.deepEqual(declaredTracks({ hasVideo: true, audiocodecid: 10 }), { audio: true, video: true });
  t.is(declaredTracks({ duration: 0, encoder: 'x' }), undefined);
});

test('a joiner gets metadata, the configurations, then the GOP from its keyframe, in order', (t) => {
  const cache = new GopCache();
  const upTo = AV.findIndex((p) => p.dts > 4500);
  const tags = feed(cache, AV.slice(0, upTo));
  const snapshot = cache.snapshot();
  t.true(snapshot.keyframe);
  const [metadata, first, second, ...gop] = snapshot.tags;
  t.is(metadata, tags[0]);
  t.deepEqual([first!.kind, first!.config, second!.kind, second!.config], ['video', true, 'audio', true]);
  const keyframeAt = tags.map((x) => x.kind === 'video' && x.keyframe && !x.config).lastIndexOf(true);
  t.is(tags[keyframeAt]!.dts, 4000);
  t.deepEqual(gop, tags.slice(keyframeAt), 'the GOP is every tag from the last keyframe, the same objects');
  t.is(cache.stats.frames, gop.length);
  t.is(cache.stats.bytes, gop.reduce((n, x) => n + x.flv.length, 0));
  t.is(cache.stats.spanMs, gop.at(-1)!.dts - 4000);
});

test('header tracks: ready once every announced track is seen, flags are the tracks seen', (t) => {
  const cache = new GopCache();
  const [metadata, videoConfig, audioConfig] = AV;
  feed(cache, [metadata!]);
  t.is(cache.headerTracks(false), undefined, 'nothing seen yet');
  t.is(cache.headerTracks(true), undefined, 'nothing to put in a header even after the wait');
  feed(cache, [videoConfig!]);
  t.is(cache.headerTracks(false), undefined, 'audio was announced and has not come');
  t.deepEqual(cache.headerTracks(true), { audio: false, video: true }, 'after the wait: only what came');
  feed(cache, [audioConfig!]);
  t.deepEqual(cache.headerTracks(false), { audio: true, video: true });
});

test('header tracks without metadata wait for both tracks or the bound', (t) => {
  const cache = new GopCache();
  feed(cache, AUDIO_ONLY.filter((p) => p.kind === 'audio').slice(0, 5));
  t.is(cache.headerTracks(false), undefined);
  t.deepEqual(cache.headerTracks(true), { audio: true, video: false });
});

test('audio-only: ready at the first audio tag and nothing is cached however long it runs', (t) => {
  const cache = new GopCache();
  const tags = feed(cache, AUDIO_ONLY.slice(0, 2));
  t.deepEqual(cache.headerTracks(false), { audio: true, video: false });
  feed(cache, AUDIO_ONLY.slice(2));
  feed(cache, AUDIO_ONLY.slice(2).map((p) => ({ ...p, dts: p.dts + 10_021 })));
  t.is(cache.stats.frames, 0);
  t.is(cache.stats.bytes, 0);
  const snapshot = cache.snapshot();
  t.false(snapshot.keyframe);
  t.deepEqual(snapshot.tags, tags, 'metadata and the AudioSpecificConfig only');
});

test('without a GOP (NO_GOP) metadata and configurations are still kept', (t) => {
  const cache = new GopCache(NO_GOP);
  t.false(cache.enabled);
  const tags = feed(cache, AV);
  t.is(cache.stats.frames, 0);
  t.deepEqual(cache.snapshot(), { tags: tags.slice(0, 3), keyframe: false });
});

for (const [bound, value] of [['maxFrames', 20], ['maxBytes', 20_000], ['maxMs', 300]] as const) {
  test(`a GOP over ${bound} is dropped; caching resumes at the next keyframe`, (t) => {
    const cache = new GopCache({ [bound]: value });
    const first = AV.findIndex((p) => p.dts > 500);
    feed(cache, AV.slice(0, first));
    t.is(cache.overflows, 1);
    t.is(cache.stats.frames, 0);
    t.false(cache.snapshot().keyframe, 'a joiner now waits for the next keyframe');
    t.is(cache.snapshot().tags.length, 3, 'metadata and configurations survive');
    const next = AV.findIndex((p) => p.dts >= 1000 && p.kind === 'video');
    const tags = feed(cache, AV.slice(first, next + 3));
    t.true(cache.snapshot().keyframe);
    t.is(cache.snapshot().tags[3], tags[next - first], 'the new GOP starts at the keyframe at 1000 ms');
    t.true(cache.stats.frames > 0 && cache.stats.frames <= 20);
  });
}

test('a new video configuration replaces the cached one and drops the old GOP', (t) => {
  const cache = new GopCache();
  feed(cache, AV.slice(0, AV.findIndex((p) => p.dts > 1500)));
  const oldConfig = cache.videoConfig;
  const [newConfig] = feed(cache, [{ ...VIDEO_240P[1]!, dts: 1534 }]);
  t.not(newConfig, oldConfig);
  t.is(cache.videoConfig, newConfig);
  t.is(cache.stats.frames, 0, 'frames of the old configuration are not served');
  const snapshot = cache.snapshot();
  t.false(snapshot.keyframe);
  t.true(snapshot.tags.includes(newConfig!));
  t.false(snapshot.tags.includes(oldConfig!));
  const [keyframe] = feed(cache, [{ ...VIDEO_240P[2]!, dts: 1534 }]);
  t.deepEqual(cache.snapshot().tags.slice(1), [newConfig, cache.audioConfig, keyframe]);
});

test('an audio configuration change inside the GOP is kept in place', (t) => {
  const cache = new GopCache();
  feed(cache, AV.slice(0, AV.findIndex((p) => p.dts > 1200)));
  const before = cache.audioConfig!;
  const [changed] = feed(cache, [{ ...AV[2]!, dts: 1210 }]);
  const after = feed(cache, AV.slice(AV.findIndex((p) => p.dts > 1210)).slice(0, 5));
  const tags = cache.snapshot().tags;
  t.is(tags[2], before, 'configurations as they were at the keyframe');
  const at = tags.indexOf(changed!);
  t.true(at > 3);
  t.deepEqual(tags.slice(at + 1), after);
  t.is(cache.audioConfig, changed);
});

test('multitrack: each track keeps its own configuration, and a joiner gets every one', (t) => {
  const cache = new GopCache();
  const [metadata, videoConfig, audioConfig] = feed(cache, AV.slice(0, 3));
  // A second video and a second audio track (Enhanced RTMP OneTrack tags with trackId 1).
  const video1 = { ...tag(VIDEO_240P[1]!), trackId: 1 };
  const audio1 = { ...tag(AUDIO_ONLY.find((p) => p.config)!), trackId: 1 };
  cache.push(video1);
  cache.push(audio1);
  const rest = feed(cache, AV.slice(3, AV.findIndex((p) => p.dts > 1500)));
  const keyframeAt = rest.findIndex((x) => x.kind === 'video' && x.keyframe);
  const snapshot = cache.snapshot();
  t.true(snapshot.keyframe);
  t.deepEqual(snapshot.tags.slice(0, 5), [metadata, videoConfig, video1, audioConfig, audio1], 'video configurations first, then audio');
  t.is(cache.videoConfig, videoConfig, 'the default track is track 0');
  // A new configuration on track 1 replaces track 1's only.
  const video1b = { ...video1, dts: 1600 };
  cache.push(video1b);
  const tags = cache.snapshot().tags;
  t.true(tags.includes(videoConfig!) && tags.includes(video1b) && !tags.includes(video1));
  t.true(keyframeAt >= 0);
});

test('reset forgets the previous publisher', (t) => {
  const cache = new GopCache();
  feed(cache, AV.slice(0, 100));
  cache.reset();
  t.deepEqual(cache.snapshot(), { tags: [], keyframe: false });
  t.deepEqual(cache.seen, { audio: false, video: false });
  t.is(cache.declared, undefined);
  t.is(cache.headerTracks(true), undefined);
});

test('the cached GOP never outgrows its bounds over a long stream', (t) => {
  const cache = new GopCache({ maxFrames: 50, maxBytes: 200_000, maxMs: 800 });
  let peakFrames = 0;
  let peakBytes = 0;
  for (let loop = 0; loop < 3; loop++) {
    for (const p of AV) {
      feed(cache, [{ ...p, dts: p.dts + loop * 10_100 }]);
      peakFrames = Math.max(peakFrames, cache.stats.frames);
      peakBytes = Math.max(peakBytes, cache.stats.bytes);
    }
  }
  t.true(peakFrames <= 50);
  t.true(peakBytes <= 200_000);
  t.true(cache.overflows > 0);
});
