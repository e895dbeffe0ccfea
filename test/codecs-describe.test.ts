import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describeTrack } from '../core/codecs/describe.js';
import { CodecConfigError } from '../core/errors.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { muxFlvHeader, muxTag } from '../core/flv/muxer.js';
import type { Codec, MediaPacket } from '../core/media/packet.js';
import type { TrackInfo } from '../core/media/track.js';
import { CODEC_FIXTURES, FIXTURES, mp4Record, oggFirstPacket, probe } from './helpers/codec-records.js';

function demux(bytes: Buffer): MediaPacket[] {
  const d = new FlvDemuxer();
  const packets = d.push(bytes);
  d.end();
  return packets;
}

function firstInfo(packets: MediaPacket[], kind: 'audio' | 'video'): TrackInfo | undefined {
  for (const p of packets) {
    if (p.kind !== kind) continue;
    const info = describeTrack(p);
    if (info) return info;
  }
  return undefined;
}

const videoLevel = (codec: Codec, level: number) =>
  codec === 'avc' ? `${Math.floor(level / 10)}.${level % 10}` : codec === 'hevc' ? (level / 30).toFixed(1) : `${2 + (level >> 2)}.${level & 3}`;

function expectVideo(t: import('ava').ExecutionContext, info: TrackInfo | undefined, file: string) {
  const p = probe(file, 'video');
  t.truthy(info, `${file}: a video track`);
  t.deepEqual(
    { width: info?.width, height: info?.height, profile: info?.profile?.toLowerCase(), level: info?.level },
    { width: p.width, height: p.height, profile: p.profile?.toLowerCase(), level: videoLevel(info!.codec, p.level!) },
    file,
  );
}

function expectAudio(t: import('ava').ExecutionContext, info: TrackInfo | undefined, file: string) {
  const p = probe(file, 'audio');
  t.truthy(info, `${file}: an audio track`);
  t.deepEqual({ sampleRate: info?.sampleRate, channels: info?.channels }, { sampleRate: Number(p.sample_rate), channels: p.channels }, file);
}

for (const file of ['aac-only-10s.flv', 'h264-aac-360p30-10s.flv', 'h264-mp3-240p25-5s.flv', 'h264-only-240p25-10s.flv']) {
  test(`describeTrack on the demuxed ${file} agrees with ffprobe`, (t) => {
    const packets = demux(readFileSync(`${FIXTURES}${file}`));
    const video = firstInfo(packets, 'video');
    const audio = firstInfo(packets, 'audio');
    if (file.startsWith('h264')) {
      expectVideo(t, video, file);
      t.regex(video!.codecString ?? '', /^avc1\.[0-9a-f]{6}$/);
    } else {
      t.is(video, undefined);
    }
    if (file.includes('aac') || file.includes('mp3')) {
      expectAudio(t, audio, file);
      t.is(audio!.codecString, file.includes('aac') ? 'mp4a.40.2' : 'mp4a.6B');
    } else {
      t.is(audio, undefined);
    }
  });
}

/** An FLV with one Enhanced RTMP SequenceStart tag per record, as an Enhanced RTMP publisher would send it. */
function enhancedFlv(tags: { kind: 'audio' | 'video'; fourcc: string; record: Buffer }[]): Buffer {
  const parts = [muxFlvHeader({ audio: true, video: true })];
  for (const { kind, fourcc, record } of tags) {
    // Video: IsExHeader | FrameType key (1) | PacketType SequenceStart (0). Audio: SoundFormat ExHeader (9) | SequenceStart.
    const first = kind === 'video' ? 0x80 | (1 << 4) : 9 << 4;
    parts.push(muxTag({ kind, dts: 0, body: Buffer.concat([Buffer.from([first]), Buffer.from(fourcc, 'latin1'), record]) }));
  }
  return Buffer.concat(parts);
}

