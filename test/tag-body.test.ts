import test from 'ava';
import { FlvTagBodyError, FlvUnsupportedError } from '../core/errors.js';
import { parseAudioTagBody, parseVideoTagBody } from '../core/flv/tag-body.js';

const BASE = 1000;
const b = (...parts: Array<number[] | string | Buffer>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const si24 = (v: number): number[] => {
  const x = Buffer.alloc(3);
  x.writeIntBE(v, 0, 3);
  return [...x];
};
/** Enhanced RTMP video first byte: IsExHeader | FrameType | PacketType. */
const exV = (frameType: number, packetType: number) => [0x80 | (frameType << 4) | packetType];
/** Enhanced RTMP audio first byte: SoundFormat 9 | AudioPacketType. */
const exA = (packetType: number) => [0x90 | packetType];
const payload = [0xde, 0xad, 0xbe, 0xef];

// ---------------------------------------------------------------------------------------------
// Legacy video

test('legacy AVC: sequence header, NALU with signed cts, end of sequence', (t) => {
  t.deepEqual(parseVideoTagBody(b([0x17, 0, 0, 0, 0], payload), BASE), {
    codec: 'avc', keyframe: true, config: true, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.deepEqual(parseVideoTagBody(b([0x27, 1], si24(-67), payload), BASE), {
    codec: 'avc', keyframe: false, config: false, endOfSequence: false, cts: -67, dataOffset: 5,
  });
  t.is(parseVideoTagBody(b([0x17, 1], si24(0x7fffff)), BASE).cts, 0x7fffff);
  t.deepEqual(parseVideoTagBody(b([0x17, 2, 0, 0, 0]), BASE), {
    codec: 'avc', keyframe: true, config: false, endOfSequence: true, cts: 0, dataOffset: 5,
  });
});

test('legacy HEVC (codec id 12) parses like AVC', (t) => {
  t.like(parseVideoTagBody(b([0x1c, 0, 0, 0, 0], payload), BASE), { codec: 'hevc', config: true, keyframe: true, dataOffset: 5 });
  t.like(parseVideoTagBody(b([0x2c, 1], si24(40)), BASE), { codec: 'hevc', config: false, keyframe: false, cts: 40 });
});

test('legacy frame types: key, inter, disposable, generated key, command', (t) => {
  t.true(parseVideoTagBody(b([0x17, 1, 0, 0, 0]), BASE).keyframe);
  t.false(parseVideoTagBody(b([0x27, 1, 0, 0, 0]), BASE).keyframe);
  t.like(parseVideoTagBody(b([0x32], payload), BASE), { codec: 'h263', keyframe: false, dataOffset: 1 });
  t.like(parseVideoTagBody(b([0x47, 1, 0, 0, 0]), BASE), { keyframe: true, config: false });
  // A command frame is neither config nor media; it has no AVCPacketType to misread.
  t.deepEqual(parseVideoTagBody(b([0x57, 0x00]), BASE), {
    codec: 'avc', keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset: 1,
  });
});

test('other legacy video codecs are identified with dataOffset 1', (t) => {
  const expected: Array<[number, string]> = [[1, 'jpeg'], [2, 'h263'], [3, 'screen'], [4, 'vp6'], [5, 'vp6a'], [6, 'screen2']];
  for (const [id, codec] of expected) {
    t.like(parseVideoTagBody(b([0x10 | id], payload), BASE), { codec, keyframe: true, config: false, dataOffset: 1 });
  }
});

test('legacy video errors', (t) => {
  const unknown = t.throws(() => parseVideoTagBody(b([0x19], payload), BASE), { instanceOf: FlvUnsupportedError });
  t.regex(unknown.message, /legacy video codec id 9/);
  t.is(unknown.offset, BASE);
  t.throws(() => parseVideoTagBody(b([0x10], payload), BASE), { instanceOf: FlvUnsupportedError, message: /codec id 0/ });
  t.throws(() => parseVideoTagBody(b([0x07, 1, 0, 0, 0]), BASE), { instanceOf: FlvTagBodyError, message: /reserved video frame type 0/ });
  const short = t.throws(() => parseVideoTagBody(b([0x17, 1, 0]), BASE), { instanceOf: FlvTagBodyError });
  t.is(short.offset, BASE + 2);
  t.regex(short.message, /composition time/);
  t.throws(() => parseVideoTagBody(b([0x17, 3, 0, 0, 0]), BASE), { instanceOf: FlvTagBodyError, message: /AVCPacketType 3/ });
  t.throws(() => parseVideoTagBody(Buffer.alloc(0), BASE), { instanceOf: FlvTagBodyError, message: /too short/ });
});

// ---------------------------------------------------------------------------------------------
// Legacy audio

test('legacy AAC: AudioSpecificConfig and raw frames', (t) => {
  t.deepEqual(parseAudioTagBody(b([0xaf, 0], [0x12, 0x10]), BASE), {
    codec: 'aac', keyframe: true, config: true, endOfSequence: false, cts: 0, dataOffset: 2,
  });
  t.like(parseAudioTagBody(b([0xaf, 1], payload), BASE), { codec: 'aac', config: false, dataOffset: 2 });
  t.throws(() => parseAudioTagBody(b([0xaf]), BASE), { instanceOf: FlvTagBodyError, message: /AACPacketType/ });
  t.throws(() => parseAudioTagBody(b([0xaf, 2]), BASE), { instanceOf: FlvTagBodyError, message: /AACPacketType 2/ });
});

test('other legacy sound formats are identified with dataOffset 1', (t) => {
  const expected: Array<[number, string]> = [
    [0, 'pcm'], [1, 'adpcm'], [2, 'mp3'], [3, 'pcm-le'], [4, 'nellymoser'], [5, 'nellymoser'], [6, 'nellymoser'],
    [7, 'g711a'], [8, 'g711u'], [11, 'speex'], [14, 'mp3-8k'], [15, 'device'],
  ];
  for (const [format, codec] of expected) {
    t.deepEqual(parseAudioTagBody(b([(format << 4) | 0x0f], payload), BASE), {
      codec, keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 1,
    } as never, codec);
  }
  for (const reserved of [12, 13]) {
    t.throws(() => parseAudioTagBody(b([reserved << 4]), BASE), { instanceOf: FlvUnsupportedError, message: /reserved sound format/ });
  }
});

// ---------------------------------------------------------------------------------------------
// Enhanced RTMP video

test('hvc1 SequenceStart and CodedFrames (with composition time)', (t) => {
  t.deepEqual(parseVideoTagBody(b(exV(1, 0), 'hvc1', payload), BASE), {
    codec: 'hevc', keyframe: true, config: true, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.deepEqual(parseVideoTagBody(b(exV(2, 1), 'hvc1', si24(-33), payload), BASE), {
    codec: 'hevc', keyframe: false, config: false, endOfSequence: false, cts: -33, dataOffset: 8,
  });
  t.like(parseVideoTagBody(b(exV(1, 1), 'avc1', si24(66), payload), BASE), { codec: 'avc', keyframe: true, cts: 66, dataOffset: 8 });
});

test('av01, vp09, vp08: CodedFrames carry no composition time', (t) => {
  t.like(parseVideoTagBody(b(exV(1, 0), 'av01', payload), BASE), { codec: 'av1', config: true, keyframe: true, dataOffset: 5 });
  t.deepEqual(parseVideoTagBody(b(exV(1, 1), 'av01', payload), BASE), {
    codec: 'av1', keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.like(parseVideoTagBody(b(exV(2, 1), 'vp09', payload), BASE), { codec: 'vp9', keyframe: false, cts: 0, dataOffset: 5 });
  t.like(parseVideoTagBody(b(exV(1, 0), 'vp08', payload), BASE), { codec: 'vp8', config: true });
});

test('CodedFramesX: cts 0, no SI24 on the wire', (t) => {
  t.deepEqual(parseVideoTagBody(b(exV(2, 3), 'hvc1', payload), BASE), {
    codec: 'hevc', keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.like(parseVideoTagBody(b(exV(1, 3), 'avc1', payload), BASE), { codec: 'avc', keyframe: true, dataOffset: 5 });
});

test('SequenceEnd', (t) => {
  t.deepEqual(parseVideoTagBody(b(exV(1, 2), 'av01'), BASE), {
    codec: 'av1', keyframe: true, config: false, endOfSequence: true, cts: 0, dataOffset: 5,
  });
});

test('Metadata: neither config nor frame; FrameType ignored', (t) => {
  const amf = b([0x02, 0x00, 0x09], 'colorInfo', [0x03, 0x00, 0x00, 0x09]);
  t.deepEqual(parseVideoTagBody(b(exV(1, 4), 'hvc1', amf), BASE), {
    codec: 'hevc', keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.like(parseVideoTagBody(b(exV(0, 4), 'av01', amf), BASE), { keyframe: false, config: false }, 'reserved FrameType 0 is ignored');
});

test('ModEx TimestampOffsetNano then CodedFrames', (t) => {
  // size-1 = 2 → 3 bytes of data (100000 ns), then ModExType 0 | next packet type CodedFrames.
  const body = b(exV(1, 7), [2, 0x01, 0x86, 0xa0], [(0 << 4) | 1], 'hvc1', si24(33), payload);
  t.deepEqual(parseVideoTagBody(body, BASE), {
    codec: 'hevc', keyframe: true, config: false, endOfSequence: false, cts: 33, dataOffset: 13, timestampOffsetNano: 100000,
  });
});

test('ModEx chain: 16-bit size, unknown ModEx type skipped, then CodedFramesX', (t) => {
  const big = Buffer.alloc(300, 0x55);
  big.writeUIntBE(999_999, 0, 3);
  const body = b(
    exV(2, 7),
    [0xff, 0x01, 0x2b], big, [(0 << 4) | 7], // 0xFF escape, UI16 299 → 300 bytes; next: ModEx again
    [0], [0x42], [(5 << 4) | 3], // 1 byte of an unknown ModEx type 5; next: CodedFramesX
    'vp09', payload,
  );
  t.deepEqual(parseVideoTagBody(body, BASE), {
    codec: 'vp9', keyframe: false, config: false, endOfSequence: false, cts: 0,
    dataOffset: 1 + 3 + 300 + 1 + 1 + 1 + 1 + 4, timestampOffsetNano: 999_999,
  });
});

test('ModEx on audio', (t) => {
  const body = b(exA(7), [2, 0, 0, 7], [(0 << 4) | 1], 'Opus', payload);
  t.deepEqual(parseAudioTagBody(body, BASE), {
    codec: 'opus', keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 10, timestampOffsetNano: 7,
  });
});

test('ModEx errors: truncated data, short TimestampOffsetNano', (t) => {
  const truncated = t.throws(() => parseVideoTagBody(b(exV(1, 7), [9, 1, 2]), BASE), { instanceOf: FlvTagBodyError });
  t.is(truncated.offset, BASE + 2);
  t.regex(truncated.message, /10 bytes of ModEx data/);
  t.throws(() => parseVideoTagBody(b(exV(1, 7), [0xff, 0x01]), BASE), { instanceOf: FlvTagBodyError, message: /16-bit/ });
  t.throws(() => parseVideoTagBody(b(exV(1, 7), [2, 0, 0, 1]), BASE), {
    instanceOf: FlvTagBodyError, message: /ModEx type and next packet type/,
  });
  const short = t.throws(() => parseVideoTagBody(b(exV(1, 7), [0, 5], [(0 << 4) | 1], 'hvc1', si24(0)), BASE), {
    instanceOf: FlvTagBodyError,
  });
  t.regex(short.message, /TimestampOffsetNano needs at least 3/);
  t.is(short.offset, BASE + 1);
});

test('unknown FourCC is FlvUnsupportedError naming it', (t) => {
  const v = t.throws(() => parseVideoTagBody(b(exV(1, 1), 'xyz1', si24(0)), BASE), { instanceOf: FlvUnsupportedError });
  t.regex(v.message, /"xyz1"/);
  t.is(v.offset, BASE + 1);
  t.is(v.code, 'WSFLV_ERR_FLV_UNSUPPORTED');
  const a = t.throws(() => parseAudioTagBody(b(exA(1), 'vorb'), BASE), { instanceOf: FlvUnsupportedError });
  t.regex(a.message, /"vorb"/);
});

test('Enhanced video: command frame, MPEG2TSSequenceStart, reserved types, short bodies', (t) => {
  // Command frames carry a VideoCommand byte and no FourCC.
  t.deepEqual(parseVideoTagBody(b(exV(5, 0), [1]), BASE), {
    codec: 'unknown', keyframe: false, config: false, endOfSequence: false, cts: 0, dataOffset: 1,
  });
  t.throws(() => parseVideoTagBody(b(exV(1, 5), 'av01', payload), BASE), { instanceOf: FlvUnsupportedError, message: /MPEG2TSSequenceStart/ });
  t.throws(() => parseVideoTagBody(b(exV(1, 8), 'hvc1'), BASE), { instanceOf: FlvUnsupportedError, message: /reserved VideoPacketType 8/ });
  t.throws(() => parseVideoTagBody(b(exV(0, 1), 'hvc1', si24(0)), BASE), { instanceOf: FlvTagBodyError, message: /frame type 0/ });
  const noFourcc = t.throws(() => parseVideoTagBody(b(exV(1, 0), 'hv'), BASE), { instanceOf: FlvTagBodyError });
  t.is(noFourcc.offset, BASE + 1);
  t.regex(noFourcc.message, /FourCC/);
  const noCts = t.throws(() => parseVideoTagBody(b(exV(1, 1), 'hvc1', [0, 0]), BASE), { instanceOf: FlvTagBodyError });
  t.is(noCts.offset, BASE + 5);
});

test('video multitrack: OneTrack parsed with trackId, many-track forms rejected by name', (t) => {
  // Multitrack | OneTrack(0) << 4 | CodedFrames, FourCC, trackId, SI24 cts.
  t.deepEqual(parseVideoTagBody(b(exV(1, 6), [(0 << 4) | 1], 'hvc1', [3], si24(20), payload), BASE), {
    codec: 'hevc', keyframe: true, config: false, endOfSequence: false, cts: 20, dataOffset: 10, trackId: 3,
  });
  t.like(parseVideoTagBody(b(exV(1, 6), [(0 << 4) | 0], 'av01', [0], payload), BASE), { config: true, trackId: 0, dataOffset: 7 });
  for (const type of [1, 2]) {
    const e = t.throws(() => parseVideoTagBody(b(exV(1, 6), [(type << 4) | 1], 'hvc1', [0, 0, 0, 9]), BASE), {
      instanceOf: FlvUnsupportedError,
    });
    t.regex(e.message, /multitrack/);
    t.is(e.offset, BASE + 1);
  }
  t.throws(() => parseVideoTagBody(b(exV(1, 6), [(0 << 4) | 6], 'hvc1'), BASE), { instanceOf: FlvTagBodyError, message: /multitrack/ });
  t.throws(() => parseVideoTagBody(b(exV(1, 6), [(0 << 4) | 1], 'hvc1'), BASE), { instanceOf: FlvTagBodyError, message: /track id/ });
  // ModEx comes before the multitrack framing.
  t.like(parseVideoTagBody(b(exV(1, 7), [2, 0, 0, 1], [(0 << 4) | 6], [(0 << 4) | 3], 'avc1', [7], payload), BASE), {
    codec: 'avc', trackId: 7, timestampOffsetNano: 1, dataOffset: 12,
  });
});

// ---------------------------------------------------------------------------------------------
// Enhanced RTMP audio

test('Opus SequenceStart and CodedFrames', (t) => {
  const opusHead = b('OpusHead', [1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
  t.deepEqual(parseAudioTagBody(b(exA(0), 'Opus', opusHead), BASE), {
    codec: 'opus', keyframe: true, config: true, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.deepEqual(parseAudioTagBody(b(exA(1), 'Opus', payload), BASE), {
    codec: 'opus', keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 5,
  });
  t.like(parseAudioTagBody(b(exA(2), 'Opus'), BASE), { endOfSequence: true, config: false });
});

test('audio FourCCs', (t) => {
  const expected: Array<[string, string]> = [['Opus', 'opus'], ['fLaC', 'flac'], ['mp4a', 'aac'], ['ac-3', 'ac3'], ['ec-3', 'eac3'], ['.mp3', 'mp3']];
  for (const [fourcc, codec] of expected) t.is(parseAudioTagBody(b(exA(1), fourcc, payload), BASE).codec, codec as never);
});

test('audio MultichannelConfig and reserved packet types are rejected by name', (t) => {
  const mc = t.throws(() => parseAudioTagBody(b(exA(4), 'Opus', [1, 2, 0, 0, 0, 3]), BASE), { instanceOf: FlvUnsupportedError });
  t.regex(mc.message, /multichannel config/);
  t.is(mc.offset, BASE);
  t.throws(() => parseAudioTagBody(b(exA(3), 'Opus'), BASE), { instanceOf: FlvUnsupportedError, message: /reserved AudioPacketType 3/ });
});

test('audio multitrack: OneTrack parsed, many-track forms rejected', (t) => {
  t.deepEqual(parseAudioTagBody(b(exA(5), [(0 << 4) | 1], 'mp4a', [2], payload), BASE), {
    codec: 'aac', keyframe: true, config: false, endOfSequence: false, cts: 0, dataOffset: 7, trackId: 2,
  });
  const many = t.throws(() => parseAudioTagBody(b(exA(5), [(2 << 4) | 1], 'Opus', [0, 0, 0, 4], payload), BASE), {
    instanceOf: FlvUnsupportedError,
  });
  t.regex(many.message, /multitrack type ManyTracksManyCodecs/);
  t.throws(() => parseAudioTagBody(b(exA(5), [(1 << 4) | 0], 'Opus', [0, 0, 0, 4], payload), BASE), {
    instanceOf: FlvUnsupportedError, message: /multitrack type ManyTracks /,
  });
  t.throws(() => parseAudioTagBody(b(exA(5), [(0 << 4) | 4], 'Opus', [0]), BASE), { instanceOf: FlvUnsupportedError, message: /multichannel config/ });
  t.throws(() => parseAudioTagBody(b(exA(5), [(0 << 4) | 5]), BASE), { instanceOf: FlvTagBodyError, message: /multitrack/ });
});