test('Enhanced RTMP sequence starts (hvc1, av01, avc1, Opus, mp4a) are described from the demuxed packets', (t) => {
  const cases = [
    { kind: 'video' as const, fourcc: 'hvc1', file: 'hevc-642x362-main.mp4', record: mp4Record('hevc-642x362-main.mp4', 'hvcC') },
    { kind: 'video' as const, fourcc: 'av01', file: 'av1-320x240-main10.mp4', record: mp4Record('av1-320x240-main10.mp4', 'av1C') },
    { kind: 'video' as const, fourcc: 'avc1', file: 'avc-642x362-high444.mp4', record: mp4Record('avc-642x362-high444.mp4', 'avcC') },
    { kind: 'audio' as const, fourcc: 'Opus', file: 'opus-5.1.ogg', record: oggFirstPacket('opus-5.1.ogg') },
    { kind: 'audio' as const, fourcc: 'mp4a', file: 'aac-main-96k-5.1.m4a', record: mp4Record('aac-main-96k-5.1.m4a', 'esds') },
  ];
  const packets = demux(enhancedFlv(cases));
  t.is(packets.length, cases.length);
  for (const [i, c] of cases.entries()) {
    const info = describeTrack(packets[i]!);
    if (c.kind === 'video') expectVideo(t, info, c.file);
    else expectAudio(t, info, c.file);
  }
  t.deepEqual(packets.map((p) => describeTrack(p)?.codecString), ['hvc1.1.6.L63.90', 'av01.0.00M.10', 'avc1.f4001e', 'opus', 'mp4a.40.1']);
  t.is(describeTrack(packets[3]!)?.codec, 'opus');
});

function packet(kind: 'audio' | 'video', codec: Codec, body: number[], extra: Partial<MediaPacket> = {}): MediaPacket {
  return {
    kind, codec, body: Buffer.from(body), dts: 0, cts: 0, pts: 0, keyframe: true, config: false, endOfSequence: false,
    dataOffset: 1, ...extra,
  };
}

test('legacy audio without a configuration: rate and channels from the first byte', (t) => {
  const info = (codec: Codec, first: number, rest: number[] = [0, 0, 0, 0]) => {
    const i = describeTrack(packet('audio', codec, [first, ...rest]));
    return i && [i.sampleRate, i.channels];
  };
  // SoundFormat << 4 | SoundRate << 2 | SoundSize << 1 | SoundType
  t.deepEqual(info('pcm-le', (3 << 4) | (2 << 2) | (1 << 1) | 1), [22050, 2]);
  t.deepEqual(info('pcm', (0 << 4) | (0 << 2) | (0 << 1) | 0), [5512, 1]);
  t.deepEqual(info('adpcm', (1 << 4) | (1 << 2) | (1 << 1) | 0), [11025, 1]);
  t.deepEqual(info('mp3', (2 << 4) | (3 << 2) | (1 << 1) | 1), [44100, 2]);
  t.deepEqual(info('mp3-8k', (14 << 4) | (3 << 2) | (1 << 1) | 0), [8000, 1]);
  t.deepEqual(info('nellymoser', (4 << 4) | (3 << 2) | (1 << 1) | 1), [16000, 1]);
  t.deepEqual(info('nellymoser', (5 << 4) | (3 << 2) | (1 << 1) | 1), [8000, 1]);
  t.deepEqual(info('nellymoser', (6 << 4) | (2 << 2) | (1 << 1) | 0), [22050, 1]);
  t.deepEqual(info('g711a', (7 << 4) | (3 << 2) | (1 << 1) | 0), [8000, 1]);
  t.deepEqual(info('g711u', (8 << 4) | (3 << 2) | (1 << 1) | 1), [8000, 2]);
  t.deepEqual(info('speex', (11 << 4) | (0 << 2) | (1 << 1) | 0), [16000, 1]);
});

test('MP3: the MPEG frame header wins over the flags, which cannot say 48 or 32 kHz', (t) => {
  // FF FB: MPEG-1 layer III; 0x94: 128 kbit/s, 48 kHz; 0xC4: mono.
  const mpeg1 = describeTrack(packet('audio', 'mp3', [(2 << 4) | (3 << 2) | 3, 0xff, 0xfb, 0x94, 0xc4]));
  t.like(mpeg1, { sampleRate: 48000, channels: 1, codecString: 'mp4a.6B' });
  // FF F3: MPEG-2 layer III; 0x84: 24 kHz; 0x00: stereo.
  const mpeg2 = describeTrack(packet('audio', 'mp3', [(2 << 4) | (2 << 2) | 2, 0xff, 0xf3, 0x84, 0x00]));
  t.like(mpeg2, { sampleRate: 24000, channels: 2, codecString: 'mp4a.69' });
  // Enhanced RTMP '.mp3': the first byte is the ExHeader, only the frame header tells.
  const ex = [0x91, ...Buffer.from('.mp3', 'latin1')];
  t.like(describeTrack(packet('audio', 'mp3', [...ex, 0xff, 0xfb, 0x90, 0x00], { dataOffset: 5 })), { sampleRate: 44100, channels: 2 });
  t.is(describeTrack(packet('audio', 'mp3', [...ex, 0, 0, 0, 0], { dataOffset: 5 })), undefined);
});

test('packets that say nothing about the track return undefined', (t) => {
  t.is(describeTrack(packet('audio', 'aac', [0xaf, 0x01, 0x21])), undefined);
  t.is(describeTrack(packet('video', 'avc', [0x27, 0x01, 0, 0, 0])), undefined);
  t.is(describeTrack(packet('video', 'h263', [0x22, 0, 0])), undefined);
  t.is(describeTrack({ ...packet('video', 'amf0', [2, 0, 1, 0x61]), kind: 'script' }), undefined);
  t.is(describeTrack(packet('audio', 'mp3', [])), undefined);
});

test('configurations this project does not parse still name the codec', (t) => {
  t.deepEqual(describeTrack(packet('video', 'vp9', [0x90, 0x76, 0x70, 0x30, 0x39, 1, 0, 0, 0], { config: true, dataOffset: 5 })), { kind: 'video', codec: 'vp9' });
});

test('a malformed configuration throws CodecConfigError', (t) => {
  const truncated = packet('video', 'avc', [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f], { config: true, dataOffset: 5 });
  const err = t.throws(() => describeTrack(truncated), { instanceOf: CodecConfigError, message: /^AVCDecoderConfigurationRecord/ });
  t.is(err?.code, 'WSFLV_ERR_CODEC_CONFIG');
  t.throws(() => describeTrack(packet('audio', 'aac', [0xaf, 0x00], { config: true, dataOffset: 2 })), { instanceOf: CodecConfigError });
  t.throws(() => describeTrack(packet('audio', 'opus', [0x90, 0x4f, 0x70, 0x75, 0x73, 1, 2], { config: true, dataOffset: 5 })), { instanceOf: CodecConfigError });
});

// The expectations are a snapshot so that the suite runs without ffmpeg; where ffprobe exists, check
// the snapshot still says what ffprobe says.
const hasFfprobe = spawnSync('ffprobe', ['-version']).status === 0;
(hasFfprobe ? test : test.skip)('probe.json agrees with a live ffprobe run', (t) => {
  const snapshot = JSON.parse(readFileSync(`${CODEC_FIXTURES}probe.json`, 'utf8')) as Record<string, unknown[]>;
  for (const [file, streams] of Object.entries(snapshot)) {
    const path = file.endsWith('.flv') ? `${FIXTURES}${file}` : `${CODEC_FIXTURES}${file}`;
    const out = spawnSync('ffprobe', [
      '-v', 'error', '-show_entries', 'stream=codec_type,codec_name,profile,level,width,height,pix_fmt,sample_rate,channels',
      '-of', 'json', path,
    ], { encoding: 'utf8' });
    t.is(out.status, 0, file);
    t.deepEqual((JSON.parse(out.stdout) as { streams: unknown[] }).streams, streams, file);
  }
});
